#pragma once
// The routing table as an actor: the k-buckets of net/routing_table behind messages.

#include <caf/fwd.hpp>

#include "actors/dht_config.hpp"
#include "actors/interfaces.hpp"

namespace sova::actors {

routing_table_actor spawn_routing_table(caf::actor_system& sys, const dht_config& cfg);

}  // namespace sova::actors
