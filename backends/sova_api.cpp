#include "backends/sova_api.hpp"

#include <cmath>
#include <optional>

#include <nlohmann/json.hpp>

#include "http/base64.hpp"
#include "http/numeric_text.hpp"

namespace sova::backends {
namespace {

using json = nlohmann::ordered_json;  // keys in the order API.md shows them

// Reads an optional number field; false (with the reason) when present but neither a
// number nor a string python_float reads.
bool read_number(const json& j, const char* key, double& out, std::string& error) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return true;
  std::optional<double> value;
  if (it->is_number())
    value = it->get<double>();
  else if (it->is_string())
    value = http::python_float(it->get_ref<const std::string&>());
  if (!value) {
    error = std::string("\"") + key + "\" must be a number";
    return false;
  }
  out = *value;
  return true;
}

// Seconds rounded to milliseconds: more digits say nothing and bloat every reply.
double ms(double seconds) { return std::round(seconds * 1000) / 1000; }

}  // namespace

bool parse_tts_request(std::string_view body, tts_params& out, std::string& error) {
  auto j = json::parse(body, nullptr, false);
  if (j.is_discarded() || !j.is_object()) {
    error = "the body must be a JSON object";
    return false;
  }
  auto text = j.find("text");
  if (text == j.end() || !text->is_string()) {
    error = "\"text\" must be a string";
    return false;
  }
  out.text = text->get<std::string>();
  if (auto voice = j.find("voice"); voice != j.end() && !voice->is_null()) {
    if (!voice->is_string()) {
      error = "\"voice\" must be a string";
      return false;
    }
    out.voice = voice->get<std::string>();
  }
  return read_number(j, "rate", out.rate, error) && read_number(j, "pitch", out.pitch, error) &&
         read_number(j, "volume", out.volume, error);
}

std::string tts_reply(const std::string& voice, const tts_result& r, double synthesis_time_s,
                      std::string_view audio_url, std::string_view wav) {
  json element = {{"voice", voice},
                  {"sample_rate", r.sample_rate},
                  {"duration_s", ms(r.duration_s)},
                  {"synthesis_time", ms(synthesis_time_s)},
                  {"response_audio_url", std::string(audio_url)},
                  {"response_audio", http::base64_encode(wav)}};
  json reply = {{"response_code", 0}, {"response", json::array({std::move(element)})}};
  return reply.dump(-1, ' ', false, json::error_handler_t::replace);
}

std::string tts_error_reply(std::string_view message) {
  json reply = {{"response_code", 1}, {"response", std::string(message)}};
  return reply.dump(-1, ' ', false, json::error_handler_t::replace);
}

std::string asr_element(const asr_result& r, double recognition_time_s,
                        std::string_view audio_url) {
  if (!r.ok) return asr_error_element(r.error);
  json words = json::array();
  for (const auto& w : r.words)
    words.push_back({{"word", w.word},
                     {"start", ms(w.start_s)},
                     {"end", ms(w.end_s)},
                     {"confidence", ms(w.confidence)}});
  json text = {{"text", r.text},
               {"time", ms(recognition_time_s)},
               {"confidence", ms(r.confidence)},
               {"duration_s", ms(r.duration_s)},
               {"words", std::move(words)}};
  json element = {{"response_audio_url", std::string(audio_url)},
                  {"response_code", 0},
                  {"response", json::array({std::move(text)})}};
  return element.dump(-1, ' ', false, json::error_handler_t::replace);
}

std::string asr_error_element(std::string_view message) {
  json element = {
      {"response_audio_url", nullptr}, {"response_code", 1}, {"response", std::string(message)}};
  return element.dump(-1, ' ', false, json::error_handler_t::replace);
}

std::string asr_reply(const std::vector<std::string>& elements) {
  std::string out = "{\"r\":[";
  for (std::size_t i = 0; i < elements.size(); ++i) {
    if (i > 0) out += ',';
    out += elements[i];
  }
  out += "]}";
  return out;
}

}  // namespace sova::backends
