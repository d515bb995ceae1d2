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
  backend_link link;
  clock_time last_used;  // the latest use: a forwarders request, or an attempt
  std::uint64_t attempts_seen = 0;  // the cell's count at the last tick
};

struct pool_state {
  pool_config cfg;
  http_send send;
  std::map<std::string, entry> entries;  // by cell name, "asr/cpu/10.0.0.5:8888"
  static inline const char* name = "backend_pool";
};

using self_ptr = backend_pool_actor::stateful_pointer<pool_state>;

entry& entry_for(self_ptr self, const service_record& rec) {
  auto& st = self->state;
  auto key = rec.to_string();
  if (auto it = st.entries.find(key); it != st.entries.end()) return it->second;
  entry e;
  e.link.cell = std::make_shared<serving::backend_cell>(rec, st.cfg.forwarder.ewma_weight);
  // Forwarders monitor the pool and end with it; the pool monitors them to drop the dead.
  e.link.forwarder = spawn_backend_forwarder(self->system(), st.cfg.forwarder, e.link.cell,
                                             st.send, caf::actor_cast<backend_pool_actor>(self));
  self->monitor(e.link.forwarder);
  if (st.cfg.board) st.cfg.board->post_backend(e.link);
  spdlog::debug("forwarder for {} started", key);
  return st.entries.emplace(key, std::move(e)).first->second;
}

backend_links links_of(self_ptr self, const service_records& records) {
  backend_links out;
  out.reserve(records.size());
  auto now = self->clock().now();
  for (const auto& rec : records) {
    auto& e = entry_for(self, rec);
    e.last_used = now;
    out.push_back(e.link);
  }
  return out;
}

serving::backend_readings read_all(self_ptr self) {
  serving::backend_readings out;
  out.reserve(self->state.entries.size());
  for (const auto& [name, e] : self->state.entries) out.push_back(e.link.cell->read());
  return out;
}

void on_down(self_ptr self, const caf::down_msg& m) {
  auto& entries = self->state.entries;
  for (auto it = entries.begin(); it != entries.end(); ++it) {
    if (it->second.link.forwarder.address() == m.source) {
      spdlog::debug("forwarder for {} ended", it->first);
      if (self->state.cfg.board) self->state.cfg.board->drop_backend(it->second.link.cell->backend);
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
    auto attempts = e.link.cell->attempts();
    if (attempts != e.attempts_seen) {  // a request picked it from the board since the last tick
      e.attempts_seen = attempts;
      e.last_used = now;
    }
    if (e.link.cell->in_flight() == 0 && now - e.last_used >= st.cfg.forget_after) {
      spdlog::debug("forgetting the idle forwarder for {}", it->first);
      if (st.cfg.board) st.cfg.board->drop_backend(e.link.cell->backend);
      self->send_exit(e.link.forwarder, caf::exit_reason::user_shutdown);
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
      [=](forwarders_atom, const service_records& records) { return links_of(self, records); },
      [=](health_atom) { return read_all(self); },
      [=](tick_atom) { on_tick(self); },
  };
}

}  // namespace

backend_pool_actor spawn_backend_pool(caf::actor_system& sys, pool_config cfg, http_send send) {
  return sys.spawn(pool_behavior, cfg, std::move(send));
}

}  // namespace sova::actors
