#include "actors/lookup_actor.hpp"

#include <optional>

#include <caf/actor_system.hpp>
#include <caf/send.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>
#include <spdlog/spdlog.h>

namespace sova::actors {

namespace {

using mode = net::lookup_state::mode;

struct lookup_actor_state {
  std::optional<net::lookup_state> lookup;
  std::optional<caf::typed_response_promise<lookup_result>> promise;
  static inline const char* name = "lookup";
};

using self_ptr = lookup_actor::stateful_pointer<lookup_actor_state>;

void finish(self_ptr self, const lookup_params& p) {
  auto& lk = *self->state.lookup;
  lookup_result r;
  r.target = p.target;
  r.closest = lk.closest_answered();
  r.found = lk.found_value();
  r.values = lk.values();
  r.queries = static_cast<std::uint32_t>(lk.queries_sent());
  r.failures = static_cast<std::uint32_t>(lk.failures());
  r.rounds = static_cast<std::uint32_t>(lk.rounds());
  // Cache the merged set on the closest peer that answered without it.
  if (auto where = lk.cache_target())
    caf::anon_send(p.transport, store_atom::value, *where, p.target, r.values);
  spdlog::debug("lookup {} done: {} contacts, {} values, {} queries, {} failures, {} rounds",
                p.target.to_hex().substr(0, 8), r.closest.size(), r.values.size(), r.queries,
                r.failures, r.rounds);
  self->state.promise->deliver(std::move(r));
  self->quit();
}

void pump(self_ptr self, const lookup_params& p) {
  auto& lk = *self->state.lookup;
  for (const auto& c : lk.next_queries()) {
    auto failed = [=](const caf::error&) {
      self->state.lookup->on_failure(c.id);
      pump(self, p);
    };
    if (p.mode == mode::find_node) {
      self->request(p.transport, caf::infinite, find_node_atom::value, c, p.target)
          .then(
              [=](const contacts& cs) {
                self->state.lookup->on_nodes(c.id, cs);
                pump(self, p);
              },
              failed);
    } else {
      self->request(p.transport, caf::infinite, find_value_atom::value, c, p.target)
          .then(
              [=](const find_value_reply& r) {
                if (r.found)
                  self->state.lookup->on_value(c.id, r.values);
                else
                  self->state.lookup->on_nodes(c.id, r.closer);
                pump(self, p);
              },
              failed);
    }
  }
  if (lk.done()) finish(self, p);
}

lookup_actor::behavior_type lookup_behavior(self_ptr self, lookup_params p) {
  self->state.lookup.emplace(p.target, p.mode, p.self, p.k, p.alpha);
  return {
      [=](run_atom) -> caf::typed_response_promise<lookup_result> {
        auto rp = self->make_response_promise<lookup_result>();
        self->state.promise = rp;
        auto k = static_cast<std::uint32_t>(p.k);
        self->request(p.table, caf::infinite, closest_atom::value, p.target, k, contact{})
            .then([=](const contacts& seed) {
              self->state.lookup->add_candidates(seed);
              self->state.lookup->add_candidates(p.extra_seeds);
              pump(self, p);
            });
        return rp;
      },
  };
}

}  // namespace

lookup_actor spawn_lookup(caf::actor_system& sys, lookup_params p) {
  return sys.spawn(lookup_behavior, std::move(p));
}

}  // namespace sova::actors
