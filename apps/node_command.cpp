#include "apps/node_command.hpp"

#include <csignal>
#include <pthread.h>

#include <caf/actor_system.hpp>
#include <caf/send.hpp>
#include <spdlog/spdlog.h>

namespace sova::apps {

CLI::App* add_node_command(CLI::App& app, node_options& opts) {
  auto* cmd = app.add_subcommand("node", "Run a DHT node: join through --neighbours, or start a network");
  cmd->add_option("--port", opts.port, "UDP port of the DHT")->capture_default_str();
  opts.dht.add_to(*cmd, true);
  cmd->add_option("--log-level", opts.log_level, "Log level")
      ->capture_default_str()
      ->check(CLI::IsMember(log_levels()));
  return cmd;
}

int run_node(const node_options& opts) {
  setup_logging(opts.log_level);
  auto neighbours = resolve_neighbours(opts.dht.neighbours);
  if (!neighbours) return exit_usage;

  // Block the stop signals in every thread; the main thread waits for them below.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  caf::actor_system_config caf_cfg;
  configure_caf(caf_cfg);
  caf::actor_system sys{caf_cfg};
  auto cfg = opts.dht.to_config();
  running_node node;
  try {
    node = start_node(sys, cfg, opts.dht.bind, opts.port);
  } catch (const std::exception& e) {
    spdlog::error("{}", e.what());
    return exit_failed;
  }
  spdlog::info("node {} listening on udp {} (k={}, alpha={})", cfg.self.to_hex(),
               node.port->local_endpoint().to_string(), cfg.k, cfg.alpha);
  if (neighbours->empty())
    spdlog::info("no --neighbours: starting a new network; others join through this node");
  else
    caf::anon_send(node.node.dht, actors::bootstrap_atom::value, *neighbours);

  int sig = 0;
  sigwait(&stop_signals, &sig);
  spdlog::info("{} received: stopping", sig == SIGINT ? "SIGINT" : "SIGTERM");
  node.stop();
  return exit_ok;
}

}  // namespace sova::apps
