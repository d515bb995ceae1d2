#include "sim_network.hpp"

#include <caf/atom.hpp>
#include <caf/send.hpp>
#include <spdlog/spdlog.h>

#include "actors/interfaces.hpp"

namespace sova::sim {

void configure_for_simulation(caf::actor_system_config& cfg) {
  cfg.set("scheduler.policy", caf::atom("testing"));
  cfg.set("logger.file-verbosity", caf::atom("quiet"));
  cfg.set("logger.console-verbosity", caf::atom("quiet"));
  cfg.set("logger.inline-output", true);
  cfg.set("middleman.network-backend", caf::atom("testing"));
  cfg.set("middleman.manual-multiplexing", true);
  cfg.set("middleman.workers", size_t{0});
}

caf::scheduler::test_coordinator& coordinator(caf::actor_system& sys) {
  return dynamic_cast<caf::scheduler::test_coordinator&>(sys.scheduler());
}

/// Shared by the network and its ports, so a port outliving the network is harmless.
struct sim_network::fabric {
  std::map<net::endpoint, actors::rpc_transport_actor> live;
  std::map<net::endpoint, captured> probes;
  std::uint64_t delivered = 0;
  std::uint64_t dropped = 0;

  void deliver(const net::endpoint& from, const net::endpoint& to, std::string bytes) {
    if (auto p = probes.find(to); p != probes.end()) {
      p->second.emplace_back(from, std::move(bytes));
      ++delivered;
      return;
    }
    auto it = live.find(to);
    if (it == live.end()) {
      ++dropped;
      return;
    }
    ++delivered;
    caf::anon_send(it->second, actors::datagram_atom::value, from, std::move(bytes));
  }
};

namespace {

class sim_port : public net::datagram_port {
public:
  sim_port(std::shared_ptr<sim_network::fabric> f, net::endpoint self)
      : fabric_(std::move(f)), self_(std::move(self)) {}
  void send(const net::endpoint& to, std::string datagram) override {
    fabric_->deliver(self_, to, std::move(datagram));
  }
  net::endpoint local_endpoint() const override { return self_; }

private:
  std::shared_ptr<sim_network::fabric> fabric_;
  net::endpoint self_;
};

}  // namespace

sim_network::sim_network(caf::actor_system& sys, std::uint64_t seed)
    : sys_(sys), fabric_(std::make_shared<fabric>()), rng_(seed) {
  // Hundreds of nodes logging every join would drown the test output.
  spdlog::set_level(spdlog::level::warn);
}

sim_network::~sim_network() {
  for (std::size_t i = 0; i < nodes_.size(); ++i)
    if (nodes_[i].alive) kill(i);
}

net::endpoint sim_network::address_of(std::size_t i) {
  return net::endpoint{"127.1." + std::to_string(i / 250) + "." + std::to_string(i % 250 + 1),
                       5678};
}

actors::dht_config sim_network::make_config(actors::dht_config base) {
  base.self = net::node_id::random(rng_);
  base.seed = rng_();
  return base;
}

std::size_t sim_network::add_node(const actors::dht_config& cfg) {
  auto ep = address_of(nodes_.size());
  auto port = std::make_shared<sim_port>(fabric_, ep);
  entry e{ep, actors::spawn_dht_node(sys_, cfg, port), true};
  fabric_->live.emplace(ep, e.node.transport);
  nodes_.push_back(std::move(e));
  return nodes_.size() - 1;
}

void sim_network::kill(std::size_t i) {
  auto& e = nodes_[i];
  if (!e.alive) return;
  e.alive = false;
  fabric_->live.erase(e.ep);
  e.node.stop();
}

captured& sim_network::capture(const net::endpoint& ep) { return fabric_->probes[ep]; }

void sim_network::inject_datagram(const net::endpoint& from, std::size_t to, std::string bytes) {
  caf::anon_send(nodes_[to].node.transport, actors::datagram_atom::value, from, std::move(bytes));
}

std::uint64_t sim_network::delivered() const { return fabric_->delivered; }
std::uint64_t sim_network::dropped() const { return fabric_->dropped; }

bool drive(caf::scheduler::test_coordinator& sched, const std::function<bool()>& done,
           caf::timespan limit, caf::timespan step) {
  caf::timespan elapsed{0};
  for (;;) {
    sched.run();
    if (done()) return true;
    if (elapsed >= limit) return false;
    sched.advance_time(step);
    elapsed += step;
  }
}

}  // namespace sova::sim
