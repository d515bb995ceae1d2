#include "actors/service_announcer.hpp"

#include <algorithm>
#include <optional>
#include <utility>

#include <caf/actor_cast.hpp>
#include <caf/actor_system.hpp>
#include <caf/send.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>
#include <spdlog/spdlog.h>

#include "actors/backend_forwarder.hpp"
#include "http/backend_reply.hpp"
#include "http/multipart.hpp"
#include "net/address_policy.hpp"
#include "net/announce_address.hpp"
#include "net/owned_backend.hpp"

namespace sova::actors {

http::client_request probe_request(const service_record& backend,
                                   std::chrono::milliseconds timeout) {
  forward_request req;
  req.service = backend.service;
  if (backend.service == net::service::asr) {
    std::string boundary;  // empty: build_multipart picks a random one
    req.body = http::build_multipart({}, boundary);
    req.content_type = "multipart/form-data; boundary=" + boundary;
  } else {
    req.content_type = "application/json";
    req.body = R"({"text": "", "voice": "Natasha"})";  // a real SOVA TTS needs both
  }
  req.timeout = timeout;
  return make_backend_request(std::move(req));  // the same paths as forwarded requests
}

probe_verdict probe_verdict_of(const service_record& backend, const http::client_result& r) {
  probe_verdict v;
  if (!r.ok) {
    v.timed_out = r.error == http::client_errc::timeout;
    v.error = http::describe_failure(r);
    return v;
  }
  auto why = http::unusable_reply(backend.service, r.response.status,
                                  r.response.header("Content-Type"), r.response.body);
  v.alive = !why;
  if (why) v.error = std::move(*why);
  v.workers = http::told_workers(r.response.header("Sova-Workers"), net::owned_backend::max_capacity)
                  .value_or(0);
  return v;
}

backend_probe http_probe_over(std::shared_ptr<http::client> client,
                              std::chrono::milliseconds timeout) {
  return [client = std::move(client), timeout](const service_record& backend,
                                                std::function<void(probe_verdict)> done) {
    client->send(backend.host, backend.port, probe_request(backend, timeout),
                 [backend, done = std::move(done)](http::client_result r) {
                   done(probe_verdict_of(backend, r));
                 });
  };
}

namespace {

struct own_backend {
  own_service svc;
  bool probed = false;   // some probe has answered: transitions can be logged
  bool probing = false;  // a probe is out and has not answered yet
  bool busy = false;     // kept alive by the busy rule at the last probe
  bool ever_alive = false;
  std::optional<caf::actor_clock::time_point> down_since;  // not answering since
  caf::timespan backoff{0};    // until the next retry of a backend that does not answer
  bool retry_pending = false;  // a retry is scheduled
  std::uint64_t served_seen = 0;  // the pool's count of served requests at the last probe
};

struct announcer_state {
  announcer_config cfg;
  dht_actor dht;
  backend_probe probe;
  backend_pool_actor pool;            // invalid: no busy rule
  std::vector<own_backend> backends;  // in --services order
  bool draining = false;              // probe, but announce nothing
  // Node mode: where this node is announced, and what decides it.
  announcer_peers peers;
  net::announce_decision where;
  bool decided = false;              // `where` was decided once (its first decision is logged)
  bool warned = false;               // the warning that nothing is announced was logged
  std::string observed_ip;           // what a peer's stun answered ("" while unknown)
  std::vector<std::string> peer_ips;  // the routing table's and the neighbours' addresses
  bool stun_out = false;
  strings endpoints;  // every endpoint announced so far (the directory drops records naming them)
  service_records told_live;  // the live own backends the directory was last told
  caf::timespan where_backoff{0};  // until asking the peers again while no address is known
  bool where_retry_pending = false;
  static inline const char* name = "service_announcer";
};

using self_ptr = service_announcer_actor::stateful_pointer<announcer_state>;

void on_probed(self_ptr self, std::uint32_t index, probe_verdict v);

void start_probe(self_ptr self, std::uint32_t index) {
  auto& b = self->state.backends[index];
  if (b.probing) {
    spdlog::debug("{}: the previous probe has not answered yet", b.svc.backend.to_string());
    return;
  }
  b.probing = true;
  if (auto owner = self->state.peers.owner) {
    // Within a probe timeout, unless the backend hangs past it; an interval at the most.
    self->request(owner, self->state.cfg.interval, check_atom::value, b.svc.backend)
        .then([=](probe_verdict& v) { on_probed(self, index, std::move(v)); },
              [=](const caf::error& e) {
                on_probed(self, index, probe_verdict{false, false, "its owner: " + describe(e)});
              });
    return;
  }
  // The probe may answer on any thread: only a message may reach us from there.
  auto me = caf::actor_cast<service_announcer_actor>(self);
  self->state.probe(b.svc.backend, [me, index](probe_verdict v) {
    caf::anon_send(me, probed_atom::value, index, std::move(v));
  });
}

bool node_mode(self_ptr self);
void refresh_where(self_ptr self);

/// Probes every backend, then again after the interval.
void announce_round(self_ptr self) {
  if (node_mode(self)) refresh_where(self);
  auto n = static_cast<std::uint32_t>(self->state.backends.size());
  for (std::uint32_t i = 0; i < n; ++i) start_probe(self, i);
  self->delayed_send(self, self->state.cfg.interval, announce_atom::value);
}

bool node_mode(self_ptr self) {
  return self->state.cfg.announce == announcer_config::what::node;
}

/// Stores `rec` in the DHT; `stored` runs when some node took it.
void put_record(self_ptr self, service_record rec, std::function<void()> stored) {
  self->request(self->state.dht, caf::infinite, dht_put_atom::value, rec.key(),
                strings{rec.to_string()})
      .then(
          [=](const put_result& r) {
            if (r.stored_remote > 0 || r.stored_local) {
              stored();
              spdlog::debug("{}: stored on {} of {} peer(s){}", rec.to_string(), r.stored_remote,
                            r.tried_remote, r.stored_local ? " and here" : "");
            } else {
              spdlog::warn("announcing {}: nobody stored it ({} peer(s) asked)",
                           rec.to_string(), r.tried_remote);
            }
          },
          [=](const caf::error& err) {
            spdlog::warn("announcing {} failed: {}", rec.to_string(), describe(err));
          });
}

/// What stands for backend `index` in the DHT: its own address, or in node mode this
/// node's endpoint under its service/kind (the same record for every backend of the pair:
/// a store adds to a set, so each live one refreshing it keeps the pair's record alive).
/// Nothing while node mode has no endpoint to announce.
std::optional<service_record> record_of(self_ptr self, std::uint32_t index) {
  auto rec = self->state.backends[index].svc.backend;
  if (!node_mode(self)) return rec;
  const auto& where = self->state.where;
  if (where.host.empty()) return std::nullopt;
  rec.host = where.host;
  rec.port = where.port;
  return rec;
}

void announce(self_ptr self, std::uint32_t index) {
  auto rec = record_of(self, index);
  if (!rec) return;
  put_record(self, *rec, [=] { ++self->state.backends[index].svc.announcements; });
}

/// Tells the directory this node's endpoints and its own backends alive now, on a change.
void tell_directory(self_ptr self) {
  auto& st = self->state;
  if (!st.peers.directory) return;
  service_records live;
  for (const auto& b : st.backends)
    if (b.svc.alive) live.push_back(b.svc.backend);
  if (live == st.told_live) return;
  st.told_live = live;
  self->send(st.peers.directory, own_atom::value, st.endpoints, std::move(live));
}

/// Announces every live backend now, rather than at the next round.
void announce_live(self_ptr self) {
  auto& st = self->state;
  for (std::uint32_t i = 0; i < st.backends.size(); ++i)
    if (st.backends[i].svc.alive) announce(self, i);
}

/// Node mode: decides the endpoint again; a new one is told to the directory and announced.
void redecide(self_ptr self) {
  auto& st = self->state;
  net::announce_inputs in;
  in.public_host = st.cfg.public_host;
  in.public_port = st.cfg.public_port;
  in.observed_ip = st.observed_ip;
  in.bind_host = st.cfg.bind_host;
  in.http_port = st.cfg.http_port;
  in.peer_ips = st.peer_ips;
  auto d = net::decide_announce_address(in);
  bool changed = d.endpoint() != st.where.endpoint();
  if (d.host.empty()) {
    // A first node knows no peer to ask at start: ask again soon, then less and less
    // often (1, 2, 4 ... s up to the interval), rather than a whole interval later.
    if (st.cfg.public_host.empty() && st.cfg.http_port != 0 && !st.where_retry_pending) {
      st.where_backoff = std::min(
          st.where_backoff.count() == 0 ? st.cfg.first_retry : st.where_backoff * 2, st.cfg.interval);
      st.where_retry_pending = true;
      self->delayed_send(self, st.where_backoff, stun_atom::value);
    }
  } else {
    st.where_backoff = caf::timespan{0};
  }
  bool must_warn = d.host.empty() && !st.stun_out && !st.warned && st.cfg.http_port != 0;
  if (!changed && d.why_none == st.where.why_none && st.decided && !must_warn) return;
  st.decided = true;
  st.where = d;
  st.warned = st.warned && d.host.empty();
  if (!d.host.empty()) {
    spdlog::info("announcing this node's services as {} (from {}): other nodes send their "
                 "requests for its backends here",
                 d.endpoint(), d.source);
  } else if (st.stun_out) {
    spdlog::info("not announcing this node's services yet: {}; a peer was asked how it sees "
                 "this node", d.why_none);
  } else if (st.cfg.http_port != 0) {
    st.warned = true;
    spdlog::warn("not announcing this node's services: {}. Its own backends still serve the "
                 "requests it gets, but no other node will send it any",
                 d.why_none);
  }
  if (!changed || d.host.empty()) return;
  if (std::find(st.endpoints.begin(), st.endpoints.end(), d.endpoint()) == st.endpoints.end())
    st.endpoints.push_back(d.endpoint());
  if (st.peers.directory)
    self->send(st.peers.directory, own_atom::value, st.endpoints, st.told_live);
  if (!st.draining) announce_live(self);
}

/// Node mode: asks a peer how it sees this node (the stun RPC), unless known or asked.
/// A peer on another machine is asked first: a loopback neighbour would say 127.0.0.1.
void ask_stun(self_ptr self, const std::vector<net::endpoint>& candidates) {
  auto& st = self->state;
  if (!st.observed_ip.empty() || st.stun_out || !st.peers.transport || candidates.empty()) return;
  auto pick = candidates.front();
  for (const auto& ep : candidates)
    if (net::classify_address(ep.host) != net::address_class::loopback) {
      pick = ep;
      break;
    }
  st.stun_out = true;
  self->request(st.peers.transport, std::chrono::seconds(30), stun_atom::value, pick)
      .then(
          [=](const endpoint& seen) {
            self->state.stun_out = false;
            spdlog::debug("{} sees this node as {}", pick.to_string(), seen.to_string());
            self->state.observed_ip = seen.host;
            redecide(self);
          },
          [=](const caf::error& err) {
            self->state.stun_out = false;
            spdlog::debug("asking {} how it sees this node: {}", pick.to_string(), describe(err));
            redecide(self);
          });
}

/// Node mode: the peers' addresses (for the loopback rule) and a stun while the address
/// a peer sees is unknown, then the decision.
void refresh_where(self_ptr self) {
  auto& st = self->state;
  if (!st.peers.table) {
    ask_stun(self, st.cfg.neighbours);
    return redecide(self);
  }
  self->request(st.peers.table, std::chrono::seconds(10), table_atom::value)
      .then(
          [=](const contacts& cs) {
            auto& st = self->state;
            std::vector<net::endpoint> eps;
            for (const auto& c : cs) eps.push_back(c.ep);
            for (const auto& n : st.cfg.neighbours) eps.push_back(n);
            st.peer_ips.clear();
            for (const auto& ep : eps) st.peer_ips.push_back(ep.host);
            ask_stun(self, eps);
            redecide(self);
          },
          [=](const caf::error&) { redecide(self); });
}

announce_view view_of(self_ptr self) {
  auto& st = self->state;
  announce_view v;
  v.mode = node_mode(self) ? "node" : "backends";
  if (node_mode(self)) {
    v.endpoint = st.where.endpoint();
    v.source = st.where.source;
    v.why_none = st.where.why_none;
    for (std::uint32_t i = 0; i < st.backends.size(); ++i) {
      auto rec = record_of(self, i);
      if (st.backends[i].svc.alive && rec &&
          std::find(v.records.begin(), v.records.end(), rec->to_string()) == v.records.end())
        v.records.push_back(rec->to_string());
    }
  } else {
    for (const auto& b : st.backends)
      if (b.svc.alive) v.records.push_back(b.svc.backend.to_string());
  }
  if (st.draining) {
    v.records.clear();
    v.why_none = "draining: nothing is announced";
  }
  return v;
}

std::string seconds_text(caf::timespan d) {
  return fmt::format("{:.1f} s", std::chrono::duration<double>(d).count());
}

/// Logs what changed only; an unchanged state is a debug line. `away`: how long a backend
/// that answers now had not (since the first probe, for one that never had).
void log_probe(const own_backend& b, bool alive, const std::string& error,
               std::optional<caf::timespan> away, bool node) {
  auto name = b.svc.backend.to_string();
  // In node mode the record is this node's endpoint, not the backend's address.
  const char* what = node ? "announcing this node for it" : "announcing";
  if (alive && !b.probed)
    spdlog::info("{} answers: {}", name, what);
  else if (alive && !b.svc.alive)
    spdlog::info("{} answers {} after {}: {}", name,
                 b.ever_alive ? "again" : "for the first time", seconds_text(away.value_or(caf::timespan{0})),
                 what);
  else if (!alive && b.probed && b.svc.alive)
    spdlog::warn("{} stopped answering ({}): no longer announced; probing again in {}", name, error,
                 seconds_text(b.backoff));
  else if (!alive && !b.probed)
    spdlog::warn("{} does not answer as a SOVA {} server ({}): not announced; probing again in {}",
                 name, b.svc.backend.service == net::service::asr ? "ASR" : "TTS", error,
                 seconds_text(b.backoff));
  else
    spdlog::debug("{}: {}", name, alive ? "alive" : "still not answering (" + error + ")");
}

/// A backend that does not answer is probed again soon, then less and less often (the
/// delay doubles up to the interval), so that one coming up is announced within seconds.
/// At most one retry is pending per backend; a probe still out is never doubled.
void schedule_retry(self_ptr self, std::uint32_t index) {
  auto& b = self->state.backends[index];
  if (b.retry_pending) return;
  auto& cfg = self->state.cfg;
  b.backoff = std::min(b.backoff.count() == 0 ? cfg.first_retry : b.backoff * 2, cfg.interval);
  b.retry_pending = true;
  self->delayed_send(self, b.backoff, reprobe_atom::value, index);
}

void on_retry(self_ptr self, std::uint32_t index) {
  auto& backends = self->state.backends;
  if (index >= backends.size()) return;  // the message is public: ignore strays
  backends[index].retry_pending = false;
  if (!backends[index].svc.alive) start_probe(self, index);
}

/// Records a probe's outcome (kept busy: alive, with why the probe failed) and announces.
void settle(self_ptr self, std::uint32_t index, bool alive, const std::string& error) {
  auto& b = self->state.backends[index];
  auto now = self->clock().now();
  std::optional<caf::timespan> away;
  if (b.down_since) away = now - *b.down_since;
  if (alive) {
    b.down_since.reset();
    b.backoff = caf::timespan{0};
  } else {
    if (!b.down_since) b.down_since = now;
    schedule_retry(self, index);
  }
  log_probe(b, alive, error, away, node_mode(self));
  b.probed = true;
  b.ever_alive = b.ever_alive || alive;
  b.svc.alive = alive;
  b.svc.last_error = error;
  tell_directory(self);
  // A dead backend is simply not refreshed: its record expires from the stores.
  if (alive && !self->state.draining) announce(self, index);
}

/// Whether the reading `h` of its cell shows the backend at work for this node since the last probe
/// (`served_before` served then) without failing: a one-worker server busy with long jobs
/// answers its probe late, and is not dead.
bool busy_serving(const serving::backend_reading& h, std::uint64_t served_before) {
  return h.breaker != serving::breaker_state::open &&
         (h.in_flight > 0 || h.served > served_before);
}

/// With the pool's view of the backend: a timed-out probe of a backend busy serving this
/// node keeps it alive; the served count is kept for the next probe's comparison.
void settle_with(self_ptr self, std::uint32_t index, const probe_verdict& v,
                 const serving::backend_readings& all) {
  auto& b = self->state.backends[index];
  for (const auto& h : all) {
    if (h.backend != b.svc.backend) continue;
    auto before = b.served_seen;
    b.served_seen = h.served;
    if (v.alive || !v.timed_out || !busy_serving(h, before)) break;
    auto why = "busy: the probe " + v.error + " while it serves this node (" +
               std::to_string(h.in_flight) + " in flight, " + std::to_string(h.served - before) +
               " served since the last probe)";
    if (!b.busy) spdlog::info("{}: {}; still announced", b.svc.backend.to_string(), why);
    b.busy = true;
    return settle(self, index, true, why);
  }
  b.busy = false;
  settle(self, index, v.alive, v.error);
}

void on_probed(self_ptr self, std::uint32_t index, probe_verdict v) {
  auto& st = self->state;
  if (index >= st.backends.size()) return;  // not one of ours: nothing to record
  st.backends[index].probing = false;
  // An owner's verdict needs no busy rule: it says alive for a backend busy with its jobs.
  if (!st.pool || st.peers.owner) return settle(self, index, v.alive, v.error);
  self->request(st.pool, std::chrono::seconds(2), health_atom::value)
      .then([=](const serving::backend_readings& all) { settle_with(self, index, v, all); },
            [=](const caf::error&) { settle_with(self, index, v, {}); });
}

service_announcer_actor::behavior_type announcer_behavior(self_ptr self, announcer_config cfg,
                                                          std::vector<service_record> own,
                                                          dht_actor dht, backend_probe probe,
                                                          backend_pool_actor pool,
                                                          announcer_peers peers) {
  auto& st = self->state;
  st.peers = std::move(peers);
  st.cfg = cfg;
  st.dht = std::move(dht);
  st.probe = std::move(probe);
  st.pool = std::move(pool);
  for (auto& rec : own) {
    own_backend b;
    b.svc.backend = std::move(rec);
    st.backends.push_back(std::move(b));
  }
  announce_round(self);
  return {
      [=](services_atom) {
        own_services out;
        for (const auto& b : self->state.backends) out.push_back(b.svc);
        return out;
      },
      [=](drain_atom, bool on) {
        if (on != self->state.draining)
          spdlog::info(on ? "draining: own backends no longer announced (their records expire)"
                          : "undrained: announcing own backends again");
        bool resumed = self->state.draining && !on;
        self->state.draining = on;
        if (!resumed) return;
        announce_live(self);  // now rather than at the next round
      },
      [=](announced_atom) { return view_of(self); },
      [=](http_port_atom, std::uint16_t port) {
        if (port == self->state.cfg.http_port) return;
        self->state.cfg.http_port = port;
        if (node_mode(self)) redecide(self);
      },
      [=](announce_atom) { announce_round(self); },
      [=](stun_atom) {
        self->state.where_retry_pending = false;
        if (self->state.where.host.empty()) refresh_where(self);
      },
      [=](reprobe_atom, std::uint32_t index) { on_retry(self, index); },
      [=](probed_atom, std::uint32_t index, probe_verdict& v) {
        on_probed(self, index, std::move(v));
      },
  };
}

}  // namespace

service_announcer_actor spawn_service_announcer(caf::actor_system& sys, announcer_config cfg,
                                                std::vector<service_record> own, dht_actor dht,
                                                backend_probe probe, backend_pool_actor pool,
                                                announcer_peers peers) {
  return sys.spawn(announcer_behavior, cfg, std::move(own), std::move(dht), std::move(probe),
                   std::move(pool), std::move(peers));
}

}  // namespace sova::actors
