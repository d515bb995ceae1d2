#pragma once
// The node's HTTP API on :5600 (shared/API.md): routes and body checks answer bad
// requests at once; every good ASR/TTS request becomes a request actor (request_actor.hpp)
// spawned on the io thread that read it, whose outcome is written back; /healthz, /status
// and /metrics are answered here. No routing logic of its own.

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

#include <caf/fwd.hpp>

#include "actors/backend_board.hpp"
#include "actors/interfaces.hpp"
#include "actors/request_actor.hpp"
#include "http/client.hpp"
#include "http/metrics.hpp"
#include "http/server.hpp"

namespace sova::actors {

/// What /status reports and where it asks.
struct status_sources {
  std::string node_id;       // hex
  std::string udp_endpoint;  // "127.0.0.2:5678"
  std::string http_endpoint;
  std::string version;
  routing_table_actor table;
  service_directory_actor directory;
  backend_pool_actor pool;
  service_announcer_actor announcer;  // invalid when the node has no --services
  rpc_transport_actor transport;      // DHT statistics (/metrics, the admin's stats)
};

/// The gateway's parts the front end uses: its io threads (the server runs on them, so a
/// request, its actor and its backend call share a thread) and its board (a request
/// actor's warm first pick). Empty: threads of its own, no board.
struct direct_path {
  std::shared_ptr<http::io_runtime> io;
  std::shared_ptr<backend_board> board;
};

/// Shared by the HTTP threads, /status and the admin actor.
struct frontend_state {
  std::atomic<std::uint64_t> in_flight{0};
  std::atomic<std::uint64_t> requests{0};
  std::atomic<std::uint64_t> rejected{0};  // answered 4xx by the node itself
  std::atomic<std::uint64_t> refused_draining{0};
  // Set by the admin's `drain`: new ASR/TTS requests get 503, those in flight finish.
  std::atomic<bool> draining{false};
  // Recorded as requests finish (metrics_report.hpp names the families); /metrics.
  http::metrics_registry metrics;
};

class http_frontend {
public:
  /// Binds host:port (0: any free port) and serves; throws std::runtime_error naming
  /// the address when it cannot bind.
  static std::unique_ptr<http_frontend> start(caf::actor_system& sys, const std::string& host,
                                              std::uint16_t port, http::server_limits limits,
                                              request_config request, status_sources sources,
                                              direct_path direct = {});
  ~http_frontend();  // stops
  /// See http::server::stop: with `finish_replies`, replies already given are written.
  void stop(std::chrono::milliseconds finish_replies = std::chrono::milliseconds::zero());
  std::uint16_t port() const;
  /// Counters and the draining flag, shared with the admin actor and the stop path.
  std::shared_ptr<frontend_state> state() const { return state_; }

private:
  http_frontend() = default;
  std::shared_ptr<http::server> server_;
  std::shared_ptr<frontend_state> state_;
};

}  // namespace sova::actors
