#pragma once
// POST /v1/audio/speech on a node: OpenAI's JSON request checked and turned into the
// SOVA TTS request a backend takes ({"text", "voice", "rate"}), and the WAV of SOVA's
// reply taken out for conversion to the asked format. Pure code (the conversion itself
// is backends/audio_encode).
//
// Fields: `input` (required, 1 to max_input_chars characters), `voice` (required: a
// SOVA voice by name, or one of OpenAI's, mapped by openai_voice_to_sova), `speed`
// (0.25 to 4.0, SOVA's `rate`), `response_format` (mp3 by default, as OpenAI's; wav,
// pcm, flac, opus; aac is refused), `model` (openai/models.hpp), `instructions`
// (accepted, not used), `stream_format` (audio only).

#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include "http/server.hpp"
#include "net/service_kind.hpp"

namespace sova::openai {

enum class speech_format { mp3, opus, flac, wav, pcm };

/// OpenAI's limit on `input`, in characters (Unicode code points).
inline constexpr std::size_t max_input_chars = 4096;
/// Larger speech bodies are refused before parsing (413): a body with the longest input,
/// escaped, fits well below.
inline constexpr std::size_t max_speech_body = 64 * 1024;

struct speech_request {
  net::wanted_kind kind = net::wanted_kind::any;  // backend kind
  speech_format format = speech_format::mp3;
  std::string sova_body;  // {"text", "voice"[, "rate"]}
};

/// The SOVA voice for one of OpenAI's voice names: Natasha for alloy, coral, marin, nova,
/// sage, shimmer; Ruslan for ash, ballad, cedar, echo, fable, onyx, verse; nothing for
/// any other name (which goes to the backend as it is).
std::optional<std::string_view> openai_voice_to_sova(std::string_view voice);

/// The SOVA request for an OpenAI speech request; nothing, with an OpenAI error reply
/// (400 naming the field in `param`, or 413) in `error`, when it is malformed.
std::optional<speech_request> parse_speech_request(std::string_view body,
                                                   net::wanted_kind fallback_kind,
                                                   http::response* error);

/// The Content-Type of a reply in `f`.
std::string_view speech_content_type(speech_format f);

/// The WAV file of a SOVA TTS reply as the request path answered it, or the OpenAI error
/// to send instead: the node's errors translated, a backend's refusal (response_code 1:
/// unknown voice, ...) as 400 with the backend's message, a reply without audio as 502.
std::variant<std::string, http::response> sova_speech_wav(http::response sova);

}  // namespace sova::openai
