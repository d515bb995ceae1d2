#include "actors/backend_pool.hpp"

#include <map>
#include <utility>

#include <caf/actor_cast.hpp>
#include <caf/actor_system.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>
#include <spdlog/spdlog.h>

namespace sova::actors {

namespace {

using clock_time = caf::actor_clock::time_point;

struct entry {
  backend_forwarder_actor forwarder;
  std::shared_ptr<backend_gauge> gauge;  // shared with the forwarder and the fast lane
  backend_health health;  // the forwarder's latest report (live numbers: the gauge's)
  clock_time last_used;   // the latest use: a forwarders request, or a fast-lane send
  std::uint64_t fast_sends_seen = 0;  // the gauge's count at the last tick
};

struct pool_state {
  pool_config cfg;
  http_send send;
  std::map<std::string, entry> entries;  // by record text, "asr/cpu/10.0.0.5:8888"
  static inline const char* name = "backend_pool";
};

using self_ptr = backend_pool_actor::stateful_pointer<pool_state>;

entry& entry_for(self_ptr self, const service_record& rec) {
  auto& st = self->state;
  auto key = rec.to_string();
  if (auto it = st.entries.find(key); it != st.entries.end()) return it->second;
  entry e;
  e.gauge = std::make_shared<backend_gauge>(st.cfg.forwarder.ewma_weight);
  // Forwarders monitor the pool and end with it; the pool monitors them to drop the dead.
  e.forwarder = spawn_backend_forwarder(self->system(), st.cfg.forwarder, rec, st.send,
                                        caf::actor_cast<backend_pool_actor>(self), e.gauge);
  self->monitor(e.forwarder);
  e.health.backend = rec;
  if (st.cfg.board) st.cfg.board->post_backend({rec, e.forwarder, e.gauge, key});
  spdlog::debug("forwarder for {} started", key);
  return st.entries.emplace(key, std::move(e)).first->second;
}

backend_views views_of(self_ptr self, const service_records& records) {
  backend_views out;
  out.reserve(records.size());
  auto now = self->clock().now();
  for (const auto& rec : records) {
    auto& e = entry_for(self, rec);
    e.last_used = now;
    out.push_back(backend_view{rec, e.forwarder, with_live_numbers(e.health, *e.gauge)});
  }
  return out;
}

backend_healths all_health(self_ptr self) {
  backend_healths out;
  out.reserve(self->state.entries.size());
  for (const auto& [key, e] : self->state.entries)
    out.push_back(with_live_numbers(e.health, *e.gauge));
  return out;
}

void on_report(self_ptr self, const backend_health& h) {
  auto it = self->state.entries.find(h.backend.to_string());
  if (it == self->state.entries.end()) return;  // forgotten meanwhile
  // A report still queued from a forgotten forwarder must not overwrite its successor's.
  auto from = self->current_sender();
  if (from && from != caf::actor_cast<caf::strong_actor_ptr>(it->second.forwarder)) return;
  it->second.health = h;
}

void on_down(self_ptr self, const caf::down_msg& m) {
  auto& entries = self->state.entries;
  for (auto it = entries.begin(); it != entries.end(); ++it) {
    if (it->second.forwarder.address() == m.source) {
      spdlog::debug("forwarder for {} ended", it->first);
      if (self->state.cfg.board) self->state.cfg.board->drop_backend(it->second.health.backend);
      entries.erase(it);
      return;
    }
  }
}

/// Ends the forwarders nobody asked for lately and that have nothing in flight.
void on_tick(self_ptr self) {
  auto& st = self->state;
  auto now = self->clock().now();
  for (auto it = st.entries.begin(); it != st.entries.end();) {
    auto& e = it->second;
    auto fast_sends = e.gauge->fast_sends.load(std::memory_order_relaxed);
    if (fast_sends != e.fast_sends_seen) {  // the fast lane used it since the last tick
      e.fast_sends_seen = fast_sends;
      e.last_used = now;
    }
    if (e.gauge->in_flight.load() == 0 && now - e.last_used >= st.cfg.forget_after) {
      spdlog::debug("forgetting the idle forwarder for {}", it->first);
      if (st.cfg.board) st.cfg.board->drop_backend(e.health.backend);
      self->send_exit(e.forwarder, caf::exit_reason::user_shutdown);
      it = st.entries.erase(it);
      continue;
    }
    ++it;
  }
}

backend_pool_actor::behavior_type pool_behavior(self_ptr self, pool_config cfg, http_send send) {
  self->state.cfg = cfg;
  self->state.send = std::move(send);
  self->set_down_handler([=](caf::down_msg& m) { on_down(self, m); });
  return {
      [=](forwarders_atom, const service_records& records) { return views_of(self, records); },
      [=](health_atom) { return all_health(self); },
      [=](health_atom, const backend_health& h) { on_report(self, h); },
      [=](tick_atom) { on_tick(self); },
  };
}

}  // namespace

backend_pool_actor spawn_backend_pool(caf::actor_system& sys, pool_config cfg, http_send send) {
  return sys.spawn(pool_behavior, cfg, std::move(send));
}

}  // namespace sova::actors
