#include "actors/service_directory.hpp"

#include <algorithm>
#include <functional>
#include <map>
#include <memory>

#include <caf/actor_system.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>
#include <spdlog/spdlog.h>

namespace sova::actors {

std::vector<std::string> directory_keys(net::service service, net::wanted_kind wanted) {
  switch (wanted) {
    case net::wanted_kind::cpu: return {net::key_text(service, net::kind::cpu)};
    case net::wanted_kind::gpu: return {net::key_text(service, net::kind::gpu)};
    case net::wanted_kind::any: break;
  }
  return {net::key_text(service, net::kind::cpu), net::key_text(service, net::kind::gpu)};
}

namespace {

using clock_time = caf::actor_clock::time_point;

struct entry {
  service_records backends;
  bool known = false;  // a lookup has completed at least once
  bool fetching = false;
  clock_time fetched{};
  clock_time last_used{};
  std::uint64_t fast_uses_seen = 0;  // the board's count for the key at the last tick
  std::vector<std::function<void()>> waiters;  // misses waiting for the running lookup
};

struct directory_state {
  directory_config cfg;
  dht_actor dht;
  std::map<std::string, entry> entries;  // by key text, "asr/cpu"
  strings own_endpoints;  // "host:port" this node announced: records naming it are its own
  service_records own;    // this node's own backends alive now (the announcer says)
  directory_stats stats;
  static inline const char* name = "service_directory";
};

using self_ptr = service_directory_actor::stateful_pointer<directory_state>;

/// The well-formed, non-duplicate values under `key_text`; loopback ones only when allowed.
service_records valid_backends(self_ptr self, const std::string& key_text, const strings& values) {
  service_records out;
  for (const auto& v : values) {
    auto rec = net::parse_service_record(v);
    bool usable = rec && rec->key_text() == key_text &&
                  (self->state.cfg.allow_loopback || !rec->is_loopback()) &&
                  std::find(out.begin(), out.end(), *rec) == out.end();
    if (!usable) {
      ++self->state.stats.values_ignored;
      spdlog::debug("ignoring value '{}' under {}", v, key_text);
      continue;
    }
    out.push_back(std::move(*rec));
  }
  return out;
}

/// What `key_text` offers: the node's own backends of the key, then the records of the
/// last lookup, less those naming this node and duplicates.
service_records offered(self_ptr self, const std::string& key_text, const service_records& found) {
  const auto& st = self->state;
  service_records out;
  for (const auto& rec : st.own)
    if (rec.key_text() == key_text && std::find(out.begin(), out.end(), rec) == out.end())
      out.push_back(rec);
  for (const auto& rec : found) {
    bool names_us = std::find(st.own_endpoints.begin(), st.own_endpoints.end(), rec.address()) !=
                    st.own_endpoints.end();
    if (!names_us && std::find(out.begin(), out.end(), rec) == out.end()) out.push_back(rec);
  }
  return out;
}

void post(self_ptr self, const std::string& key_text, const entry& e) {
  if (auto& board = self->state.cfg.board) board->post_records(key_text, offered(self, key_text, e.backends));
}

void fetch(self_ptr self, const std::string& key_text) {
  auto& e = self->state.entries[key_text];
  if (e.fetching) return;
  e.fetching = true;
  ++self->state.stats.lookups_started;
  auto done = [=](service_records found, bool ok) {
    auto& e = self->state.entries[key_text];
    e.fetching = false;
    if (ok) {
      if (found != e.backends)
        spdlog::info("{}: {} backend(s) known in the network", key_text, found.size());
      e.backends = std::move(found);
      e.known = true;
      e.fetched = self->clock().now();
      post(self, key_text, e);
    }
    auto waiters = std::move(e.waiters);
    e.waiters.clear();
    for (auto& w : waiters) w();
  };
  self->request(self->state.dht, caf::infinite, dht_get_atom::value, net::node_id::digest(key_text))
      .then([=](const lookup_result& r) { done(valid_backends(self, key_text, r.values), true); },
            [=](const caf::error& err) {
              ++self->state.stats.lookups_failed;
              spdlog::warn("looking up {} failed: {}", key_text, describe(err));
              done({}, false);
            });
}

service_records collect(self_ptr self, const std::vector<std::string>& keys) {
  service_records out;
  for (const auto& k : keys) {
    auto b = offered(self, k, self->state.entries[k].backends);
    out.insert(out.end(), b.begin(), b.end());
  }
  return out;
}

caf::typed_response_promise<service_records> answer(self_ptr self, net::service service,
                                                     net::wanted_kind wanted) {
  auto rp = self->make_response_promise<service_records>();
  auto keys = directory_keys(service, wanted);
  auto& st = self->state;
  ++st.stats.requests;
  auto now = self->clock().now();
  // A key known to have no backend is no answer for long: a backend that has just come up
  // would stay unknown until the refresh. It is looked up again (the request waits)
  // once the empty answer is `empty_refresh` old.
  auto must_wait = [&](const entry& e) {
    return !e.known || (e.backends.empty() && now - e.fetched >= st.cfg.empty_refresh);
  };
  auto missing = std::make_shared<std::size_t>(0);
  for (const auto& k : keys)
    if (must_wait(st.entries[k])) ++*missing;
  if (*missing == 0) ++st.stats.answered_from_cache;
  auto one_in = [=]() mutable {
    if (--*missing == 0) rp.deliver(collect(self, keys));
  };
  for (const auto& k : keys) {
    auto& e = st.entries[k];
    e.last_used = now;
    if (must_wait(e)) {
      e.waiters.push_back(one_in);
      fetch(self, k);
    } else if (now - e.fetched >= st.cfg.refresh_interval) {
      fetch(self, k);  // stale: answer from the cache, refresh behind it
    }
  }
  if (*missing == 0) rp.deliver(collect(self, keys));
  return rp;
}

/// Keeps the keys in use fresh, and forgets those nobody asked for lately.
void on_tick(self_ptr self) {
  auto& st = self->state;
  auto now = self->clock().now();
  for (auto it = st.entries.begin(); it != st.entries.end();) {
    auto& e = it->second;
    if (st.cfg.board) {
      auto uses = st.cfg.board->key_uses(it->first);
      if (uses != e.fast_uses_seen) {  // the fast lane used it since the last tick
        e.fast_uses_seen = uses;
        e.last_used = now;
      }
    }
    if (!e.fetching && e.waiters.empty() && now - e.last_used >= st.cfg.forget_after) {
      if (st.cfg.board) st.cfg.board->drop_records(it->first);
      it = st.entries.erase(it);
      continue;
    }
    if (e.known && now - e.fetched >= st.cfg.refresh_interval) fetch(self, it->first);
    ++it;
  }
}

directory_stats current_stats(self_ptr self) {
  auto s = self->state.stats;
  s.keys_cached = self->state.entries.size();
  return s;
}

/// What is cached, for views: reading it marks no key as used and starts no lookup.
directory_view known_backends(self_ptr self) {
  directory_view v;
  v.stats = current_stats(self);
  for (const auto& [key, e] : self->state.entries)
    if (e.known) v.keys.push_back({key, offered(self, key, e.backends)});
  return v;
}

service_directory_actor::behavior_type directory_behavior(self_ptr self, directory_config cfg,
                                                          dht_actor dht) {
  self->state.cfg = cfg;
  self->state.dht = std::move(dht);
  return {
      [=](backends_atom, net::service service, net::wanted_kind wanted) {
        return answer(self, service, wanted);
      },
      [=](stats_atom) { return current_stats(self); },
      [=](known_backends_atom) { return known_backends(self); },
      [=](own_atom, strings& endpoints, service_records& live) {
        auto& st = self->state;
        if (endpoints == st.own_endpoints && live == st.own) return;
        st.own_endpoints = std::move(endpoints);
        st.own = std::move(live);
        for (const auto& [key, e] : st.entries)
          if (e.known) post(self, key, e);
      },
      [=](tick_atom) { on_tick(self); },
  };
}

}  // namespace

service_directory_actor spawn_service_directory(caf::actor_system& sys, directory_config cfg,
                                                dht_actor dht) {
  return sys.spawn(directory_behavior, cfg, std::move(dht));
}

}  // namespace sova::actors
