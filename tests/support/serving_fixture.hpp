#pragma once
// Real processes for the serving tests: test backends (sova_test_backend), nodes with
// their HTTP API, and blocking HTTP calls to them. Everything binds to 127.0.0.0/8.

#include <chrono>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "http/client.hpp"
#include "process.hpp"

namespace sova::testing {

/// A sova_test_backend process on 127.0.0.1 and a port it picked (or `listen_port`).
struct test_backend {
  std::string name;
  std::unique_ptr<child_process> proc;
  std::uint16_t port = 0;
  test_backend(const std::string& name, const std::string& dir,
               std::vector<std::string> extra = {}, std::uint16_t listen_port = 0);
  std::string address() const { return "127.0.0.1:" + std::to_string(port); }
};

/// POST /control to a test backend (delay_ms, fail_status, hang, garbage; JSON text):
/// true when it answered 200.
bool control_backend(const test_backend& b, const std::string& settings);

/// A `sova-dc backend asr|tts` process (the reference engines) on `host`, on a port it
/// picked; the constructor waits until its engines have loaded and it listens.
struct reference_backend {
  std::string kind;
  std::string host;
  std::unique_ptr<child_process> proc;
  std::uint16_t port = 0;
  reference_backend(const std::string& kind, const std::string& host, const std::string& log_path,
                    std::vector<std::string> extra = {});
  std::string address() const { return host + ":" + std::to_string(port); }
};

/// A `sova-dc node` process on `host` with its HTTP API on a port it picked.
struct node_process {
  std::string host;
  std::uint16_t udp_port = 0;
  std::uint16_t http_port = 0;
  std::uint16_t admin_port = 0;  // a free one, picked before the start
  std::unique_ptr<child_process> proc;
  /// Starts it and waits until its HTTP API is up; `args` come after the fixed flags
  /// (--bind host --port udp --http-port 0 --allow-loopback --log-level debug
  /// --admin-port admin_port).
  node_process(const std::string& host, std::uint16_t udp_port, const std::string& log_path,
               std::vector<std::string> args);
  std::string udp_address() const { return host + ":" + std::to_string(udp_port); }
};

/// How many backends of "asr" or "tts" (cpu and gpu) the network offers, as a DHT get
/// through the node's admin port finds them. Not the node's /status: that shows only what
/// requests made its directory look up, and looking at it looks nothing up.
std::size_t offered_backends(const node_process& n, const std::string& service);

/// Waits up to `limit` until the network offers `count` asr and `count` tts backends, seen
/// from `n` (offered_backends): the node's first request of each then finds them all.
bool knows_backends(const node_process& n, std::size_t count, std::chrono::milliseconds limit);

/// A form with one `audio_blob` file field, the body python-requests builds for
/// `files={"audio_blob": open(filename, "rb")}`.
std::string audio_form(const std::string& boundary, const std::string& data,
                       const std::string& filename = "speech.wav");

/// A node's /status; an empty object when it does not answer 200 with JSON.
nlohmann::json status_of(const node_process& n);

/// A test backend's GET /stats ({"asr", "tts", "probes", "faulted", "name"}); an empty
/// object when it does not answer.
nlohmann::json backend_stats(const test_backend& b);

/// The code of the node's JSON error in a reply ({"response_code": 1, "error": {"code"}}),
/// or "<no error object>".
std::string error_code_of(const http::client_result& r);

/// A blocking HTTP exchange of `req` as given (headers included; no redirect followed
/// unless it says so).
http::client_result http_send(const std::string& host, std::uint16_t port,
                              http::client_request req);

/// A blocking HTTP exchange (fails the result on transport errors, see ok/message).
http::client_result http_call(const std::string& host, std::uint16_t port,
                              const std::string& method, const std::string& target,
                              const std::string& content_type = "", const std::string& body = "",
                              std::chrono::milliseconds timeout = std::chrono::seconds(30),
                              std::vector<std::pair<std::string, std::string>> headers = {});

/// Sends `bytes` as they are over a new TCP connection and returns everything the
/// server sent until it closed the connection or `limit` passed.
std::string raw_exchange(const std::string& host, std::uint16_t port, const std::string& bytes,
                         std::chrono::milliseconds limit = std::chrono::seconds(10));

/// The body of a raw HTTP/1.1 response (after the blank line), or "".
std::string raw_body(const std::string& response);

}  // namespace sova::testing
