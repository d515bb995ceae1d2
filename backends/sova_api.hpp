#pragma once
// The JSON of SOVA ASR and SOVA TTS (shared/API.md) as the reference backends speak it:
// reading a TTS request, writing TTS and ASR replies. Pure code.

#include <string>
#include <string_view>
#include <vector>

#include "backends/asr_engine.hpp"
#include "backends/tts_engine.hpp"

namespace sova::backends {

/// Reads {"text", "voice"?, "rate"?, "pitch"?, "volume"?}. On a bad request returns false
/// with the reason in `error` (not JSON, no string text, a number that is not a number).
bool parse_tts_request(std::string_view body, tts_params& out, std::string& error);

/// {"response_code": 0, "response": [{"voice", "sample_rate", "duration_s",
/// "synthesis_time", "response_audio"}]} with the WAV in base64.
std::string tts_reply(const std::string& voice, const tts_result& r, double synthesis_time_s);

/// {"response_code": 1, "response": message}: how SOVA TTS reports a failed synthesis.
std::string tts_error_reply(std::string_view message);

/// One element of "r": {"response_code": 0, "response": [{"text", "time", "confidence",
/// "duration_s", "words": [{"word", "start", "end", "confidence"}]}]}, or on failure
/// {"response_code": 1, "response": message}.
std::string asr_element(const asr_result& r, double recognition_time_s);
std::string asr_error_element(std::string_view message);

/// {"r": [elements...]}: the elements are JSON texts made by asr_element.
std::string asr_reply(const std::vector<std::string>& elements);

}  // namespace sova::backends
