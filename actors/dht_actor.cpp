#include "actors/dht_actor.hpp"

#include <memory>

#include <caf/actor_system.hpp>
#include <caf/send.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>
#include <spdlog/spdlog.h>

#include "actors/lookup_actor.hpp"
#include "net/neighbour_schedule.hpp"

namespace sova::actors {

namespace {

using mode = net::lookup_state::mode;

struct dht_state {
  dht_config cfg;
  rpc_transport_actor transport;
  routing_table_actor table;
  net::neighbour_schedule neighbours{{}};  // --neighbours, kept in touch with
  bool bootstrapping = false;
  static inline const char* name = "dht";
};

using self_ptr = dht_actor::stateful_pointer<dht_state>;

lookup_actor start_lookup(self_ptr self, const node_id& target, mode m, contacts seeds = {}) {
  auto& st = self->state;
  lookup_params p;
  p.self = st.cfg.self;
  p.k = st.cfg.k;
  p.alpha = st.cfg.alpha;
  p.transport = st.transport;
  p.table = st.table;
  p.target = target;
  p.mode = m;
  p.extra_seeds = std::move(seeds);
  return spawn_lookup(self->system(), std::move(p));
}

net::neighbour_schedule::clock::time_point now(self_ptr self) { return self->clock().now(); }

/// Pings every neighbour, then looks up our own id from those that answered (the
/// original's bootstrap); delivers how many contacts the table then holds.
void bootstrap(self_ptr self, std::vector<endpoint> neighbours,
               caf::typed_response_promise<std::uint32_t> rp) {
  neighbours.erase(std::remove_if(neighbours.begin(), neighbours.end(),
                                  [&](const endpoint& ep) {
                                    return !self->state.neighbours.contact_now(ep);
                                  }),
                   neighbours.end());
  struct progress {
    std::size_t pending;
    contacts answered;
  };
  if (neighbours.empty()) {  // every one is being contacted already
    self->request(self->state.table, caf::infinite, table_atom::value)
        .then([=](const contacts& all) mutable {
          rp.deliver(static_cast<std::uint32_t>(all.size()));
        });
    return;
  }
  auto prog = std::make_shared<progress>(progress{neighbours.size(), {}});
  self->state.bootstrapping = true;
  auto one_done = [=]() mutable {
    if (--prog->pending > 0) return;
    auto lk = start_lookup(self, self->state.cfg.self, mode::find_node, prog->answered);
    self->request(lk, caf::infinite, run_atom::value)
        .then([=](const lookup_result&) mutable {
          self->request(self->state.table, caf::infinite, table_atom::value)
              .then([=](const contacts& all) mutable {
                self->state.bootstrapping = false;
                spdlog::info("bootstrap done: {} of {} neighbour(s) answered, {} contact(s) known",
                             prog->answered.size(), self->state.neighbours.size(), all.size());
                rp.deliver(static_cast<std::uint32_t>(all.size()));
              });
        });
  };
  for (const auto& ep : neighbours) {
    self->request(self->state.transport, caf::infinite, ping_atom::value, ep)
        .then(
            [=](const node_id& id) mutable {
              self->state.neighbours.answered(ep, now(self));
              prog->answered.push_back(contact{id, ep});
              one_done();
            },
            [=](const caf::error& e) mutable {
              self->state.neighbours.silent(ep, now(self));
              spdlog::warn("neighbour {} did not answer the bootstrap ping: {} (tried again "
                           "until it answers)",
                           ep.to_string(), describe(e));
              one_done();
            });
  }
}

/// Stores `values` on the k closest nodes to `key`, and here too when we are one of
/// them (or know fewer than k nodes), as the original's set_digest does.
void put(self_ptr self, const node_id& key, const strings& values,
         caf::typed_response_promise<put_result> rp) {
  auto lk = start_lookup(self, key, mode::find_node);
  self->request(lk, caf::infinite, run_atom::value)
      .then(
          [=](const lookup_result& found) mutable {
            auto& st = self->state;
            const auto& nodes = found.closest;
            bool here = nodes.size() < st.cfg.k ||
                        closer_to(key, st.cfg.self, nodes.back().id);
            auto result = std::make_shared<put_result>();
            result->tried_remote = static_cast<std::uint32_t>(nodes.size());
            auto pending = std::make_shared<std::size_t>(nodes.size() + (here ? 1 : 0));
            auto one_done = [=]() mutable {
              if (--*pending == 0) rp.deliver(*result);
            };
            if (*pending == 0) {
              rp.deliver(*result);
              return;
            }
            if (here)
              self->request(st.transport, caf::infinite, local_atom::value, store_atom::value,
                            key, values)
                  .then([=](bool ok) mutable {
                    result->stored_local = ok;
                    one_done();
                  });
            for (const auto& c : nodes)
              self->request(st.transport, caf::infinite, store_atom::value, c, key, values)
                  .then(
                      [=](bool ok) mutable {
                        if (ok) ++result->stored_remote;
                        one_done();
                      },
                      [=](const caf::error&) mutable { one_done(); });
          },
          [=](const caf::error& e) mutable { rp.deliver(e); });
}

/// Our own values for `key`, merged with what a find_value lookup finds in the network.
void get(self_ptr self, const node_id& key, caf::typed_response_promise<lookup_result> rp) {
  self->request(self->state.transport, caf::infinite, local_atom::value, key)
      .then([=](const strings& local) mutable {
        auto lk = start_lookup(self, key, mode::find_value);
        self->request(lk, caf::infinite, run_atom::value)
            .then(
                [=](lookup_result r) mutable {
                  strings merged = local;
                  for (auto& v : r.values)
                    if (std::find(merged.begin(), merged.end(), v) == merged.end())
                      merged.push_back(std::move(v));
                  r.values = std::move(merged);
                  r.found = !r.values.empty();
                  rp.deliver(std::move(r));
                },
                [=](const caf::error& e) mutable { rp.deliver(e); });
      });
}

/// Contacts the neighbours that are due; one that answers is joined through (a lookup of
/// our own id from it), which merges two networks that grew apart.
void contact_neighbours(self_ptr self, bool everyone) {
  for (const auto& ep : self->state.neighbours.due(now(self), everyone)) {
    bool before = self->state.neighbours.has_answered(ep);
    self->request(self->state.transport, caf::infinite, ping_atom::value, ep)
        .then(
            [=](const node_id& id) {
              self->state.neighbours.answered(ep, now(self));
              if (!before)
                spdlog::info("neighbour {} answers now: joining the network through it",
                             ep.to_string());
              else
                spdlog::debug("neighbour {} still answers: looking up our id through it",
                              ep.to_string());
              caf::anon_send(start_lookup(self, self->state.cfg.self, mode::find_node,
                                          {contact{id, ep}}),
                             run_atom::value);
            },
            [=](const caf::error& e) {
              self->state.neighbours.silent(ep, now(self));
              spdlog::debug("neighbour {} did not answer: {}", ep.to_string(), describe(e));
            });
  }
}

/// Periodic work: a lookup in every bucket not refreshed lately; the neighbours that are
/// due (every one while the table is empty).
void on_tick(self_ptr self) {
  self->request(self->state.table, caf::infinite, stale_atom::value)
      .then([=](const node_ids& ids) {
        for (const auto& id : ids)
          caf::anon_send(start_lookup(self, id, mode::find_node), run_atom::value);
      });
  if (self->state.neighbours.size() == 0 || self->state.bootstrapping) return;
  self->request(self->state.table, caf::infinite, table_atom::value)
      .then([=](const contacts& all) { contact_neighbours(self, all.empty()); });
}

dht_actor::behavior_type dht_behavior(self_ptr self, dht_config cfg,
                                      rpc_transport_actor transport, routing_table_actor table) {
  self->state.cfg = cfg;
  self->state.neighbours = net::neighbour_schedule{{cfg.tick_interval, cfg.neighbour_retry_max,
                                                    cfg.neighbour_recontact}};
  self->state.transport = std::move(transport);
  self->state.table = std::move(table);
  return {
      [=](bootstrap_atom, const std::vector<endpoint>& neighbours) {
        auto rp = self->make_response_promise<std::uint32_t>();
        if (neighbours.empty())
          rp.deliver(std::uint32_t{0});
        else
          bootstrap(self, neighbours, rp);
        return rp;
      },
      [=](lookup_atom, const node_id& target) {
        return self->delegate(start_lookup(self, target, mode::find_node), run_atom::value);
      },
      [=](dht_get_atom, const node_id& key) {
        auto rp = self->make_response_promise<lookup_result>();
        get(self, key, rp);
        return rp;
      },
      [=](dht_put_atom, const node_id& key, const strings& values) {
        auto rp = self->make_response_promise<put_result>();
        put(self, key, values, rp);
        return rp;
      },
      [=](tick_atom) { on_tick(self); },
  };
}

}  // namespace

dht_actor spawn_dht(caf::actor_system& sys, const dht_config& cfg, rpc_transport_actor transport,
                    routing_table_actor table) {
  return sys.spawn(dht_behavior, cfg, std::move(transport), std::move(table));
}

}  // namespace sova::actors
