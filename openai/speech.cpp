#include "openai/speech.hpp"

#include <array>
#include <cmath>

#include <nlohmann/json.hpp>

#include "http/sova_reply.hpp"
#include "http/text.hpp"
#include "openai/errors.hpp"
#include "openai/models.hpp"

namespace sova::openai {

namespace {

using json = nlohmann::json;

std::optional<speech_format> format_named(std::string_view s) {
  if (s == "mp3") return speech_format::mp3;
  if (s == "opus") return speech_format::opus;
  if (s == "flac") return speech_format::flac;
  if (s == "wav") return speech_format::wav;
  if (s == "pcm") return speech_format::pcm;
  return std::nullopt;
}

/// Code points of valid UTF-8 (nlohmann only lets valid UTF-8 through).
std::size_t code_points(std::string_view s) {
  std::size_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80;
  return n;
}

const char* kind_name(const json& v) {
  switch (v.type()) {
    case json::value_t::null: return "null";
    case json::value_t::boolean: return "a boolean";
    case json::value_t::string: return "a string";
    case json::value_t::object: return "an object";
    case json::value_t::array: return "an array";
    default: return "a number";
  }
}

struct voice_map {
  std::string_view openai;
  std::string_view sova;
};
constexpr std::array<voice_map, 13> openai_voices{{
    {"alloy", "Natasha"}, {"coral", "Natasha"}, {"marin", "Natasha"}, {"nova", "Natasha"},
    {"sage", "Natasha"},  {"shimmer", "Natasha"}, {"ash", "Ruslan"},  {"ballad", "Ruslan"},
    {"cedar", "Ruslan"},  {"echo", "Ruslan"},    {"fable", "Ruslan"}, {"onyx", "Ruslan"},
    {"verse", "Ruslan"},
}};

}  // namespace

std::optional<std::string_view> openai_voice_to_sova(std::string_view voice) {
  for (const auto& v : openai_voices)
    if (v.openai == voice) return v.sova;
  return std::nullopt;
}

std::optional<speech_request> parse_speech_request(std::string_view body,
                                                   net::wanted_kind fallback_kind,
                                                   http::response* error) {
  if (body.size() > max_speech_body)
    return refuse(error, "too_large",
                  "a speech request is at most " + std::to_string(max_speech_body / 1024) +
                      " KiB of JSON",
                  "", 413);
  auto j = json::parse(body, nullptr, false);
  if (j.is_discarded())
    return refuse(error, "invalid_json", "the body is not valid JSON (UTF-8)", "");
  if (!j.is_object()) return refuse(error, "invalid_json", "the body must be a JSON object", "");
  // Each field: absent is fine unless required; present must have the right kind.
  auto string_field = [&](const char* name, std::string* into) -> std::optional<std::string> {
    auto it = j.find(name);
    if (it == j.end()) return std::nullopt;
    if (!it->is_string()) return std::string("\"") + name + "\" must be a string, got " + kind_name(*it);
    *into = it->get<std::string>();
    return std::nullopt;
  };
  std::string model, input, voice, format = "mp3", instructions, stream_format = "audio";
  const char* names[] = {"model", "input", "voice", "response_format", "instructions",
                         "stream_format"};
  std::string* intos[] = {&model, &input, &voice, &format, &instructions, &stream_format};
  for (std::size_t i = 0; i < 6; ++i)
    if (auto bad = string_field(names[i], intos[i]))
      return refuse(error, "invalid_type", *bad, names[i]);
  if (!j.contains("input"))
    return refuse(error, "missing_required_parameter", "the JSON object has no \"input\" field",
                  "input");
  if (input.empty()) return refuse(error, "invalid_value", "\"input\" is empty", "input");
  if (code_points(input) > max_input_chars)
    return refuse(error, "invalid_value",
                  "\"input\" is longer than " + std::to_string(max_input_chars) + " characters",
                  "input");
  if (voice.empty())
    return refuse(error, "missing_required_parameter",
                  "\"voice\" is missing or empty: name a SOVA voice (Natasha, Ruslan, ...) or "
                  "one of OpenAI's (alloy, echo, ...)",
                  "voice");
  auto f = format_named(format);
  if (!f)
    return refuse(error, format == "aac" ? "unsupported_value" : "invalid_value",
                  "response_format '" + http::shown(format) +
                      "' is not one of mp3, opus, flac, wav, pcm (aac is not offered)",
                  "response_format");
  if (stream_format != "audio")
    return refuse(error, "unsupported_value", "stream_format must be audio (sse is not offered)",
                  "stream_format");
  json sova = {{"text", input}, {"voice", voice}};
  if (auto v = openai_voice_to_sova(voice)) sova["voice"] = std::string(*v);
  if (auto s = j.find("speed"); s != j.end()) {
    if (!s->is_number())
      return refuse(error, "invalid_type",
                    std::string("\"speed\" must be a number, got ") + kind_name(*s), "speed");
    double speed = s->get<double>();
    if (!(speed >= 0.25 && speed <= 4.0))
      return refuse(error, "invalid_value", "\"speed\" must be from 0.25 to 4.0", "speed");
    sova["rate"] = speed;
  }
  auto kind = kind_for_model(net::service::tts, model, fallback_kind, error);
  if (!kind) return std::nullopt;
  speech_request out;
  out.kind = *kind;
  out.format = *f;
  out.sova_body = sova.dump();
  return out;
}

std::string_view speech_content_type(speech_format f) {
  switch (f) {
    case speech_format::mp3: return "audio/mpeg";
    case speech_format::opus: return "audio/ogg";
    case speech_format::flac: return "audio/flac";
    case speech_format::wav: return "audio/wav";
    case speech_format::pcm: return "audio/pcm";
  }
  return "application/octet-stream";
}

std::variant<std::string, http::response> sova_speech_wav(http::response sova) {
  if (sova.status != 200) return as_openai_error(std::move(sova));
  auto body = json::parse(sova.body, nullptr, false);
  if (!body.is_object())
    return error_reply(502, "bad_backend_reply", "the TTS backend's reply is not a JSON object");
  auto code = body.find("response_code");
  if (code != body.end() && !(code->is_number() && code->get<double>() == 0)) {
    auto r = body.find("response");
    auto what = r != body.end() && r->is_string() ? r->get<std::string>()
                                                  : std::string("no reason given");
    return error_reply(400, "backend_refused",
                       "the TTS backend refused the request: " + http::shown(what, 300));
  }
  auto audio = http::tts_audio_of(body);
  if (!audio.failure.empty()) return error_reply(502, "bad_backend_reply", audio.failure);
  return std::move(audio.bytes);
}

}  // namespace sova::openai
