#pragma once
// The JSON of SOVA ASR and SOVA TTS (shared/API.md) as the reference backends speak it:
// reading a TTS request, writing TTS and ASR replies. Pure code.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "backends/asr_engine.hpp"
#include "backends/tts_engine.hpp"

namespace sova::backends {

/// Reads {"text", "voice"?, "rate"?, "pitch"?, "volume"?}; rate, pitch and volume may be
/// numbers or strings http::python_float reads. On a bad request returns false with the reason
/// in `error` (not JSON, no string text, a number that is not a number).
bool parse_tts_request(std::string_view body, tts_params& out, std::string& error);

/// {"response_code": 0, "response": [{"voice", "sample_rate", "duration_s",
/// "synthesis_time", "response_audio_url", "response_audio"}]}. `wav` is r's samples as
/// a WAV file (encode_wav), sent in base64; `audio_url` the path it is served under.
std::string tts_reply(const std::string& voice, const tts_result& r, double synthesis_time_s,
                      std::string_view audio_url, std::string_view wav);

/// {"response_code": 1, "response": message}: how SOVA TTS reports a failed synthesis.
std::string tts_error_reply(std::string_view message);

/// One element of "r": {"response_audio_url", "response_code": 0, "response": [{"text",
/// "time", "confidence", "duration_s", "words": [{"word", "start", "end", "confidence"}]}]},
/// `audio_url` being the path the recognised audio is served under; or on failure
/// {"response_audio_url": null, "response_code": 1, "response": message}.
std::string asr_element(const asr_result& r, double recognition_time_s,
                        std::string_view audio_url);
std::string asr_error_element(std::string_view message);

/// {"r": [elements...]}: the elements are JSON texts made by asr_element.
std::string asr_reply(const std::vector<std::string>& elements);

}  // namespace sova::backends
