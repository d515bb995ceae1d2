#include "serving/openai_requests.hpp"

#include <variant>

#include "backends/audio_encode.hpp"
#include "openai/errors.hpp"
#include "openai/speech.hpp"
#include "openai/transcription.hpp"

namespace sova::serving {

namespace {

backends::audio_container container_of(openai::speech_format f) {
  switch (f) {
    case openai::speech_format::flac: return backends::audio_container::flac;
    case openai::speech_format::opus: return backends::audio_container::ogg_opus;
    case openai::speech_format::mp3: return backends::audio_container::mp3;
    default: return backends::audio_container::pcm_s16le;
  }
}

/// The speech reply: the backend's WAV as it is, or converted (some milliseconds of CPU
/// per second of speech, on the thread that completes the request).
http::response speech_reply(openai::speech_format format, http::response sova) {
  auto wav = openai::sova_speech_wav(std::move(sova));
  if (auto* error = std::get_if<http::response>(&wav)) return std::move(*error);
  http::response r;
  r.content_type = std::string(openai::speech_content_type(format));
  if (format == openai::speech_format::wav) {
    r.body = std::move(std::get<std::string>(wav));
    return r;
  }
  auto encoded = backends::encode_audio(std::get<std::string>(wav), container_of(format));
  if (!encoded.ok) return openai::error_reply(502, "encoding_failed", encoded.error);
  r.body = std::move(encoded.bytes);
  return r;
}

}  // namespace

std::optional<openai_job> openai_job_for(const http::route& route, std::string_view content_type,
                                         std::string_view body, http::response* error) {
  openai_job job;
  if (route.kind == http::route_kind::openai_transcriptions) {
    auto req = openai::parse_transcription_request(content_type, body, route.wanted, error);
    if (!req) return std::nullopt;
    job.service = net::service::asr;
    job.wanted = req->kind;
    job.content_type = std::move(req->sova_content_type);
    job.body = std::move(req->sova_body);
    job.translate = [options = std::move(req->options)](http::response r) {
      return openai::translate_transcription_reply(options, std::move(r));
    };
    return job;
  }
  if (route.kind == http::route_kind::openai_speech) {
    auto req = openai::parse_speech_request(body, route.wanted, error);
    if (!req) return std::nullopt;
    job.service = net::service::tts;
    job.wanted = req->kind;
    job.content_type = "application/json";
    job.body = std::move(req->sova_body);
    job.translate = [format = req->format](http::response r) {
      return speech_reply(format, std::move(r));
    };
    return job;
  }
  if (error) *error = openai::error_reply(404, "not_found", "not an OpenAI audio request");
  return std::nullopt;
}

http::response openai_error_of(http::response r) { return openai::as_openai_error(std::move(r)); }

}  // namespace sova::serving
