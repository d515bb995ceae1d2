#include "apps/dht_command.hpp"

#include <iostream>
#include <memory>

#include <caf/actor_system.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/scoped_actor.hpp>
#include <spdlog/spdlog.h>

#include "apps/exit_watchdog.hpp"

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
    sub->add_option("--timeout", opts.timeout_s, "Seconds the whole command may take; it exits by then")
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

using clock = std::chrono::steady_clock;

/// Once the outcome is printed, stopping the node gets this long; then the process
/// exits anyway (see exit_watchdog.hpp).
constexpr auto stop_grace = std::chrono::seconds(1);

std::optional<net::node_id> key_of(const dht_options& opts) {
  if (!opts.raw_key) return net::node_id::digest(opts.key);
  return net::node_id::from_hex(opts.key);
}

std::string secs(double s) { return fmt::format("{:g}s", s); }

caf::timespan until(clock::time_point deadline) {
  return std::max(caf::timespan::zero(),
                  std::chrono::duration_cast<caf::timespan>(deadline - clock::now()));
}

/// Pings every neighbour at once and answers with the id of the first that answers,
/// or with an error once every one has failed; each ping gives up after `limit`.
/// (Not the DHT's bootstrap: that also looks up our own id, which a peer that no
/// longer answers can hold up past the deadline; the lookup for the key follows.)
caf::behavior first_answer(caf::event_based_actor* self, actors::rpc_transport_actor transport,
                           std::vector<net::endpoint> neighbours, caf::timespan limit) {
  struct progress {
    caf::typed_response_promise<net::node_id> rp;
    std::size_t left;
  };
  return {[=](actors::ping_atom) {
    auto p = std::make_shared<progress>(
        progress{self->make_response_promise<net::node_id>(), neighbours.size()});
    for (const auto& ep : neighbours)
      self->request(transport, limit, actors::ping_atom::value, ep)
          .then(
              [=](const net::node_id& id) {
                p->rp.deliver(id);
                self->quit();  // the other answers are not needed
              },
              [=](const caf::error& e) {
                if (--p->left > 0) return;
                p->rp.deliver(e);
                self->quit();
              });
    return p->rp;
  }};
}

}  // namespace

int run_dht(const dht_options& opts) {
  const auto deadline = clock::now() + std::chrono::duration_cast<clock::duration>(
                                           std::chrono::duration<double>(opts.timeout_s));
  // Declared before the actor system, so it outlives that system's shutdown.
  exit_watchdog watchdog{deadline + stop_grace, exit_failed,
                         "error: sova-dc dht did not finish within " + secs(opts.timeout_s) +
                             " (--timeout); exiting"};
  setup_logging(opts.log_level);
  auto key = key_of(opts);
  if (!key) {
    std::cerr << "error: --raw-key needs KEY as 40 hex digits, got '" << opts.key << "'\n";
    return exit_usage;
  }
  auto entries = resolve_neighbours(opts.dht.neighbours);
  if (!entries) return exit_usage;
  // A one-shot command has nobody to wait for: a name that does not resolve is an error.
  for (const auto& u : entries->unresolved)
    spdlog::error("neighbour '{}' does not resolve", u);
  if (!entries->unresolved.empty() || entries->resolved.empty()) return exit_usage;
  auto neighbours = &entries->resolved;

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
  int status = exit_failed;
  auto within = secs(opts.timeout_s) + " (--timeout)";
  auto out_of_time = [](const caf::error& e) { return e == caf::sec::request_timeout; };
  caf::scoped_actor self{sys};
  auto pinger = sys.spawn(first_answer, node.node.transport, *neighbours, until(deadline));
  bool joined = false;
  self->request(pinger, until(deadline), actors::ping_atom::value)
      .receive([&](const net::node_id&) { joined = true; },
               [&](const caf::error& e) {
                 std::cerr << "error: no neighbour answered within "
                           << (out_of_time(e) ? within : secs(opts.dht.rpc_timeout_s) +
                                                             " (--rpc-timeout)")
                           << "; is a node running at "
                           << fmt::format("{}", fmt::join(opts.dht.neighbours, ", ")) << "?\n";
               });
  auto lookup_failed = [&](const std::string& what) {
    return [&, what](const caf::error& e) {
      if (out_of_time(e))
        std::cerr << "error: a neighbour answered but " << what << " did not finish within "
                  << within << "; each peer that does not answer holds it up for up to "
                  << secs(opts.dht.rpc_timeout_s) << " (--rpc-timeout)\n";
      else
        std::cerr << "error: " << what << " failed: " << actors::describe(e) << "\n";
    };
  };
  if (!joined) {
    // said why above
  } else if (opts.action == "put") {
    self->request(node.node.dht, until(deadline), actors::dht_put_atom::value, *key, opts.values)
        .receive(
            [&](const actors::put_result& r) {
              std::cout << "stored on " << r.stored_remote << " of " << r.tried_remote
                        << " peer(s) under " << key->to_hex() << "\n";
              status = r.stored_remote > 0 ? exit_ok : exit_failed;
              if (r.stored_remote == 0)
                std::cerr << "error: no peer stored it (by default a peer refuses values "
                             "over 512 bytes, more than 64 per key or 4 per key from one "
                             "address, and stores over its rate limit)\n";
            },
            lookup_failed("storing under " + opts.key));
  } else {
    self->request(node.node.dht, until(deadline), actors::dht_get_atom::value, *key)
        .receive(
            [&](const actors::lookup_result& r) {
              for (const auto& v : r.values) std::cout << v << "\n";
              if (!r.found)
                std::cerr << "not found: no value under " << opts.key << " (" << key->to_hex()
                          << ") on the " << r.closest.size() << " closest peer(s) that answered\n";
              status = r.found ? exit_ok : exit_failed;
            },
            lookup_failed("the lookup of " + opts.key));
  }
  std::cout.flush();
  watchdog.rearm(clock::now() + stop_grace, status,
                 "note: the short-lived node did not stop within " +
                     secs(double(stop_grace.count())) + "; exiting without it");
  node.stop();
  return status;
}

}  // namespace sova::apps
