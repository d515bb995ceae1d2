#include "apps/dht_command.hpp"

#include <iostream>

#include <caf/actor_system.hpp>
#include <caf/scoped_actor.hpp>
#include <spdlog/spdlog.h>

namespace sova::apps {

CLI::App* add_dht_command(CLI::App& app, dht_options& opts) {
  auto* cmd = app.add_subcommand(
      "dht", "Store or find one record in a running network, then leave");
  cmd->require_subcommand(1);
  auto common = [&](CLI::App* sub) {
    sub->add_option("key", opts.key, "Key text (hashed with sha1, like \"asr/cpu\")")->required();
    sub->add_flag("--raw-key", opts.raw_key, "KEY is a 40-digit hex id, not text to hash");
    sub->add_option("--port", opts.port, "UDP port of this short-lived node (0: any)")
        ->capture_default_str();
    opts.dht.add_to(*sub, false);
    sub->get_option("--neighbours")->required();
    sub->add_option("--timeout", opts.timeout_s, "Seconds to wait for the whole operation")
        ->capture_default_str()
        ->check(CLI::Range(1.0, 3600.0));
    sub->add_option("--log-level", opts.log_level, "Log level")
        ->capture_default_str()
        ->check(CLI::IsMember(log_levels()));
  };
  auto* put = cmd->add_subcommand("put", "Add VALUE(s) to the set stored under KEY");
  common(put);
  put->add_option("value", opts.values, "Value(s) to add")->required();
  put->callback([&opts] { opts.action = "put"; });
  auto* get = cmd->add_subcommand("get", "Print the values stored under KEY, one per line");
  common(get);
  get->callback([&opts] { opts.action = "get"; });
  return cmd;
}

namespace {

std::optional<net::node_id> key_of(const dht_options& opts) {
  if (!opts.raw_key) return net::node_id::digest(opts.key);
  return net::node_id::from_hex(opts.key);
}

}  // namespace

int run_dht(const dht_options& opts) {
  setup_logging(opts.log_level);
  auto key = key_of(opts);
  if (!key) {
    std::cerr << "error: --raw-key needs KEY as 40 hex digits, got '" << opts.key << "'\n";
    return exit_usage;
  }
  auto neighbours = resolve_neighbours(opts.dht.neighbours);
  if (!neighbours) return exit_usage;

  caf::actor_system_config caf_cfg;
  configure_caf(caf_cfg);
  caf::actor_system sys{caf_cfg};
  running_node node;
  try {
    node = start_node(sys, opts.dht.to_config(), opts.dht.bind, opts.port);
  } catch (const std::exception& e) {
    std::cerr << "error: " << e.what() << "\n";
    return exit_failed;
  }
  auto timeout = std::chrono::duration_cast<caf::timespan>(
      std::chrono::duration<double>(opts.timeout_s));
  int status = exit_failed;
  caf::scoped_actor self{sys};
  auto fail = [&](const caf::error& e) {
    std::cerr << "error: " << actors::describe(e) << "\n";
    status = exit_failed;
  };
  self->request(node.node.dht, timeout, actors::bootstrap_atom::value, *neighbours)
      .receive([&](std::uint32_t known) { status = known > 0 ? exit_ok : exit_failed; }, fail);
  if (status != exit_ok) {
    std::cerr << "error: no neighbour answered; is a node running at "
              << fmt::format("{}", fmt::join(opts.dht.neighbours, ", ")) << "?\n";
  } else if (opts.action == "put") {
    self->request(node.node.dht, timeout, actors::dht_put_atom::value, *key, opts.values)
        .receive(
            [&](const actors::put_result& r) {
              std::cout << "stored on " << r.stored_remote << " of " << r.tried_remote
                        << " peer(s) under " << key->to_hex() << "\n";
              status = r.stored_remote > 0 ? exit_ok : exit_failed;
            },
            fail);
  } else {
    self->request(node.node.dht, timeout, actors::dht_get_atom::value, *key)
        .receive(
            [&](const actors::lookup_result& r) {
              for (const auto& v : r.values) std::cout << v << "\n";
              if (!r.found) std::cerr << "not found: no value under " << key->to_hex() << "\n";
              status = r.found ? exit_ok : exit_failed;
            },
            fail);
  }
  node.stop();
  return status;
}

}  // namespace sova::apps
