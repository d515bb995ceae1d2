#include "apps/common.hpp"

#include <random>

#include <pthread.h>

#include <caf/actor_system.hpp>
#include <caf/atom.hpp>
#include <caf/send.hpp>
#include <spdlog/spdlog.h>

#include "actors/interfaces.hpp"
#include "serving/logging.hpp"

namespace sova::apps {

const std::vector<std::string>& log_levels() {
  static const std::vector<std::string> levels{"trace", "debug", "info", "warn", "error", "off"};
  return levels;
}

void setup_logging(const std::string& level, const std::string& format) {
  serving::setup_logging(level,
                         format == "json" ? serving::log_format::json : serving::log_format::text);
}

stop_signals::stop_signals() {
  sigemptyset(&set_);
  sigaddset(&set_, SIGINT);
  sigaddset(&set_, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set_, nullptr);
}

const char* stop_signals::wait() {
  int sig = 0;
  sigwait(&set_, &sig);
  return sig == SIGINT ? "SIGINT" : "SIGTERM";
}

const char* stop_signals::wait_for(std::chrono::milliseconds limit) {
  auto s = std::chrono::duration_cast<std::chrono::seconds>(limit);
  timespec ts{static_cast<time_t>(s.count()),
              static_cast<long>(std::chrono::nanoseconds(limit - s).count())};
  int sig = sigtimedwait(&set_, nullptr, &ts);
  if (sig < 0) return nullptr;  // EAGAIN: the time passed; EINTR: try again later
  return sig == SIGINT ? "SIGINT" : "SIGTERM";
}

void configure_caf(caf::actor_system_config& cfg) {
  cfg.set("logger.file-verbosity", caf::atom("quiet"));
  cfg.set("logger.console-verbosity", caf::atom("quiet"));
  cfg.set("scheduler.max-threads", std::min<std::size_t>(4, std::max(2u, std::thread::hardware_concurrency())));
}

void dht_flags::add_to(CLI::App& cmd, bool with_ttl) {
  cmd.add_option("--bind", bind, "Address every socket of this process binds to")
      ->capture_default_str();
  cmd.add_option("--neighbours", neighbours,
                 "Nodes to join through, host:port[,host:port...] (names are resolved)")
      ->delimiter(',');
  cmd.add_option("--ksize", ksize, "Kademlia k: bucket size and lookup width")
      ->capture_default_str()
      ->check(CLI::Range(1, 256));
  cmd.add_option("--alpha", alpha, "Lookup parallelism")
      ->capture_default_str()
      ->check(CLI::Range(1, 32));
  cmd.add_option("--rpc-timeout", rpc_timeout_s, "Seconds to wait for a DHT reply")
      ->capture_default_str()
      ->check(CLI::Range(0.05, 120.0));
  if (with_ttl)
    cmd.add_option("--record-ttl", record_ttl_s,
                   "Seconds a stored record lives unless it is stored again")
        ->capture_default_str()
        ->check(CLI::Range(1L, 7L * 24 * 3600));
}

actors::dht_config dht_flags::to_config() const {
  std::random_device rd;
  std::mt19937_64 rng((static_cast<std::uint64_t>(rd()) << 32) ^ rd());
  actors::dht_config cfg;
  cfg.self = net::node_id::random(rng);
  cfg.k = ksize;
  cfg.alpha = alpha;
  cfg.rpc_timeout = std::chrono::duration_cast<caf::timespan>(
      std::chrono::duration<double>(rpc_timeout_s));
  cfg.record_ttl = std::chrono::seconds(record_ttl_s);
  cfg.seed = rng();
  return cfg;
}

running_node start_node(caf::actor_system& sys, const actors::dht_config& cfg,
                        const std::string& bind, std::uint16_t port) {
  running_node r;
  r.port = net::udp_port::bind(bind, port);
  r.node = actors::spawn_dht_node(sys, cfg, r.port);
  auto transport = r.node.transport;
  r.port->start([transport](const net::endpoint& from, std::string bytes) {
    caf::anon_send(transport, actors::datagram_atom::value, from, std::move(bytes));
  });
  return r;
}

void running_node::stop() {
  if (port) port->stop();
  node.stop();
}

std::optional<neighbour_entries> resolve_neighbours(const std::vector<std::string>& in) {
  std::vector<std::string> bad;
  neighbour_entries out;
  out.resolved = net::resolve_endpoints(in, &bad);
  bool usage = false;
  for (auto& b : bad) {
    if (net::parse_host_port(b)) {
      out.unresolved.push_back(std::move(b));
      continue;
    }
    spdlog::error("neighbour '{}' is not HOST:PORT with a port 1-65535", b);
    usage = true;
  }
  if (usage) return std::nullopt;
  return out;
}

}  // namespace sova::apps
