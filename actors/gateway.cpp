#include "actors/gateway.hpp"

#include <caf/actor_cast.hpp>
#include <caf/actor_system.hpp>
#include <caf/exit_reason.hpp>
#include <caf/send.hpp>

namespace sova::actors {

gateway spawn_gateway(caf::actor_system& sys, const gateway_config& cfg, const dht_node& node) {
  gateway g;
  g.owns_io = !cfg.io;
  g.io = cfg.io ? cfg.io : http::io_runtime::start(cfg.io_threads);
  g.client = http::client::create(cfg.client, g.io);
  g.board = std::make_shared<serving::backend_board>();
  auto directory = cfg.directory;
  directory.board = g.board;
  auto pool = cfg.pool;
  pool.board = g.board;
  g.directory = spawn_service_directory(sys, directory, node.dht);
  g.pool = spawn_backend_pool(sys, pool, http_send_over(g.client));
  auto probe = http_probe_over(g.client, cfg.probe_timeout);
  if (!cfg.own.empty() && cfg.own_queue)
    g.owner = spawn_owner(sys, cfg.owner, cfg.own, g.pool, probe);
  if (!cfg.own.empty())
    g.announcer = spawn_service_announcer(sys, cfg.announcer, net::records_of(cfg.own), node.dht,
                                          probe, g.pool,
                                          {node.table, node.transport, g.directory, g.owner});
  caf::anon_send(node.timer, subscribe_atom::value, caf::actor_cast<caf::actor>(g.directory));
  caf::anon_send(node.timer, subscribe_atom::value, caf::actor_cast<caf::actor>(g.pool));
  return g;
}

void gateway::stop() {
  for (auto a : {caf::actor_cast<caf::actor>(owner), caf::actor_cast<caf::actor>(announcer),
                 caf::actor_cast<caf::actor>(pool),
                 caf::actor_cast<caf::actor>(directory)})
    if (a) caf::anon_send_exit(a, caf::exit_reason::user_shutdown);
  if (client) client->stop();
  if (io && owns_io) io->stop();
}

}  // namespace sova::actors
