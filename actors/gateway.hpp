#pragma once
// The serving half of a node beside its DHT: the directory of backends in the network,
// the pool of forwarders to them, the announcer of this node's own backends and their
// owner (the queue in front of them), the
// HTTP client they share, and the io threads that client shares with the node's HTTP
// server (a proxied request never changes thread).

#include <memory>
#include <vector>

#include <caf/fwd.hpp>

#include "actors/backend_pool.hpp"
#include "actors/dht_node.hpp"
#include "actors/owner_actor.hpp"
#include "actors/service_announcer.hpp"
#include "actors/service_directory.hpp"
#include "http/client.hpp"

namespace sova::actors {

struct gateway_config {
  directory_config directory;
  pool_config pool;
  announcer_config announcer;
  std::vector<net::owned_backend> own;  // --services, with their capacities
  // --announce node: an owner queues the work for the own backends (owner_actor.hpp);
  // backends: their addresses are announced and every node sends to them straight.
  bool own_queue = true;
  owner_config owner;
  std::chrono::milliseconds probe_timeout{5000};
  http::client::options client;
  std::size_t io_threads = 1;  // of the runtime shared by the client and the HTTP server
  // That runtime when someone else owns it (the node's actors run on it); none: one of
  // io_threads threads, stopped by gateway::stop.
  std::shared_ptr<http::io_runtime> io;
};

struct gateway {
  std::shared_ptr<http::io_runtime> io;  // give it to the node's http::server too
  std::shared_ptr<serving::backend_board> board;  // the directory's and pool's posts, for the fast lane
  std::shared_ptr<http::client> client;
  service_directory_actor directory;
  backend_pool_actor pool;
  service_announcer_actor announcer;  // invalid without own services
  owner_actor owner;  // invalid without own services, or with --announce backends
  bool owns_io = false;

  /// Ends the actors and the client (in-flight backend calls fail with shut_down), then,
  /// when the runtime is its own, joins the io threads: stop the HTTP server on them first.
  void stop();
};

/// Spawns the gateway's actors over `node`'s DHT and subscribes them to its clock.
gateway spawn_gateway(caf::actor_system& sys, const gateway_config& cfg, const dht_node& node);

}  // namespace sova::actors
