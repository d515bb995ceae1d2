#pragma once
// The rpc transport actor: owns the datagram port and the record store, turns calls
// into datagrams and replies back into results, and answers the five RPCs.

#include <memory>

#include <caf/fwd.hpp>

#include "actors/dht_config.hpp"
#include "actors/interfaces.hpp"
#include "net/datagram_port.hpp"

namespace sova::actors {

rpc_transport_actor spawn_rpc_transport(caf::actor_system& sys, const dht_config& cfg,
                                        std::shared_ptr<net::datagram_port> port,
                                        routing_table_actor table);

}  // namespace sova::actors
