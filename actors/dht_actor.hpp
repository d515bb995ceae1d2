#pragma once
// A node's DHT facade: bootstrap, lookups, put and get built from lookup actors,
// and the periodic work (refresh stale buckets, re-bootstrap while alone).

#include <caf/fwd.hpp>

#include "actors/dht_config.hpp"
#include "actors/interfaces.hpp"

namespace sova::actors {

dht_actor spawn_dht(caf::actor_system& sys, const dht_config& cfg, rpc_transport_actor transport,
                    routing_table_actor table);

}  // namespace sova::actors
