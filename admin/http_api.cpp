#include "admin/http_api.hpp"

#include <arpa/inet.h>

#include <nlohmann/json.hpp>

#include "http/text.hpp"

namespace sova::admin {

namespace {

using json = nlohmann::json;

/// Whether the host part of a Host header is an IP literal or "localhost": a page that
/// rebinds its own name to the node's address still sends its name here.
bool literal_host(std::string_view host) {
  if (!host.empty() && host.front() == '[') {
    auto close = host.find(']');
    if (close == std::string_view::npos) return false;
    std::string v6(host.substr(1, close - 1));
    in6_addr a6{};
    return ::inet_pton(AF_INET6, v6.c_str(), &a6) == 1;
  }
  std::string name(host.substr(0, host.find(':')));
  in_addr a4{};
  return ::inet_pton(AF_INET, name.c_str(), &a4) == 1 || http::iequals(name, "localhost");
}

http::response refuse(unsigned status, std::string_view code, std::string_view message) {
  return http::error_response(status, code, message);
}

}  // namespace

std::variant<call, http::response> read_call(const http::request& r) {
  auto path = std::string_view(r.target).substr(0, r.target.find('?'));
  if (path == hello_path && r.method == "GET") return result_response(R"({"admin":"sova-dc"})");
  if (path != command_path)
    return refuse(404, "not_found",
                  "this is a sova-dc node's admin port: use 'sova-dc admin --connect HOST:PORT'");
  if (r.method != "POST")
    return refuse(405, "method_not_allowed", "the admin port takes POST /command");
  if (!r.header("origin").empty())
    return refuse(403, "forbidden", "the admin port does not serve web pages' requests");
  if (!literal_host(r.header("host")))
    return refuse(403, "forbidden",
                  "the admin port answers requests addressed to an IP address or localhost");
  auto type = r.header("content-type");
  if (!http::iequals(type.substr(0, type.find(';')), "application/json"))
    return refuse(415, "unsupported_media_type", "the admin port takes application/json");
  auto doc = json::parse(r.body, nullptr, false);
  auto bad = [] {
    return refuse(400, "bad_request",
                  R"(the body must be {"command": "name", "args": ["text", ...]})");
  };
  if (!doc.is_object() || !doc.contains("command") || !doc["command"].is_string()) return bad();
  call c;
  c.command = doc["command"].get<std::string>();
  if (doc.contains("args")) {
    if (!doc["args"].is_array()) return bad();
    for (const auto& a : doc["args"]) {
      if (!a.is_string()) return bad();
      c.args.push_back(a.get<std::string>());
    }
  }
  return c;
}

std::string encode_call(const call& c) {
  return json{{"command", c.command}, {"args", c.args}}.dump();
}

http::response result_response(std::string result_json) {
  http::response r;
  r.body = std::move(result_json);
  return r;
}

http::response error_response(std::string_view code, std::string_view message) {
  unsigned status = 500;
  if (code == "unknown_command" || code == "bad_arguments") status = 400;
  if (code == "unavailable") status = 503;
  if (code == "timeout") status = 504;
  return http::error_response(status, code, message);
}

reply read_reply(unsigned status, std::string_view body) {
  reply out;
  auto doc = json::parse(body, nullptr, false);
  if (status == 200) {
    if (doc.is_discarded()) {
      out.code = "failed";
      out.message = "the node answered something that is not JSON";
      return out;
    }
    out.ok = true;
    out.result = std::string(body);
    return out;
  }
  if (doc.is_object() && doc.contains("error") && doc["error"].is_object()) {
    const auto& e = doc["error"];
    if (e.contains("code") && e["code"].is_string()) out.code = e["code"].get<std::string>();
    if (e.contains("message") && e["message"].is_string())
      out.message = e["message"].get<std::string>();
  }
  if (out.code.empty() || out.message.empty()) {
    out.code = "connection";
    out.message = "HTTP " + std::to_string(status) +
                  " without an admin error: is that really a sova-dc node's --admin-port?";
  }
  return out;
}

bool is_hello(unsigned status, std::string_view body) {
  auto doc = json::parse(body, nullptr, false);
  return status == 200 && doc.is_object() && doc.contains("admin") && doc["admin"] == "sova-dc";
}

}  // namespace sova::admin
