#pragma once
// The node's HTTP API on :5600 (shared/API.md), an actor: the server hands it each
// request it reads; routes and body checks answer bad requests at once; every good
// ASR/TTS request becomes a request actor (request_actor.hpp), spawned on the io thread
// that read it, whose outcome comes back here to be answered; /healthz, /status and
// /metrics are answered here. No routing logic of its own. Its counters and draining
// flag are its own state: the admin actor and the stop path ask it (drain, stats).

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include <caf/fwd.hpp>

#include "actors/interfaces.hpp"
#include "actors/node_handles.hpp"
#include "actors/request_actor.hpp"
#include "http/client.hpp"
#include "http/server.hpp"
#include "serving/backend_board.hpp"

namespace sova::actors {

/// The gateway's parts the front end uses: its io threads (the server runs on them, so a
/// request, its actor and its backend call share a thread) and its board (a request
/// actor's warm first pick), the node's own backends (the only ones a request that
/// another node forwarded may go to) and their owner. Empty: threads of its own, no board, no own backend.
struct direct_path {
  std::shared_ptr<http::io_runtime> io;
  std::shared_ptr<serving::backend_board> board;
  service_records own;
  owner_actor owner;  // their queue (--announce node); invalid: none
};

/// The front end: an actor (http_frontend_actor) that owns the counters and the draining
/// flag, served by an http::server whose reads it is handed.
class http_frontend {
public:
  /// Spawns the actor, binds host:port (0: any free port) and serves; throws
  /// std::runtime_error naming the address when it cannot bind.
  static std::unique_ptr<http_frontend> start(caf::actor_system& sys, const std::string& host,
                                              std::uint16_t port, http::server_limits limits,
                                              request_config request, node_handles sources,
                                              direct_path direct = {});
  ~http_frontend();  // stops
  /// Stops the server (see http::server::stop: with `finish_replies`, replies already
  /// given are written), then the actor.
  void stop(std::chrono::milliseconds finish_replies = std::chrono::milliseconds::zero());
  std::uint16_t port() const;
  /// For the admin actor and the stop path: drain, counters.
  http_frontend_actor actor() const { return actor_; }

private:
  http_frontend() = default;
  std::shared_ptr<http::server> server_;
  http_frontend_actor actor_;
};

}  // namespace sova::actors
