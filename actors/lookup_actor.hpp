#pragma once
// One iterative lookup (find_node or find_value) as a short-lived actor: it drives
// net::lookup_state with calls through the transport, answers `run` once, and ends.

#include <caf/fwd.hpp>

#include "actors/dht_config.hpp"
#include "actors/interfaces.hpp"
#include "net/lookup.hpp"

namespace sova::actors {

struct lookup_params {
  node_id self;
  std::size_t k = 20;
  std::size_t alpha = 3;
  rpc_transport_actor transport;
  routing_table_actor table;
  node_id target;
  net::lookup_state::mode mode = net::lookup_state::mode::find_node;
  contacts extra_seeds;  // e.g. the bootstrap contacts, besides our table's closest
};

lookup_actor spawn_lookup(caf::actor_system& sys, lookup_params p);

}  // namespace sova::actors
