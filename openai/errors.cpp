#include "openai/errors.hpp"

#include <string>

#include <nlohmann/json.hpp>

namespace sova::openai {

using json = nlohmann::json;

std::string_view error_type(unsigned status) {
  if (status == 429) return "rate_limit_error";
  if (status >= 400 && status < 500) return "invalid_request_error";
  return "server_error";
}

http::response error_reply(unsigned status, std::string_view code, std::string_view message,
                           std::string_view param) {
  json error = {{"message", message},
                {"type", error_type(status)},
                {"param", param.empty() ? json(nullptr) : json(param)},
                {"code", code}};
  http::response r;
  r.status = status;
  // The messages quote client input through http::shown, so they are valid UTF-8; replace
  // anything else rather than throw.
  r.body = json{{"error", std::move(error)}}.dump(-1, ' ', false, json::error_handler_t::replace);
  return r;
}

http::response as_openai_error(http::response r) {
  if (r.status >= 200 && r.status < 300) return r;
  std::string code = "upstream_error";
  std::string message = "the request failed with HTTP status " + std::to_string(r.status);
  auto body = json::parse(r.body, nullptr, false);
  if (body.is_object() && body.contains("error") && body["error"].is_object()) {
    const auto& e = body["error"];
    if (e.contains("type")) return r;  // already OpenAI's shape
    if (e.contains("code") && e["code"].is_string()) code = e["code"].get<std::string>();
    if (e.contains("message") && e["message"].is_string())
      message = e["message"].get<std::string>();
  }
  auto out = error_reply(r.status, code, message);
  out.headers = std::move(r.headers);
  return out;
}

std::nullopt_t refuse(http::response* error, std::string_view code, std::string_view message,
                      std::string_view param, unsigned status) {
  if (error) *error = error_reply(status, code, message, param);
  return std::nullopt;
}

}  // namespace sova::openai
