#pragma once
// Many DHT nodes in one process over an in-memory datagram fabric, driven by CAF's
// deterministic test coordinator (simulated time). Datagrams are real rpcudp bytes
// through the real codec; only the socket is replaced. Used by the actor tests,
// the simulation test and the DHT benchmark. Nothing here touches a real network.

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include <caf/abstract_actor.hpp>
#include <caf/actor_cast.hpp>
#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/expected.hpp>
#include <caf/scheduler/test_coordinator.hpp>

#include "actors/dht_config.hpp"
#include "actors/dht_node.hpp"
#include "net/datagram_port.hpp"

namespace sova::sim {

/// Sets the deterministic scheduler on a config (what CAF's test fixture does).
void configure_for_simulation(caf::actor_system_config& cfg);
caf::scheduler::test_coordinator& coordinator(caf::actor_system& sys);

/// The datagrams one captured endpoint received: (from, bytes).
using captured = std::vector<std::pair<net::endpoint, std::string>>;

class sim_network {
public:
  explicit sim_network(caf::actor_system& sys, std::uint64_t seed = 1);
  ~sim_network();

  /// The fake address of node i (a string only: no socket is ever opened).
  static net::endpoint address_of(std::size_t i);

  /// Adds a node at address_of(size()); returns its index.
  std::size_t add_node(const actors::dht_config& cfg);
  /// A config with a random id from this network's generator and `base`'s settings.
  actors::dht_config make_config(actors::dht_config base = {});

  actors::dht_node& node(std::size_t i) { return nodes_[i].node; }
  const net::endpoint& endpoint_of(std::size_t i) const { return nodes_[i].ep; }
  std::size_t size() const { return nodes_.size(); }
  bool alive(std::size_t i) const { return nodes_[i].alive; }

  /// The node vanishes without notice: its datagrams stop and its actors end.
  void kill(std::size_t i);

  /// Datagrams sent to `ep` are recorded instead of delivered (a probe peer).
  captured& capture(const net::endpoint& ep);
  /// Delivers a datagram to node `to` as if `from` had sent it (not "inject": a CAF DSL macro).
  void inject_datagram(const net::endpoint& from, std::size_t to, std::string bytes);

  std::uint64_t delivered() const;
  std::uint64_t dropped() const;  // to dead or unknown addresses
  std::mt19937_64& rng() { return rng_; }
  caf::actor_system& system() { return sys_; }

  struct fabric;

private:
  struct entry {
    net::endpoint ep;
    actors::dht_node node;
    bool alive = true;
  };
  caf::actor_system& sys_;
  std::shared_ptr<fabric> fabric_;
  std::vector<entry> nodes_;
  std::mt19937_64 rng_;
};

/// Runs every pending message, then advances simulated time by `step` (firing
/// timers) until `done()` holds or `limit` of simulated time has passed.
bool drive(caf::scheduler::test_coordinator& sched, const std::function<bool()>& done,
           caf::timespan limit, caf::timespan step = std::chrono::milliseconds(100));

/// A request whose result lands in a shared slot once the simulation delivers it.
template <class T>
using answer = std::shared_ptr<std::optional<caf::expected<T>>>;

template <class T, class Handle, class... Ts>
answer<T> ask(caf::actor_system& sys, const Handle& dest, Ts... xs) {
  auto out = std::make_shared<std::optional<caf::expected<T>>>();
  // The slot goes in as a spawn argument: CAF 0.17 binds a reference to a null
  // tuple when a function actor is spawned without arguments (UBSan reports it).
  sys.spawn(
      [=](caf::event_based_actor* self, answer<T> slot) {
        self->request(dest, caf::infinite, xs...)
            .then([=](T& x) { *slot = std::move(x); },
                  [=](caf::error& e) { *slot = caf::expected<T>(std::move(e)); });
      },
      out);
  return out;
}

template <class T>
bool ready(const answer<T>& a) {
  return a->has_value();
}

/// Whether the actor behind `h` has ended: CAF runs a functor attached to an ended actor
/// at once (one attached to a live actor runs when it ends, and changes nothing here).
template <class Handle>
bool has_ended(const Handle& h) {
  auto ended = std::make_shared<bool>(false);
  caf::actor_cast<caf::abstract_actor*>(h)->attach_functor([ended] { *ended = true; });
  return *ended;
}

}  // namespace sova::sim
