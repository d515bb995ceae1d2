#include "http/backend_reply.hpp"

#include <algorithm>
#include <string>

#include "http/json_check.hpp"
#include "http/text.hpp"

namespace sova::http {

namespace {

enum class shape { not_json, asr, tts, other_json };

/// The service whose reply `body` looks like; one pass, nothing built.
shape shape_of(std::string_view body) {
  json_type root = json_type::null;
  bool r_array = false, response_code = false;
  auto member = [&](const json_member& m) {
    // A key with escapes is compared as written: SOVA's keys never have any.
    if (m.raw_key == "r") r_array = m.type == json_type::array;
    if (m.raw_key == "response_code") response_code = true;
  };
  if (!is_json(body, root, member)) return shape::not_json;
  if (root != json_type::object) return shape::other_json;
  if (r_array) return shape::asr;
  if (response_code) return shape::tts;
  return shape::other_json;
}

std::string_view display_name(net::service service) {
  return service == net::service::asr ? "SOVA ASR" : "SOVA TTS";
}

std::string_view served_path(net::service service) {
  return service == net::service::asr ? "POST /asr" : "POST /synthesize/";
}

std::string_view other_service(net::service service) {
  return service == net::service::asr ? "TTS" : "ASR";
}

}  // namespace

std::optional<std::string> unusable_reply(net::service service, unsigned status,
                                          std::string_view content_type, std::string_view body) {
  auto got = shape_of(body);
  auto wanted = service == net::service::asr ? shape::asr : shape::tts;
  if (status == 200 && got == wanted) return std::nullopt;
  std::string out = "answered " + std::to_string(status);
  if (!content_type.empty()) out += " (" + shown(content_type) + ")";
  if (body.empty())
    out += " with no body";
  else if (got == shape::not_json)
    out += " \"" + shown(body, 120) + "\"";
  else if (status == 200)
    out += " JSON that is not a " + std::string(display_name(service)) + " reply \"" +
           shown(body, 120) + "\"";
  else
    out += " \"" + shown(body, 120) + "\"";
  bool other_shape = got != wanted && (got == shape::asr || got == shape::tts);
  if (status == 404 || status == 405 || other_shape)
    out += "; " + std::string(display_name(service)) + " serves " +
           std::string(served_path(service)) + ": is that the " +
           std::string(other_service(service)) + " port?";
  return out;
}

std::optional<std::chrono::milliseconds> busy_reply(unsigned status, std::string_view retry_after,
                                                    std::chrono::milliseconds longest) {
  if (status != 429 && !(status == 503 && !retry_after.empty())) return std::nullopt;
  auto seconds = header_number(retry_after);
  std::chrono::milliseconds wait = std::chrono::seconds(seconds ? static_cast<long>(*seconds) : 1);
  return std::min(wait, longest);
}

std::optional<unsigned> told_workers(std::string_view header_value, unsigned most) {
  auto n = header_number(header_value);
  if (!n || *n < 1) return std::nullopt;
  return static_cast<unsigned>(std::min<unsigned long>(*n, most));
}

}  // namespace sova::http
