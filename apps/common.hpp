#pragma once
// What every sova-dc subcommand shares: logging, the actor system's settings, the
// DHT flags, and running a node on a real UDP port.

#include <chrono>
#include <csignal>
#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <caf/actor_system_config.hpp>

#include "actors/dht_config.hpp"
#include "actors/dht_node.hpp"
#include "net/udp_port.hpp"

namespace sova::apps {

/// Exit statuses shared by all subcommands.
constexpr int exit_ok = 0;
constexpr int exit_failed = 1;  // the operation failed (network, not found, ...)
constexpr int exit_usage = 2;   // bad command line

/// At a stop signal, replies given before the stop still reach their clients: a server
/// (node or reference backend) waits this long at most for them to be written.
constexpr std::chrono::seconds reply_write_grace{10};

/// Freed memory a node keeps in its heap for the next bodies it relays (sixteen 1 MiB
/// uploads at once fit), given back every few seconds (http::io_runtime::heap_policy).
constexpr std::size_t kept_freed_memory = 32u << 20;

/// Log levels accepted by --log-level.
const std::vector<std::string>& log_levels();
/// Stderr logging at `level`; `format` "text" (default) or "json" (one object per line).
void setup_logging(const std::string& level, const std::string& format = "text");

/// SIGINT and SIGTERM, blocked in the constructing thread and every thread it starts
/// later, so that only wait() receives them. Construct it before starting any thread.
class stop_signals {
public:
  stop_signals();
  /// Waits for one of them; its name ("SIGINT", "SIGTERM").
  const char* wait();
  /// The same, up to `limit`: nullptr when none came.
  const char* wait_for(std::chrono::milliseconds limit);

private:
  sigset_t set_;
};

/// CAF settings for a real process: quiet CAF logger, a few worker threads.
void configure_caf(caf::actor_system_config& cfg);

/// The DHT flags every command that joins the network takes.
struct dht_flags {
  std::string bind = "0.0.0.0";
  std::vector<std::string> neighbours;
  std::size_t ksize = 20;
  std::size_t alpha = 3;
  double rpc_timeout_s = 5.0;
  long record_ttl_s = 3600;
  void add_to(CLI::App& cmd, bool with_ttl);
  actors::dht_config to_config() const;  // with a fresh random id
};

/// A node on a real UDP socket: port bound, actors spawned, datagrams flowing.
struct running_node {
  std::shared_ptr<net::udp_port> port;
  actors::dht_node node;
  void stop();
};
/// Throws std::runtime_error when the port cannot be bound.
running_node start_node(caf::actor_system& sys, const actors::dht_config& cfg,
                        const std::string& bind, std::uint16_t port);

struct neighbour_entries {
  std::vector<net::endpoint> resolved;
  std::vector<std::string> unresolved;  ///< HOST:PORT whose host does not resolve (now)
};
/// Resolves --neighbours; nothing, after an error naming each, when an entry is not
/// HOST:PORT at all.
std::optional<neighbour_entries> resolve_neighbours(const std::vector<std::string>& in);

}  // namespace sova::apps
