#include "actors/dht_node.hpp"

#include <caf/actor_cast.hpp>
#include <caf/actor_system.hpp>
#include <caf/exit_reason.hpp>
#include <caf/send.hpp>

#include "actors/dht_actor.hpp"
#include "actors/refresh_timer.hpp"
#include "actors/routing_table_actor.hpp"
#include "actors/rpc_transport.hpp"

namespace sova::actors {

dht_node spawn_dht_node(caf::actor_system& sys, const dht_config& cfg,
                        std::shared_ptr<net::datagram_port> port) {
  dht_node n;
  n.cfg = cfg;
  n.table = spawn_routing_table(sys, cfg);
  n.transport = spawn_rpc_transport(sys, cfg, std::move(port), n.table);
  n.dht = spawn_dht(sys, cfg, n.transport, n.table);
  n.timer = spawn_refresh_timer(sys, cfg.tick_interval);
  caf::anon_send(n.timer, subscribe_atom::value, caf::actor_cast<caf::actor>(n.transport));
  caf::anon_send(n.timer, subscribe_atom::value, caf::actor_cast<caf::actor>(n.dht));
  return n;
}

void dht_node::stop() {
  for (auto a : {caf::actor_cast<caf::actor>(timer), caf::actor_cast<caf::actor>(dht),
                 caf::actor_cast<caf::actor>(transport), caf::actor_cast<caf::actor>(table)})
    if (a) caf::anon_send_exit(a, caf::exit_reason::user_shutdown);
}

}  // namespace sova::actors
