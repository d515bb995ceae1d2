#include "http/reservation.hpp"

#include <algorithm>
#include <utility>

#include <nlohmann/json.hpp>

#include "http/text.hpp"

namespace sova::http {

namespace {

using json = nlohmann::json;

constexpr std::string_view id_rule = "1-64 characters of 0-9 A-Z a-z _ -";
// Our answers are tiny; a larger body is someone else's page, never parsed into a tree.
constexpr std::size_t max_answer_parsed = 64 * 1024;

bool id_char(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
         c == '_' || c == '-';
}

std::string path_of(std::string_view target) {
  return std::string(target.substr(0, target.find('?')));
}

response bad_field(const std::string& message) {
  return error_response(400, "bad_request", message);
}

/// The string member `name` of `body`, or the 400 saying it is missing or not a string.
std::optional<std::string> string_member(const json& body, const char* name, response* error) {
  auto it = body.find(name);
  if (it == body.end() || !it->is_string()) {
    if (error)
      *error = bad_field(std::string("the JSON object needs a string \"") + name + "\" field");
    return std::nullopt;
  }
  return it->get<std::string>();
}

std::optional<reservation_ask> refuse(response* error, response reply) {
  if (error) *error = std::move(reply);
  return std::nullopt;
}

/// Retry-After as delta-seconds; 1 s when absent or not a number (an HTTP date), at most
/// the longest a reservation may wait.
std::chrono::milliseconds retry_after_of(std::string_view value) {
  auto seconds = header_number(value);
  std::chrono::milliseconds wait = std::chrono::seconds(seconds ? static_cast<long>(*seconds) : 1);
  return std::min(wait, max_reservation_timeout);
}

/// "answered 404 (text/html) "<!doctype ...": what came back, for a reason.
std::string what_came_back(const client_response& resp) {
  auto type = resp.header("Content-Type");
  std::string out = "answered " + std::to_string(resp.status) + " (" +
                    (type.empty() ? std::string("no Content-Type") : shown(type)) + ")";
  out += resp.body.empty() ? std::string(" with no body") : " \"" + shown(resp.body) + "\"";
  return out;
}

/// The string member `name` of the object `j`, or "" when it has none.
std::string text_member(const json& j, const char* name) {
  auto it = j.find(name);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

reservation_reading reading(reservation_status status, std::string reason, bool from_a_node) {
  reservation_reading r;
  r.status = status;
  r.reason = std::move(reason);
  r.answered = true;
  r.from_a_node = from_a_node;
  return r;
}

}  // namespace

bool valid_reservation_id(std::string_view id) {
  return !id.empty() && id.size() <= max_reservation_id_size &&
         std::all_of(id.begin(), id.end(), id_char);
}

std::string make_reservation_id(std::uint64_t random) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string out(16, '0');
  for (int i = 15; i >= 0; --i, random >>= 4) out[static_cast<std::size_t>(i)] = digits[random & 0xf];
  return out;
}

client_request reservation_post(const reservation_ask& ask, std::string_view via) {
  client_request out;
  out.method = "POST";
  out.target = std::string(reservations_path);
  if (!via.empty()) out.headers.emplace_back("Via", std::string(via));
  out.content_type = "application/json";
  out.body = json{{"id", ask.id},
                  {"service", net::to_string(ask.service)},
                  {"backend", net::to_string(ask.wanted)},
                  {"timeout_ms", ask.timeout.count()}}
                 .dump(-1, ' ', false, json::error_handler_t::replace);  // never throws
  out.timeout = ask.timeout + reservation_answer_margin;
  out.follow_redirect = false;  // a node answers this path itself
  return out;
}

std::optional<reservation_ask> parse_reservation_post(std::string_view body, response* error) {
  if (body.size() > max_reservation_body)
    return refuse(error, error_response(413, "too_large",
                                        "a reservation's body is at most " +
                                            std::to_string(max_reservation_body) + " bytes"));
  // nlohmann's lexer takes a NUL for the end of input: what follows would go unread.
  auto parsed = body.find('\0') == std::string_view::npos
                    ? json::parse(body.begin(), body.end(), nullptr, false)
                    : json(json::value_t::discarded);
  if (parsed.is_discarded() || !parsed.is_object())
    return refuse(error, error_response(400, "bad_json",
                                        "a reservation is a JSON object {\"id\", \"service\", "
                                        "\"backend\", \"timeout_ms\"}"));
  reservation_ask ask;
  auto id = string_member(parsed, "id", error);
  if (!id) return std::nullopt;
  if (!valid_reservation_id(*id))
    return refuse(error, bad_field("\"id\" '" + shown(*id) + "' is not " + std::string(id_rule)));
  ask.id = std::move(*id);
  auto service = string_member(parsed, "service", error);
  if (!service) return std::nullopt;
  auto s = net::parse_service(*service);
  if (!s)
    return refuse(error, bad_field("\"service\" '" + shown(*service) + "' is not one of asr, tts"));
  ask.service = *s;
  auto backend = string_member(parsed, "backend", error);
  if (!backend) return std::nullopt;
  auto wanted = net::parse_wanted_kind(*backend);
  if (!wanted)
    return refuse(error,
                  bad_field("\"backend\" '" + shown(*backend) + "' is not one of cpu, gpu, any"));
  ask.wanted = *wanted;
  auto timeout = parsed.find("timeout_ms");
  // JSON reads a non-negative integer as unsigned; 1000.0, 1e3, "1000" and negative
  // numbers are something else and refused.
  std::uint64_t ms = 0;
  if (timeout != parsed.end() && timeout->is_number_unsigned()) ms = timeout->get<std::uint64_t>();
  if (ms < 1 || ms > std::uint64_t(max_reservation_timeout.count()))
    return refuse(error, bad_field("\"timeout_ms\" must be an integer from 1 to " +
                                   std::to_string(max_reservation_timeout.count())));
  ask.timeout = std::chrono::milliseconds(static_cast<std::int64_t>(ms));
  return ask;
}

response reservation_reply(std::string_view id, reservation_status status,
                           std::chrono::nanoseconds retry_after, std::string_view reason) {
  auto message = [&](std::string_view fallback) {
    return std::string(reason.empty() ? fallback : reason);
  };
  switch (status) {
    case reservation_status::granted: {
      response r;
      // Replaced, not thrown: an id that is not UTF-8 must not end the caller.
      r.body = json{{"reservation", std::string(id)}, {"status", "granted"}}.dump(
          -1, ' ', false, json::error_handler_t::replace);
      return r;
    }
    case reservation_status::full: {
      auto r = error_response(503, "full", message("this node's queue for that service is full"));
      auto s = std::chrono::ceil<std::chrono::seconds>(retry_after).count();
      r.headers.emplace_back("Retry-After", std::to_string(std::max<std::int64_t>(s, 1)));
      return r;
    }
    case reservation_status::no_backend:
      return error_response(503, "not_owner",
                            message("this node owns no backend up for that service and kind"));
    case reservation_status::expired:
      return error_response(504, "deadline",
                            message("the reservation waited its whole timeout in the queue"));
    case reservation_status::cancelled:  // a normal end, answered to nobody who waits
      return error_response(409, "cancelled", message("the entry node gave the reservation up"));
    case reservation_status::not_a_node:
    case reservation_status::failed:
      break;
  }
  return error_response(500, "internal", message("the reservation failed"));
}

reservation_reading read_reservation_reply(std::string_view id, const client_result& r) {
  if (!r.ok) {
    reservation_reading out;
    out.reason = describe_failure(r);
    return out;
  }
  const auto& resp = r.response;
  auto body = resp.body.size() <= max_answer_parsed
                  ? json::parse(resp.body, nullptr, false)
                  : json(json::value_t::discarded);
  if (resp.status == 200 && body.is_object() && body.value("status", json()) == "granted") {
    auto granted = text_member(body, "reservation");
    if (granted == id) return reading(reservation_status::granted, "", true);
    return reading(reservation_status::failed,
                   "granted reservation '" + shown(granted) + "', not '" + shown(id) + "'", true);
  }
  // A node answers errors as http::error_response does; a plain SOVA server (Flask) with
  // an HTML page, and an older node with OpenAI's shape under /v1/.
  const json* error = body.is_object() && body.value("response_code", json()) == 1 &&
                              body.contains("error") && body.at("error").is_object()
                          ? &body.at("error")
                          : nullptr;
  auto code = error ? error->value("code", json()) : json();
  if (resp.status == 404 || resp.status == 405 || !code.is_string())
    return reading(reservation_status::not_a_node,
                   what_came_back(resp) + ": not a node that takes reservations", false);
  auto said = code.get<std::string>() + ": " + shown(text_member(*error, "message"), 200);
  if (resp.status == 503 && code == "full") {
    auto out = reading(reservation_status::full, said, true);
    out.retry_after = retry_after_of(resp.header("Retry-After"));
    return out;
  }
  if (resp.status == 503 && (code == "not_owner" || code == "no_backend"))
    return reading(reservation_status::no_backend, said, true);
  if (resp.status == 504) return reading(reservation_status::expired, said, true);
  return reading(reservation_status::failed,
                 "answered " + std::to_string(resp.status) + " " + said, true);
}

std::string reservation_target(std::string_view id) {
  return std::string(reservations_path) + "/" + std::string(id);
}

client_request reservation_delete(std::string_view id) {
  client_request out;
  out.method = "DELETE";
  out.target = reservation_target(id);
  out.timeout = cancel_timeout;
  out.follow_redirect = false;
  return out;
}

bool is_reservation_path(std::string_view target) {
  auto path = path_of(target);
  return path == reservations_path ||
         path.compare(0, reservations_path.size() + 1, std::string(reservations_path) + "/") == 0;
}

std::optional<std::string> reservation_id_of(std::string_view target) {
  auto path = path_of(target);
  auto prefix = std::string(reservations_path) + "/";
  if (path.compare(0, prefix.size(), prefix) != 0) return std::nullopt;
  auto id = path.substr(prefix.size());
  if (!valid_reservation_id(id)) return std::nullopt;
  return id;
}

}  // namespace sova::http
