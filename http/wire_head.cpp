#include "http/wire_head.hpp"

#include <algorithm>
#include <cctype>
#include <ostream>  // Beast's string_view needs it declared

#include <boost/beast/http/status.hpp>

#include "http/text.hpp"

namespace sova::http {

namespace {

void add_field(std::string& out, std::string_view name, std::string_view value) {
  out.append(name).append(": ").append(value).append("\r\n");
}

void add_length(std::string& out, std::size_t n) {
  out.append("Content-Length: ").append(std::to_string(n)).append("\r\n\r\n");
}

/// Enough for a head with these fields and our own few (status line, Server or Host and
/// User-Agent, Content-Type, Content-Length, Connection).
std::size_t head_size_guess(const header_list& fields) {
  std::size_t n = 160;
  for (const auto& [name, value] : fields) n += name.size() + value.size() + 4;
  return n;
}

bool one_of(std::string_view name, std::initializer_list<std::string_view> names) {
  return std::any_of(names.begin(), names.end(),
                     [&](std::string_view n) { return iequals(name, n); });
}

}  // namespace

bool sendable_header(std::string_view name, std::string_view value) {
  auto bad = [](char c) { return c == '\r' || c == '\n' || c == '\0'; };
  return !name.empty() && name.find(':') == std::string_view::npos &&
         std::none_of(name.begin(), name.end(), bad) &&
         std::none_of(value.begin(), value.end(), bad);
}

bool sendable_request_line(std::string_view method, std::string_view target) {
  auto token = [](unsigned char c) {
    return std::isalnum(c) || std::string_view("!#$%&'*+-.^_`|~").find(static_cast<char>(c)) !=
                                  std::string_view::npos;
  };
  auto visible = [](unsigned char c) { return c > 0x20 && c != 0x7f; };  // UTF-8 passes
  return !method.empty() && !target.empty() && std::all_of(method.begin(), method.end(), token) &&
         std::all_of(target.begin(), target.end(), visible);
}

void write_response_head(std::string& out, unsigned version, unsigned status,
                         std::string_view content_type, const header_list& extra,
                         bool keep_alive, std::size_t content_length) {
  namespace bhttp = boost::beast::http;
  auto reason = bhttp::obsolete_reason(bhttp::int_to_status(status));
  out.clear();
  out.reserve(head_size_guess(extra) + content_type.size());  // one allocation, not one per field
  out.append(version == 10 ? "HTTP/1.0 " : "HTTP/1.1 ");
  out.append(std::to_string(status)).append(" ").append(reason.data(), reason.size());
  out.append("\r\nServer: sova-dc\r\n");
  if (!content_type.empty()) add_field(out, "Content-Type", content_type);
  for (const auto& [name, value] : extra)
    if (sendable_header(name, value) &&
        !one_of(name, {"content-length", "transfer-encoding", "connection", "server",
                       "content-type"}))
      add_field(out, name, value);
  if (version == 10 && keep_alive) add_field(out, "Connection", "keep-alive");
  if (version != 10 && !keep_alive) add_field(out, "Connection", "close");
  // A 304 has no body, and its Content-Length would have to be the full reply's (RFC 9110
  // 8.6); a 204 must not carry one (RFC 9110 8.6): none is sent.
  if (status == 304 || status == 204)
    out.append("\r\n");
  else
    add_length(out, content_length);
}

void write_request_head(std::string& out, std::string_view method, std::string_view target,
                        std::string_view host, const header_list& headers,
                        std::string_view content_type, std::size_t body_size) {
  out.clear();
  out.reserve(head_size_guess(headers) + method.size() + target.size() + host.size() +
              content_type.size());
  out.append(method).append(" ").append(target).append(" HTTP/1.1\r\n");
  std::string_view host_value = host, agent = "sova-dc";
  for (const auto& [name, value] : headers) {
    if (iequals(name, "host")) host_value = value;
    if (iequals(name, "user-agent")) agent = value;
  }
  add_field(out, "Host", host_value);
  add_field(out, "User-Agent", agent);
  for (const auto& [name, value] : headers) {
    if (!sendable_header(name, value) ||
        one_of(name, {"host", "user-agent", "content-length", "transfer-encoding"}))
      continue;
    if (!content_type.empty() && iequals(name, "content-type")) continue;
    add_field(out, name, value);
  }
  if (!content_type.empty()) add_field(out, "Content-Type", content_type);
  if (body_size > 0 || method == "POST" || method == "PUT" || method == "OPTIONS") {
    add_length(out, body_size);
  } else {
    out.append("\r\n");
  }
}

}  // namespace sova::http
