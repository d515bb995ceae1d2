#pragma once
// An async HTTP/1.1 server (Beast underneath, kept out of this header): it parses and
// bounds requests, hands each one to a handler and writes the reply whenever the handler
// gives it, from any thread. It knows nothing of actors or routes.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "http/io_runtime.hpp"

namespace sova::http {

struct server_limits {
  std::size_t max_body = 32 * 1024 * 1024;          ///< bytes; larger -> 413
  std::chrono::milliseconds header_timeout{10000};  ///< to receive the complete header
  std::chrono::milliseconds body_timeout{60000};    ///< to receive the body; also bounds a write
  std::chrono::milliseconds idle_timeout{60000};    ///< keep-alive connection idle between requests
  std::size_t max_connections = 1024;               ///< beyond: answered 503, then closed
  /// Open connections from one client address at most (IPv4-mapped IPv6 counts as the
  /// IPv4 address); beyond: answered 429, then closed. 0: no cap but max_connections.
  std::size_t max_connections_per_address = 0;
  /// Bytes of request bodies held at once, all connections together: reserved as a body is
  /// read (its Content-Length up front, chunk by chunk when chunked) and held until the
  /// handler replies. Past it: 503 with Retry-After, the body unread. 0: no budget; else at
  /// least max_body (start() throws otherwise).
  std::size_t body_budget = 0;
  std::size_t threads = 1;                          ///< io threads, when not given a runtime
};

struct request {
  std::string method;                                        ///< "POST"
  std::string target;                                        ///< "/asr?backend=cpu" as received
  std::vector<std::pair<std::string, std::string>> headers;  ///< in order received
  std::string body;
  std::string remote;  ///< "ip:port" of the client

  /// The first header of that name, compared case-insensitively; "" when absent.
  std::string header(std::string_view name) const;
};

struct response {
  unsigned status = 200;
  std::string content_type = "application/json";
  std::vector<std::pair<std::string, std::string>> headers;  ///< extra headers
  std::string body;
};

/// Delivers the reply to one request. Callable from any thread, possibly later; only the
/// first call counts, and a call after the connection (or the server) died does nothing.
/// Dropping every copy without calling it answers 500.
using responder = std::function<void(response)>;
/// Called once per request on an io thread; must not block. Exceptions become a 500.
using handler = std::function<void(request, responder)>;

/// A request the server answered by itself, without the handler: 413 body too large,
/// 431 header, chunk extensions or trailer too large, 400 malformed, 503 too many
/// connections or the body budget spent, 429 too many connections from one address.
struct refusal {
  unsigned status = 0;
  std::string code;    ///< the error code of the reply's body: "too_large", "busy" ...
  std::string method;  ///< "" when the header was not read
  std::string target;
  std::vector<std::pair<std::string, std::string>> headers;  ///< what of the header was read
  std::string remote;
};
/// Told of each refusal (for logs and metrics) before `reply` goes out, on an io thread;
/// may add headers to `reply` (a request id); must not block.
using refusal_hook = std::function<void(const refusal&, response& reply)>;

class server {
public:
  /// Binds `host:port` (port 0: any free port) and starts serving. Throws
  /// std::runtime_error naming the address on failure. Without `runtime` the server
  /// runs `limits.threads` io threads of its own; with one, it runs on those threads.
  static std::shared_ptr<server> start(const std::string& host, std::uint16_t port,
                                       server_limits limits, handler on_request,
                                       refusal_hook on_refusal = {},
                                       std::shared_ptr<io_runtime> runtime = {});
  ~server();
  server(const server&) = delete;
  server& operator=(const server&) = delete;

  /// Stops accepting, closes every connection and joins the io threads; idempotent.
  /// Must not be called from the handler (it would join its own thread). On a shared
  /// runtime it joins nothing: the closing completes on the runtime's threads, and a
  /// request read just before may still reach the handler until the runtime stops.
  /// With `finish_replies` > 0, replies the handler gave before this call are written
  /// first (connections with one close after it): it waits up to that long for them.
  void stop(std::chrono::milliseconds finish_replies = std::chrono::milliseconds::zero());
  std::uint16_t port() const;
  /// Accepted connections not yet closed (including ones being refused with 503).
  std::size_t open_connections() const;
  /// Bytes of request bodies reserved against limits.body_budget right now (counted even
  /// without a budget): bodies being read, and those whose handler has not replied yet.
  std::size_t body_bytes_reserved() const;

  struct impl;

private:
  server() = default;
  std::shared_ptr<impl> impl_;
};

/// The JSON error body of API.md:
/// {"response_code": 1, "error": {"code": c, "message": m}}
response error_response(unsigned status, std::string_view code, std::string_view message);

}  // namespace sova::http
