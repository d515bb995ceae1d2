#pragma once
// One DHT node: its actors spawned and wired together over a datagram port.

#include <memory>

#include <caf/fwd.hpp>

#include "actors/dht_config.hpp"
#include "actors/interfaces.hpp"
#include "net/datagram_port.hpp"

namespace sova::actors {

struct dht_node {
  dht_config cfg;
  routing_table_actor table;
  rpc_transport_actor transport;
  dht_actor dht;
  refresh_timer_actor timer;

  /// Ends every actor of the node (lookups in flight end with their callers).
  void stop();
};

/// The port delivers incoming datagrams to `transport` itself (see udp_port or the
/// simulated network); this only wires the actors.
dht_node spawn_dht_node(caf::actor_system& sys, const dht_config& cfg,
                        std::shared_ptr<net::datagram_port> port);

}  // namespace sova::actors
