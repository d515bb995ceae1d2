#include "actors/routing_table_actor.hpp"

#include <random>

#include <caf/actor_system.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>
#include <spdlog/spdlog.h>

#include "net/routing_table.hpp"

namespace sova::actors {

namespace {

struct table_state {
  std::optional<net::routing_table> table;
  std::chrono::seconds refresh_age{3600};
  std::mt19937_64 rng;
  static inline const char* name = "routing_table";
};

using self_ptr = routing_table_actor::stateful_pointer<table_state>;

routing_table_actor::behavior_type table_behavior(self_ptr self, dht_config cfg) {
  auto& st = self->state;
  st.table.emplace(cfg.self, cfg.k, self->clock().now(), 5, cfg.contacts_per_host);
  st.refresh_age = cfg.bucket_refresh_age;
  st.rng.seed(cfg.seed ^ 0x726f7574696e67ULL);
  return {
      [=](seen_atom, const contact& c) {
        auto& t = *self->state.table;
        auto r = t.add(c, self->clock().now());
        if (r.is_new) spdlog::debug("new contact {} ({} known)", c.to_string(), t.size());
        seen_result out;
        out.is_new = r.is_new;
        if (r.ping_candidate) {
          out.must_ping = true;
          out.candidate = *r.ping_candidate;
        }
        return out;
      },
      [=](remove_atom, const node_id& id) {
        auto& t = *self->state.table;
        if (!t.contains(id)) return;
        t.remove(id);
        spdlog::debug("contact {} failed to answer and was removed ({} left)",
                      id.to_hex().substr(0, 8), t.size());
      },
      [=](closest_atom, const node_id& key, std::uint32_t n, const contact& exclude) {
        const contact* ex = exclude.ep.port == 0 ? nullptr : &exclude;
        return self->state.table->closest(key, n, ex);
      },
      [=](handover_atom, const contact& newcomer, const node_ids& keys) {
        auto& t = *self->state.table;
        node_ids due;
        for (const auto& key : keys) {
          auto neighbours = t.closest(key, t.k(), &newcomer);
          if (net::should_hand_over(t.self(), newcomer.id, key, neighbours)) due.push_back(key);
        }
        return due;
      },
      [=](stale_atom) {
        auto& st = self->state;
        auto now = self->clock().now();
        auto ids = st.table->stale_bucket_ids(now, st.refresh_age, st.rng);
        for (const auto& id : ids) st.table->touch(id, now);
        return ids;
      },
      [=](table_atom) { return self->state.table->all(); },
      [=](table_atom, buckets_atom) {
        auto now = self->clock().now();
        bucket_views out;
        for (const auto& b : self->state.table->buckets()) {
          auto idle = std::chrono::duration_cast<std::chrono::milliseconds>(now - b.last_updated);
          out.push_back(bucket_view{b.prefix, static_cast<std::uint32_t>(b.prefix_len),
                                    b.contacts, b.replacements, idle.count()});
        }
        return out;
      },
  };
}

}  // namespace

routing_table_actor spawn_routing_table(caf::actor_system& sys, const dht_config& cfg) {
  return sys.spawn(table_behavior, cfg);
}

}  // namespace sova::actors
