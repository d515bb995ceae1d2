#include "apps/node_command.hpp"

#include <atomic>
#include <chrono>
#include <memory>

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <netdb.h>
#include <netinet/in.h>

#include <caf/actor_system.hpp>
#include <caf/exit_reason.hpp>
#include <caf/scoped_actor.hpp>
#include <caf/send.hpp>
#include <spdlog/spdlog.h>

#include "actors/admin_actor.hpp"
#include "actors/admin_port.hpp"
#include "actors/gateway.hpp"
#include "actors/http_frontend.hpp"
#include "apps/config_layers.hpp"
#include "apps/late_neighbours.hpp"
#include "apps/node_state_keeper.hpp"
#include "http/io_runtime.hpp"
#include "net/address_policy.hpp"
#include "net/owned_backend.hpp"
#include "net/announce_address.hpp"
#include "scheduler/io_coordinator.hpp"

namespace sova::apps {

namespace {

caf::timespan seconds(double s) {
  return std::chrono::duration_cast<caf::timespan>(std::chrono::duration<double>(s));
}

/// --services, strictly: nothing (after saying why) when an entry is bad or, with
/// --announce backends and without --allow-loopback, on a loopback address (announced as
/// it is, other machines could not reach it). Announcing the node instead, own backends
/// may sit on loopback: only the node sends to them.
std::optional<std::vector<net::owned_backend>> own_services(const node_options& opts) {
  if (opts.services.empty()) return std::vector<net::owned_backend>{};
  std::string why;
  auto list = net::parse_owned_backends(opts.services, &why);
  if (!list) {
    spdlog::error("--services: {}", why);
    return std::nullopt;
  }
  for (const auto& s : *list)
    if (s.record.is_loopback() && !opts.allow_loopback && opts.announce == "backends") {
      spdlog::error("--services: '{}' is a loopback address, which other machines cannot "
                    "reach, and --announce backends announces it as it is; give an address "
                    "they can reach, --announce node (the default: other nodes reach it "
                    "through this node), or --allow-loopback for a network on this machine "
                    "only",
                    s.record.to_string());
      return std::nullopt;
    }
  return list;
}

/// The numeric addresses of this host's interfaces.
std::vector<std::string> interface_addresses() {
  std::vector<std::string> out;
  ifaddrs* list = nullptr;
  if (::getifaddrs(&list) != 0) return out;
  for (auto* i = list; i; i = i->ifa_next) {
    if (!i->ifa_addr) continue;
    char text[INET6_ADDRSTRLEN] = {};
    if (i->ifa_addr->sa_family == AF_INET)
      ::inet_ntop(AF_INET, &reinterpret_cast<sockaddr_in*>(i->ifa_addr)->sin_addr, text, sizeof text);
    else if (i->ifa_addr->sa_family == AF_INET6)
      ::inet_ntop(AF_INET6, &reinterpret_cast<sockaddr_in6*>(i->ifa_addr)->sin6_addr, text,
                  sizeof text);
    if (text[0]) out.emplace_back(text);
  }
  ::freeifaddrs(list);
  return out;
}

/// The numeric addresses `host` resolves to now (itself when numeric; none when it does
/// not resolve). Blocking: at start only.
std::vector<std::string> resolve_now(const std::string& host) {
  if (net::classify_address(host)) return {host};
  std::vector<std::string> out;
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  if (::getaddrinfo(host.c_str(), nullptr, &hints, &found) != 0) return out;
  for (auto* a = found; a; a = a->ai_next) {
    char text[INET6_ADDRSTRLEN] = {};
    if (a->ai_family == AF_INET)
      ::inet_ntop(AF_INET, &reinterpret_cast<sockaddr_in*>(a->ai_addr)->sin_addr, text, sizeof text);
    else if (a->ai_family == AF_INET6)
      ::inet_ntop(AF_INET6, &reinterpret_cast<sockaddr_in6*>(a->ai_addr)->sin6_addr, text,
                  sizeof text);
    if (text[0]) out.emplace_back(text);
  }
  ::freeaddrinfo(found);
  return out;
}

/// What backend addresses this node refuses (--allow-loopback, --refuse-private, its own
/// HTTP API on `http_port`), judged on resolved addresses by the backend client; its own
/// backends (`own`) are allowed on loopback and private addresses, as they resolve at start.
net::address_policy backend_address_policy(const node_options& opts, std::uint16_t http_port,
                                           const std::vector<net::service_record>& own) {
  net::address_policy p;
  for (const auto& s : own)
    for (const auto& ip : resolve_now(s.host)) p.own_backends.emplace_back(ip, s.port);
  p.allow_loopback = opts.allow_loopback;
  p.allow_private = !opts.refuse_private;
  p.own = {{opts.dht.bind, http_port}};
  if (net::classify_address(opts.dht.bind) == net::address_class::unspecified)
    p.local_addresses = interface_addresses();
  return p;
}

/// The policy the client asks, replaced once the HTTP port is known (--http-port 0).
using policy_slot = std::shared_ptr<std::shared_ptr<const net::address_policy>>;

actors::gateway_config gateway_settings(const node_options& opts,
                                        std::vector<net::owned_backend> own,
                                        policy_slot policy, std::shared_ptr<http::io_runtime> io,
                                        std::vector<net::endpoint> neighbours) {
  actors::gateway_config g;
  g.io = std::move(io);
  g.client.refuse = [policy](const std::string& ip, std::uint16_t port) {
    return std::atomic_load(policy.get())->refusal(ip, port);
  };
  g.own = std::move(own);
  g.announcer.neighbours = std::move(neighbours);
  g.directory.allow_loopback = opts.allow_loopback;
  g.directory.refresh_interval = seconds(opts.directory_refresh_s);
  g.announcer.interval = seconds(opts.announce_interval_s);
  g.announcer.announce = opts.announce == "backends" ? actors::announcer_config::what::backends
                                                     : actors::announcer_config::what::node;
  g.own_queue = opts.announce != "backends";
  g.owner.attempt_timeout = seconds(opts.attempt_timeout_s);
  if (auto pub = net::parse_public_address(opts.public_address)) {
    g.announcer.public_host = pub->host;
    g.announcer.public_port = pub->port;
  }
  g.announcer.bind_host = opts.dht.bind;
  g.announcer.http_port = opts.http_port;  // 0: told once bound
  g.probe_timeout = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::duration<double>(opts.probe_timeout_s));
  g.client.max_response_body = 4 * opts.max_body + (1 << 20);  // TTS audio grows as base64
  g.io_threads = opts.http_threads;  // the HTTP server and the backend client share them
  return g;
}

std::string admin_host(const node_options& opts) {
  if (!opts.admin_bind.empty()) return opts.admin_bind;
  return net::is_loopback_host(opts.dht.bind) ? opts.dht.bind : "127.0.0.1";
}

/// The admin actor and the port that serves it.
struct running_admin {
  actors::admin_actor actor;
  std::shared_ptr<http::server> port;

  void stop() {
    if (port) port->stop();
    if (actor) caf::anon_send_exit(actor, caf::exit_reason::user_shutdown);
  }
};

/// Spawns the admin actor and serves it; throws std::runtime_error naming the address
/// when the port cannot be opened.
running_admin start_admin(caf::actor_system& sys, const node_options& opts,
                          actors::admin_sources src) {
  auto host = admin_host(opts);
  if (!net::is_loopback_host(host))
    spdlog::warn("admin port on {}: the admin protocol has no authentication, so whoever "
                 "reaches {}:{} controls this node; keep it behind a firewall",
                 host, host, opts.admin_port);
  auto port = std::make_shared<std::atomic<std::uint16_t>>(0);
  src.admin_host = host;
  src.admin_port = port;
  // A command asks other actors, each question bounded by ask_timeout: twice that bounds
  // the whole command.
  auto command_timeout = 2 * src.ask_timeout;
  running_admin admin;
  admin.actor = actors::spawn_admin(sys, std::move(src));
  try {
    admin.port = actors::serve_admin(sys, admin.actor, host, opts.admin_port, command_timeout);
  } catch (const std::exception& e) {
    admin.stop();
    throw std::runtime_error("cannot open the admin port " + host + ":" +
                             std::to_string(opts.admin_port) + " (" + e.what() +
                             "): give another --admin-port, or --no-admin");
  }
  port->store(admin.port->port());
  spdlog::info("admin console on {}:{} (sova-dc admin --connect {}:{})", host,
               admin.port->port(), host, admin.port->port());
  return admin;
}

/// Waits for a stop signal, saving the node state every --state-interval meanwhile;
/// the signal's name.
const char* wait_saving_state(stop_signals& stop, caf::actor_system& sys,
                              const node_options& opts, node_state_keeper* keeper,
                              const actors::routing_table_actor& table) {
  if (!keeper) return stop.wait();
  auto interval = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::duration<double>(opts.state_interval_s));
  for (;;) {
    if (const char* signal = stop.wait_for(interval)) return signal;
    keeper->save(sys, table);
  }
}

/// The front end's counters, asked from this (main) thread; none when it does not answer.
std::optional<actors::http_counters> frontend_counters(caf::scoped_actor& self,
                                                       const actors::http_frontend_actor& fe) {
  std::optional<actors::http_counters> out;
  self->request(fe, std::chrono::seconds(5), actors::stats_atom::value)
      .receive([&](const actors::http_counters& c) { out = c; }, [](const caf::error&) {});
  return out;
}

/// After the first stop signal: drain as the admin's `drain` does and give the requests in
/// flight up to --grace-period to finish; a second signal cuts the wait short. Runs on the
/// main thread, which may block on the actors (they run on the io thread).
void drain_before_stop(stop_signals& stop, const char* signal, const node_options& opts,
                       caf::actor_system& sys, const actors::http_frontend_actor& frontend,
                       const actors::gateway& gw) {
  caf::scoped_actor self{sys};
  actors::ask_drain(self.ptr(), frontend, gw.announcer, true, std::chrono::seconds(5))
      .receive([](bool) {}, [](const caf::error&) {});
  auto in_flight = [&] {
    auto c = frontend_counters(self, frontend);
    return c ? c->in_flight : 0;
  };
  auto left = in_flight();
  if (left == 0 || opts.grace_period_s <= 0) {
    spdlog::info("{} received: stopping", signal);
    return;
  }
  spdlog::info("{} received: draining; {} request(s) in flight get up to {} s to finish "
               "(--grace-period), a second signal stops at once",
               signal, left, opts.grace_period_s);
  using clock = std::chrono::steady_clock;
  auto deadline = clock::now() + std::chrono::duration_cast<clock::duration>(
                                     std::chrono::duration<double>(opts.grace_period_s));
  while (left > 0 && clock::now() < deadline) {
    if (const char* again = stop.wait_for(std::chrono::milliseconds(50))) {
      spdlog::warn("{} received again: stopping now", again);
      break;
    }
    left = in_flight();
  }
  if (left > 0)
    spdlog::warn("stopping with {} request(s) still in flight", left);
  else
    spdlog::info("every request in flight finished: stopping");
}

}  // namespace

CLI::App* add_node_command(CLI::App& app, node_options& opts) {
  auto* cmd = app.add_subcommand(
      "node", "Run a node: join through --neighbours (or start a network), announce this "
              "node's --services, serve ASR and TTS on --http-port");
  cmd->add_option("--port", opts.port, "UDP port of the DHT")->capture_default_str();
  opts.dht.add_to(*cmd, true);
  cmd->add_option("--services", opts.services,
                  "This node's backends, service/kind/host:port[*N][,...] with service asr|tts, "
                  "kind cpu|gpu and N the jobs the backend runs at once (1-64; 1 without *N, "
                  "a SOVA server's one worker; never announced), e.g. "
                  "asr/cpu/10.0.0.5:8888*4,tts/gpu/10.0.0.6:8899");
  cmd->add_option("--announce", opts.announce,
                  "What this node announces for its --services: node (this node's HTTP "
                  "endpoint, tts/cpu/<node host>:<http port>, one record per service/kind while "
                  "one of its backends of that pair answers; other nodes send it the requests, "
                  "and its backends may sit on loopback or a private network) or backends "
                  "(each backend's own address, as the original node did)")
      ->capture_default_str()
      ->check(CLI::IsMember({"node", "backends"}));
  cmd->add_option("--public-address", opts.public_address,
                  "host[:port] other nodes reach this node's HTTP API at, announced as it is "
                  "(containers, NAT; port: --http-port). Default: the address a peer sees "
                  "this node from (the stun RPC), else --bind. 0.0.0.0/:: is never announced, "
                  "nor loopback unless every peer is on loopback too")
      ->check([](const std::string& text) {
        std::string why;
        return net::parse_public_address(text, &why) ? std::string{} : why;
      });
  cmd->add_flag("--allow-loopback", opts.allow_loopback,
                "Accept backends on localhost/127.0.0.0/8/::1 learnt from the network (a "
                "network on one machine); own --services may sit there without it unless "
                "--announce backends");
  cmd->add_flag("--refuse-private", opts.refuse_private,
                "Refuse backends on private addresses (10/8, 172.16/12, 192.168/16, 100.64/10, "
                "fc00::/7), allowed by default. Whatever the flags, a backend's name is "
                "resolved and the address judged before every connection: unspecified "
                "(0.0.0.0, ::), link-local (169.254/16: cloud metadata; fe80::/10), multicast, "
                "broadcast and this node's own HTTP API are always refused, loopback unless "
                "--allow-loopback. With --announce node, own --services may sit on loopback and "
                "private addresses whatever these flags: only this node sends to them");
  cmd->add_option("--http-port", opts.http_port,
                  "TCP port of the HTTP API, on the --bind address (0: any free port)")
      ->capture_default_str();
  cmd->add_option("--max-body", opts.max_body,
                  "Largest request body accepted, bytes (suffixes KiB, MiB: 32MiB); larger: 413")
      ->capture_default_str()
      ->transform(CLI::AsSizeValue(false));
  cmd->add_option("--max-connections", opts.max_connections,
                  "Open HTTP connections at most; more are answered 503")
      ->capture_default_str()
      ->check(CLI::Range(1, 1000000));
  cmd->add_option("--max-connections-per-address", opts.max_connections_per_address,
                  "Open HTTP connections from one client address at most, so that one client "
                  "cannot take every place; more are answered 429 and closed. 0: no cap but "
                  "--max-connections (behind a reverse proxy, whose connections all come from "
                  "its address)")
      ->capture_default_str()
      ->check(CLI::Range(0, 1000000));
  cmd->add_option("--body-budget", opts.body_budget,
                  "Bytes of request bodies held at once, all connections together (suffixes "
                  "KiB, MiB, GiB: 256MiB): a body counts from its header (its Content-Length; "
                  "chunk by chunk when chunked) until its reply; past it, 503 busy with "
                  "Retry-After before the body is read. At least --max-body; 0: no budget")
      ->capture_default_str()
      ->transform(CLI::AsSizeValue(false));
  cmd->add_option("--http-threads", opts.http_threads,
                  "Threads serving HTTP connections, the calls to backends and the actors (with "
                  "1, a request's actor runs on the thread that read it; with more, on any of them)")
      ->capture_default_str()
      ->check(CLI::Range(1, 64));
  cmd->add_option("--attempts", opts.attempts,
                  "Backends tried at most per request (a failed one is retried on another)")
      ->capture_default_str()
      ->check(CLI::Range(1, 20));
  cmd->add_option("--request-timeout", opts.request_timeout_s,
                  "Seconds a request may take in all, retries included; then 504")
      ->capture_default_str()
      ->check(CLI::Range(0.1, 3600.0));
  cmd->add_option("--attempt-timeout", opts.attempt_timeout_s,
                  "Seconds one backend may take before the request moves on to another")
      ->capture_default_str()
      ->check(CLI::Range(0.1, 3600.0));
  cmd->add_option("--announce-interval", opts.announce_interval_s,
                  "Seconds between probes and announcements of this node's own backends (one that "
                  "does not answer is probed again sooner: after 1, 2, 4 ... s, up to this)")
      ->capture_default_str()
      ->check(CLI::Range(0.1, 3600.0));
  cmd->add_option("--probe-timeout", opts.probe_timeout_s,
                  "Seconds an own backend has to answer a probe before it counts as dead")
      ->capture_default_str()
      ->check(CLI::Range(0.05, 600.0));
  cmd->add_option("--directory-refresh", opts.directory_refresh_s,
                  "Seconds before the backends known for a service are looked up again "
                  "(in the background; requests are served from what is known meanwhile)")
      ->capture_default_str()
      ->check(CLI::Range(0.1, 3600.0));
  cmd->add_option("--grace-period", opts.grace_period_s,
                  "Seconds requests in flight get to finish after SIGTERM/SIGINT (new ones are "
                  "answered 503, own backends no longer announced); a second signal stops at "
                  "once")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 3600.0));
  cmd->add_option("--admin-port", opts.admin_port,
                  "TCP port of the admin console (sova-dc admin) on --admin-bind (0: any free "
                  "port)")
      ->capture_default_str();
  cmd->add_option("--admin-bind", opts.admin_bind,
                  "Address of the admin port; default: --bind when that is a loopback address, "
                  "else 127.0.0.1. The admin protocol has no authentication: anything else "
                  "lets whoever reaches it control the node (a warning is logged)");
  cmd->add_flag("--no-admin", opts.no_admin, "Open no admin port");
  cmd->add_option("--state-dir", opts.state_dir,
                  "Directory where the node keeps its id and a snapshot of its routing table "
                  "(node-state.json, written every --state-interval and at shutdown); on a "
                  "restart it keeps the id and, without --neighbours, rejoins through the "
                  "contacts it knew. Default: nothing kept");
  cmd->add_option("--state-interval", opts.state_interval_s,
                  "Seconds between snapshots of the routing table in --state-dir")
      ->capture_default_str()
      ->check(CLI::Range(1.0, 86400.0));
  cmd->add_option("--log-level", opts.log_level, "Log level")
      ->capture_default_str()
      ->check(CLI::IsMember(log_levels()));
  cmd->add_option("--log-format", opts.log_format,
                  "Log lines as text, or as one JSON object per line (json)")
      ->capture_default_str()
      ->check(CLI::IsMember({"text", "json"}));
  add_config_layers(*cmd, opts.config, node_env_prefix);
  cmd->footer("Every flag can also be set by an environment variable (shown as Env:) or a "
              "line of the --config file; a flag beats the environment, which beats the "
              "file, which beats the default.");
  return cmd;
}

int run_node(const node_options& opts) {
  setup_logging(opts.log_level, opts.log_format);
  auto entries = resolve_neighbours(opts.dht.neighbours);
  if (!entries) return exit_usage;
  auto neighbours = &entries->resolved;
  auto own = own_services(opts);
  if (!own) return exit_usage;
  const auto own_records = net::records_of(*own);
  std::optional<net::node_state> saved;
  try {
    if (!opts.state_dir.empty()) saved = load_node_state(opts.state_dir);
  } catch (const std::exception& e) {
    spdlog::error("--state-dir: {}", e.what());
    return exit_failed;
  }

  stop_signals stop;  // before any thread starts

  // The io threads of the HTTP server and the backend client run the actors too (see
  // scheduler/io_coordinator.hpp); the actor system's destructor joins them.
  auto io = http::io_runtime::start(opts.http_threads, {kept_freed_memory});
  caf::actor_system_config caf_cfg;
  configure_caf(caf_cfg);
  scheduler::run_actors_on(caf_cfg, io);
  caf::actor_system sys{caf_cfg};
  auto cfg = opts.dht.to_config();
  if (saved) cfg.self = saved->id;  // the same node as before the restart
  running_node node;
  policy_slot policy = std::make_shared<std::shared_ptr<const net::address_policy>>(
      std::make_shared<const net::address_policy>(backend_address_policy(opts, opts.http_port, own_records)));
  actors::gateway gw;
  std::unique_ptr<actors::http_frontend> frontend;
  running_admin admin;
  std::optional<node_state_keeper> keeper;
  try {
    node = start_node(sys, cfg, opts.dht.bind, opts.port);
    gw = actors::spawn_gateway(sys, gateway_settings(opts, *own, policy, io, *neighbours),
                               node.node);
    http::server_limits limits;
    limits.max_body = opts.max_body;
    limits.max_connections = opts.max_connections;
    limits.max_connections_per_address = opts.max_connections_per_address;
    limits.body_budget = opts.body_budget;
    limits.threads = opts.http_threads;
    actors::request_config req;
    req.max_attempts = opts.attempts;
    req.deadline = seconds(opts.request_timeout_s);
    req.attempt_timeout = seconds(opts.attempt_timeout_s);
    req.late_binding = opts.announce != "backends";
    actors::node_handles src{cfg.self.to_hex(), node.port->local_endpoint().to_string(), "",
                               SOVA_DC_VERSION,  node.node.table, gw.directory, gw.pool,
                               gw.announcer,     node.node.transport, gw.owner};
    frontend = actors::http_frontend::start(sys, opts.dht.bind, opts.http_port, limits, req, src,
                                            {gw.io, gw.board, own_records, gw.owner});
    if (opts.http_port == 0)
      std::atomic_store(policy.get(), std::make_shared<const net::address_policy>(
                                          backend_address_policy(opts, frontend->port(), own_records)));
    if (gw.announcer)
      caf::anon_send(gw.announcer, actors::http_port_atom::value, frontend->port());
    if (!opts.no_admin) {
      actors::admin_sources as;
      as.node = src;
      as.node.http_endpoint = opts.dht.bind + ":" + std::to_string(frontend->port());
      as.dht = node.node.dht;
      as.frontend = frontend->actor();
      as.k = static_cast<std::uint32_t>(cfg.k);
      admin = start_admin(sys, opts, std::move(as));
    }
    if (!opts.state_dir.empty()) {
      keeper.emplace(opts.state_dir, cfg.self,
                     saved ? saved->contacts : std::vector<net::contact>{});
      if (!keeper->save(sys, node.node.table))  // the id is on disk from the start
        throw std::runtime_error("--state-dir " + opts.state_dir +
                                 ": cannot keep the node state there (see above)");
    }
  } catch (const std::exception& e) {
    spdlog::error("{}", e.what());
    admin.stop();
    if (frontend) frontend->stop();
    gw.stop();
    node.stop();
    return exit_failed;
  }
  spdlog::info("node {} listening on udp {} and http {}:{} (k={}, alpha={})", cfg.self.to_hex(),
               node.port->local_endpoint().to_string(), opts.dht.bind, frontend->port(), cfg.k,
               cfg.alpha);
  if (saved) spdlog::info("node id {} kept from {}", cfg.self.to_hex(), opts.state_dir);
  for (const auto& s : *own)
    spdlog::info("own backend {} (capacity {}{}): probing, then announcing", s.record.to_string(),
                 s.capacity_given || !gw.owner ? std::to_string(s.capacity)
                                               : "1, or the Sova-Workers its answers tell",
                 gw.owner ? ", jobs queued here" : ", not queued: --announce backends");
  if (neighbours->empty() && saved && !saved->contacts.empty()) {
    for (const auto& c : saved->contacts) neighbours->push_back(c.ep);
    spdlog::info("no --neighbours{}: rejoining through the {} contact(s) saved in {}",
                 entries->unresolved.empty() ? "" : " resolved yet", saved->contacts.size(),
                 opts.state_dir);
  }
  if (neighbours->empty() && entries->unresolved.empty())
    spdlog::info("no --neighbours: starting a new network; others join through this node");
  if (!neighbours->empty())
    caf::anon_send(node.node.dht, actors::bootstrap_atom::value, *neighbours);
  std::optional<late_neighbours> late;
  if (!entries->unresolved.empty()) {
    for (const auto& u : entries->unresolved)
      spdlog::warn("neighbour '{}' does not resolve yet: resolving it again on a backoff "
                   "(1 s, doubling up to 60 s) and joining through it once it does",
                   u);
    auto dht = node.node.dht;
    late.emplace(entries->unresolved, [dht](const std::string& entry, const net::endpoint& ep) {
      spdlog::info("neighbour '{}' resolves to {} now: joining through it", entry, ep.to_string());
      caf::anon_send(dht, actors::bootstrap_atom::value, std::vector<net::endpoint>{ep});
    });
  }

  drain_before_stop(stop, wait_saving_state(stop, sys, opts, keeper ? &*keeper : nullptr,
                                            node.node.table),
                    opts, sys, frontend->actor(), gw);
  if (late) late->stop();
  admin.stop();
  frontend->stop(reply_write_grace);
  if (keeper && keeper->save(sys, node.node.table))
    spdlog::info("node state saved in {}", keeper->dir());
  gw.stop();
  node.stop();
  return exit_ok;
}

}  // namespace sova::apps
