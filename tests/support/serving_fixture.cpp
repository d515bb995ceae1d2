#include "serving_fixture.hpp"

#include "admin/http_api.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <nlohmann/json.hpp>
#include <cctype>
#include <optional>
#include <stdexcept>

namespace sova::testing {

namespace {

/// The number that starts at `at` in `text`, or nothing.
std::optional<unsigned long> number_at(const std::string& text, std::size_t at) {
  auto end = at;
  while (end < text.size() && std::isdigit(static_cast<unsigned char>(text[end]))) ++end;
  if (end == at || end - at > 9) return std::nullopt;
  return std::stoul(text.substr(at, end - at));
}

/// Waits until a child's log holds `before`, then (after the next ':' at or past it) a port.
std::uint16_t port_from_log(child_process& p, const std::string& before,
                            std::chrono::milliseconds limit) {
  std::string log;
  std::optional<unsigned long> port;
  bool found = eventually(
      [&] {
        log = p.log();
        auto at = log.find(before);
        if (at == std::string::npos) return false;
        auto colon = log.find(':', at + before.size());
        if (colon == std::string::npos) return false;
        port = number_at(log, colon + 1);
        return port.has_value();
      },
      limit);
  if (!found) throw std::runtime_error("process did not report its port; its log:\n" + log);
  return static_cast<std::uint16_t>(*port);
}

/// A whole response with a Content-Length has arrived.
bool response_complete(const std::string& r) {
  auto end = r.find("\r\n\r\n");
  if (end == std::string::npos) return false;
  std::string head = r.substr(0, end + 2);
  for (auto& c : head) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  auto at = head.find("\r\ncontent-length:");
  if (at == std::string::npos) return false;
  at += 17;
  while (at < head.size() && head[at] == ' ') ++at;
  auto length = number_at(head, at);
  return length && r.size() >= end + 4 + *length;
}

}  // namespace

test_backend::test_backend(const std::string& name, const std::string& dir,
                           std::vector<std::string> extra, std::uint16_t listen_port)
    : name(name) {
  std::vector<std::string> argv{SOVA_TEST_BACKEND_BINARY, "--listen",
                                "127.0.0.1:" + std::to_string(listen_port), "--name", name};
  argv.insert(argv.end(), extra.begin(), extra.end());
  proc = std::make_unique<child_process>(argv, dir + "/" + name + ".log");
  port = port_from_log(*proc, "listening on 127.0.0.1", std::chrono::seconds(20));
}

std::string error_code_of(const http::client_result& r) {
  auto j = nlohmann::json::parse(r.response.body, nullptr, false);
  if (!j.is_object() || j.value("response_code", 0) != 1 || !j.contains("error") ||
      !j["error"].is_object() || !j["error"].contains("code") || !j["error"]["code"].is_string())
    return "<no error object>";
  return j["error"]["code"].get<std::string>();
}

bool control_backend(const test_backend& b, const std::string& settings) {
  auto r = http_call("127.0.0.1", b.port, "POST", "/control", "application/json", settings);
  return r.ok && r.response.status == 200;
}

reference_backend::reference_backend(const std::string& kind, const std::string& host,
                                     const std::string& log_path, std::vector<std::string> extra)
    : kind(kind), host(host) {
  std::vector<std::string> argv{SOVA_DC_BINARY, "backend", kind, "--listen", host + ":0"};
  argv.insert(argv.end(), extra.begin(), extra.end());
  proc = std::make_unique<child_process>(argv, log_path);
  port = port_from_log(*proc, "listening on " + host, std::chrono::seconds(60));
}

node_process::node_process(const std::string& host, std::uint16_t udp_port,
                           const std::string& log_path, std::vector<std::string> args)
    : host(host), udp_port(udp_port), admin_port(free_tcp_port({host})) {
  std::vector<std::string> argv{SOVA_DC_BINARY, "node",        "--bind",         host,
                                "--port",       std::to_string(udp_port),      "--http-port",
                                "0",            "--allow-loopback", "--log-level", "debug",
                                "--admin-port", std::to_string(admin_port)};
  argv.insert(argv.end(), args.begin(), args.end());
  proc = std::make_unique<child_process>(argv, log_path);
  http_port = port_from_log(*proc, "and http " + host, std::chrono::seconds(20));
}

http::client_result http_call(const std::string& host, std::uint16_t port,
                              const std::string& method, const std::string& target,
                              const std::string& content_type, const std::string& body,
                              std::chrono::milliseconds timeout,
                              std::vector<std::pair<std::string, std::string>> headers) {
  http::client_request req;
  req.method = method;
  req.target = target;
  req.content_type = content_type;
  req.body = body;
  req.timeout = timeout;
  req.follow_redirect = false;
  req.headers = std::move(headers);
  return http_send(host, port, std::move(req));
}

http::client_result http_send(const std::string& host, std::uint16_t port,
                              http::client_request req) {
  static auto client = http::client::create({});
  return http::send_and_wait(*client, host, port, std::move(req));
}

nlohmann::json status_of(const node_process& n) {
  auto r = http_call(n.host, n.http_port, "GET", "/status");
  if (!r.ok || r.response.status != 200) return nlohmann::json::object();
  auto j = nlohmann::json::parse(r.response.body, nullptr, false);
  return j.is_object() ? j : nlohmann::json::object();
}

nlohmann::json backend_stats(const test_backend& b) {
  auto r = http_call("127.0.0.1", b.port, "GET", "/stats");
  if (!r.ok || r.response.status != 200) return nlohmann::json::object();
  auto j = nlohmann::json::parse(r.response.body, nullptr, false);
  return j.is_object() ? j : nlohmann::json::object();
}

std::size_t offered_backends(const node_process& n, const std::string& service) {
  std::size_t count = 0;
  for (const auto* kind : {"/cpu", "/gpu"}) {
    auto body = admin::encode_call({"get", {service + kind}});
    auto r = http_call(n.host, n.admin_port, "POST", std::string(admin::command_path),
                       "application/json", body);
    if (!r.ok) continue;
    auto reply = admin::read_reply(r.response.status, r.response.body);
    auto j = nlohmann::json::parse(reply.ok ? reply.result : "", nullptr, false);
    if (j.is_object() && j["values"].is_array()) count += j["values"].size();  // else: none found
  }
  return count;
}

bool knows_backends(const node_process& n, std::size_t count, std::chrono::milliseconds limit) {
  return eventually(
      [&] { return offered_backends(n, "asr") == count && offered_backends(n, "tts") == count; },
      limit);
}

std::string audio_form(const std::string& boundary, const std::string& data,
                       const std::string& filename) {
  return "--" + boundary + "\r\nContent-Disposition: form-data; name=\"audio_blob\"; filename=\"" +
         filename + "\"\r\n\r\n" + data + "\r\n--" + boundary + "--\r\n";
}

std::string raw_exchange(const std::string& host, std::uint16_t port, const std::string& bytes,
                         std::chrono::milliseconds limit) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) throw std::runtime_error("socket failed");
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  ::inet_pton(AF_INET, host.c_str(), &addr.sin_addr);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    throw std::runtime_error("connect to " + host + ":" + std::to_string(port) + " failed");
  }
  for (std::size_t sent = 0; sent < bytes.size();) {
    auto n = ::send(fd, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) break;  // the server may close early (413, 400): read what it said
    sent += static_cast<std::size_t>(n);
  }
  std::string out;
  auto until = std::chrono::steady_clock::now() + limit;
  char buf[65536];
  while (std::chrono::steady_clock::now() < until) {
    pollfd p{fd, POLLIN, 0};
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        until - std::chrono::steady_clock::now());
    if (::poll(&p, 1, static_cast<int>(std::max<long>(1, left.count()))) <= 0) break;
    auto n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) break;
    out.append(buf, static_cast<std::size_t>(n));
    if (response_complete(out)) break;  // keep-alive: the server will not close
  }
  ::close(fd);
  return out;
}

std::string raw_body(const std::string& response) {
  auto at = response.find("\r\n\r\n");
  return at == std::string::npos ? "" : response.substr(at + 4);
}

}  // namespace sova::testing
