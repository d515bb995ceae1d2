#pragma once
// An asynchronous HTTP/1.1 client with per-host keep-alive pools: how a node talks to the
// SOVA ASR and TTS backends. It runs its own Asio threads; Beast stays inside client.cpp
// so that the many files including this header compile quickly.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "http/io_runtime.hpp"

namespace sova::http {

struct client_request {
  std::string method = "POST";
  std::string target = "/";
  std::vector<std::pair<std::string, std::string>> headers;
  std::string content_type;
  std::string body;
  std::chrono::milliseconds timeout{30000};  // whole exchange incl. connect
  // Follow at most one 307/308 to the same host:port (same method and body).
  bool follow_redirect = true;
};

struct client_response {
  unsigned status = 0;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  /// The first header called `name` (case-insensitive), or "".
  std::string header(std::string_view name) const;
};

enum class client_errc {
  connect_failed,  // name not resolved, or no connection
  timeout,         // the exchange did not complete within client_request::timeout
  protocol,        // connection lost or broken HTTP from the server
  too_large,       // response body over options::max_response_body, or the response over
                   // a bound of request_bounds.hpp (header, chunk line, trailer, fields)
  redirect,        // reserved: redirects that are not followed are returned as responses
  shut_down,       // the client stopped before the exchange completed
  refused,         // every address the host resolved to is refused by options::refuse
};

/// A short name of `e` for logs and messages ("timeout", ...).
const char* to_string(client_errc e);

struct client_result {
  bool ok;
  client_errc error;  // meaningful when !ok
  std::string message;
  client_response response;  // meaningful when ok, whatever the status
  /// The request's body, given back: a caller that tries another server sends it again
  /// without having kept a copy (an upload can be megabytes).
  std::string request_body;
};

/// "timeout: <message>": why an exchange that is not ok failed, for logs and replies.
std::string describe_failure(const client_result& r);

using client_callback = std::function<void(client_result)>;

class client {
public:
  struct options {
    std::size_t threads = 1;
    std::size_t max_idle_per_host = 32;
    std::size_t max_response_body = 64 * 1024 * 1024;
    std::chrono::milliseconds idle_expiry{30000};
    /// Why the client must not connect to a resolved address (numeric text, port), or
    /// nothing when it may; asked for every address a host resolves to, before connecting.
    std::function<std::optional<std::string>(const std::string& ip, std::uint16_t port)> refuse;
  };

  /// Without `runtime` the client runs `options::threads` io threads of its own; with
  /// one (shared with a server, say), it runs on those threads.
  static std::shared_ptr<client> create(options, std::shared_ptr<io_runtime> runtime = {});
  ~client();  // stops

  client(const client&) = delete;
  client& operator=(const client&) = delete;

  /// Sends to host:port (numeric IP or name); `done` runs exactly once on a client thread
  /// (or at once on the caller's thread when the client has stopped). It must not throw
  /// and should not block: it runs on one of the threads that drive the connections.
  void send(const std::string& host, std::uint16_t port, client_request req,
            client_callback done);

  /// Fails in-flight requests with shut_down, closes idle connections and joins the
  /// threads; idempotent. Called from a callback, it cannot join the thread it runs on:
  /// that thread finishes the remaining work and ends by itself. On a shared runtime it
  /// joins nothing: the aborted requests' callbacks run on the runtime's threads.
  void stop();

  /// Connections waiting in the pools for reuse, all hosts together.
  std::size_t idle_connections() const;

  struct impl;

private:
  client() = default;
  std::shared_ptr<impl> impl_;
};

/// Sends and blocks the caller until the result is in: for command-line programs and
/// tests. Never call it from a client callback (it would wait for itself).
client_result send_and_wait(client& c, const std::string& host, std::uint16_t port,
                            client_request req);

}  // namespace sova::http
