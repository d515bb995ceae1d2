#include "actors/rpc_transport.hpp"

#include <functional>
#include <map>

#include <sys/random.h>

#include <caf/actor_system.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>
#include <spdlog/spdlog.h>

#include "net/rate_limiter.hpp"
#include "net/recent_set.hpp"
#include "net/record_store.hpp"
#include "net/wire.hpp"

namespace sova::actors {

namespace {

using net::wire::rpc_kind;
/// Runs once per call: with the reply, or with nullptr and why the call failed.
using reply_handler = std::function<void(const net::wire::reply*, dht_errc)>;

struct pending_call {
  rpc_kind kind;
  endpoint to;
  bool peer_known = false;  // calls to a contact; a ping to a bare endpoint is not
  node_id peer;
  reply_handler done;
};

/// A reply too large for an address that has not answered us yet.
struct deferred_reply {
  std::string id;
  rpc_kind kind;
  std::string body;
};

/// Runs when a ping to an address ends: with the id that answered, or nullptr.
using answered_handler = std::function<void(const node_id*)>;

struct transport_state {
  dht_config cfg;
  std::shared_ptr<net::datagram_port> port;
  routing_table_actor table;
  net::record_store store{net::store_limits{}, std::chrono::seconds(3600)};
  std::map<std::string, pending_call> pending;  // by raw message id
  // Hosts that answered a call of ours: replies to them are not bounded by size.
  net::recent_set<std::string> answered{std::chrono::seconds(1800), 1};
  // One ping at a time per endpoint; everyone waiting on it is told how it ended.
  std::map<endpoint, std::vector<answered_handler>> pinging;
  std::map<endpoint, std::vector<deferred_reply>> deferred;
  std::size_t deferred_count = 0;
  net::recent_set<node_id> handed_over{std::chrono::seconds(3600), 1};
  net::rate_limiter handover_budget{net::token_rate{}, 1};
  transport_stats stats;
  bool stopping = false;  // calls fail at once from now on
  static inline const char* name = "rpc_transport";
};

constexpr std::size_t deferred_per_endpoint = 8;
constexpr std::size_t waiting_per_ping = 64;

using self_ptr = rpc_transport_actor::stateful_pointer<transport_state>;

net::steady_time now_of(self_ptr self) { return self->clock().now(); }

/// Message ids come from the kernel's CSPRNG: a peer that sees our ids must not be
/// able to predict the next ones and forge replies to calls we make to others.
std::string new_msg_id() {
  std::string id(net::wire::msg_id_size, '\0');
  std::size_t got = 0;
  while (got < id.size()) {
    auto n = getrandom(id.data() + got, id.size() - got, 0);
    if (n > 0) got += static_cast<std::size_t>(n);
  }
  return id;
}

void send_frame(self_ptr self, const endpoint& to, bool response, const std::string& id,
                std::string body) {
  net::wire::frame f;
  f.is_response = response;
  std::copy(id.begin(), id.end(), f.id.begin());
  f.body = std::move(body);
  ++self->state.stats.datagrams_out;
  self->state.port->send(to, net::wire::encode_frame(f));
}

void learn(self_ptr self, const contact& c);
void release_deferred(self_ptr self, const endpoint& to, bool answered);

/// Sends a call and registers its continuation; `done` runs exactly once, with the
/// reply or with nullptr on timeout or a reply that does not decode.
void call(self_ptr self, const endpoint& to, const node_id* peer, net::wire::request req,
          reply_handler done) {
  auto& st = self->state;
  if (st.stopping) {
    done(nullptr, dht_errc::stopped);
    return;
  }
  auto body = net::wire::encode_request(req);
  if (body.size() > net::wire::max_request_body) {
    spdlog::warn("not sending {} to {}: body of {} bytes is over rpcudp's {}",
                 net::wire::to_string(req.kind), to.to_string(), body.size(),
                 net::wire::max_request_body);
    done(nullptr, dht_errc::too_large);
    return;
  }
  if (st.pending.size() >= st.cfg.max_pending_calls) {
    spdlog::debug("not sending {} to {}: {} calls are waiting for answers already",
                  net::wire::to_string(req.kind), to.to_string(), st.pending.size());
    done(nullptr, dht_errc::overloaded);
    return;
  }
  auto id = new_msg_id();
  pending_call pc{req.kind, to, peer != nullptr, peer ? *peer : node_id{}, std::move(done)};
  st.pending.emplace(id, std::move(pc));
  ++st.stats.calls_sent;
  send_frame(self, to, false, id, std::move(body));
  self->delayed_send(self, st.cfg.rpc_timeout, call_timeout_atom::value, id);
}

/// A call ended without a usable reply: a contact that does not answer leaves the table.
void fail_call(self_ptr self, pending_call& pc, dht_errc why) {
  if (pc.peer_known) self->send(self->state.table, remove_atom::value, pc.peer);
  pc.done(nullptr, why);
}

net::wire::request make_request(const transport_state& st, rpc_kind kind) {
  net::wire::request r;
  r.kind = kind;
  r.sender = st.cfg.self;
  return r;
}

/// One value goes as a str, like the original's store; a set as an array.
net::wire::request store_request(const transport_state& st, const node_id& key, strings values) {
  auto req = make_request(st, rpc_kind::store);
  req.key = key;
  req.values_as_array = values.size() != 1;
  req.values = std::move(values);
  return req;
}

/// Pings `to` unless a ping to it is out already; `then` learns how it ended. At most
/// waiting_per_ping wait on one ping: past that, a flood of new ids naming the same
/// stale contact would only add copies of the same reaction.
void ping_once(self_ptr self, const endpoint& to, answered_handler then) {
  auto& st = self->state;
  auto [it, first] = st.pinging.try_emplace(to);
  if (then && it->second.size() < waiting_per_ping) it->second.push_back(std::move(then));
  if (!first) return;
  call(self, to, nullptr, make_request(st, rpc_kind::ping),
       [self, to](const net::wire::reply* r, dht_errc) {
         auto waiting = std::move(self->state.pinging[to]);
         self->state.pinging.erase(to);
         for (auto& w : waiting) w(r ? &r->id : nullptr);
         release_deferred(self, to, r != nullptr);
       });
}

/// Hands the keys a newly seen contact is now responsible for over to it: once per
/// record TTL per contact, a bounded number of contacts per second and of keys each.
void hand_over(self_ptr self, const contact& newcomer) {
  auto& st = self->state;
  auto now = now_of(self);
  if (st.handed_over.contains(newcomer.id, now)) return;
  auto keys = st.store.keys(now);
  if (keys.empty()) return;
  if (!st.handover_budget.take({}, now)) {
    ++st.stats.handovers_skipped;
    spdlog::debug("not handing keys over to {}: over the hand-over rate", newcomer.to_string());
    return;
  }
  st.handed_over.insert(newcomer.id, now);
  ++st.stats.handovers;
  self->request(st.table, caf::infinite, handover_atom::value, newcomer, keys)
      .then([=](const node_ids& due) {
        auto& st = self->state;
        std::size_t sent = 0;
        for (const auto& key : due) {
          if (sent == st.cfg.handover_max_keys) break;
          auto values = st.store.get(key, now_of(self));
          if (!values) continue;
          ++sent;
          auto req = store_request(st, key, std::move(*values));
          call(self, newcomer.ep, &newcomer.id, std::move(req), [](const net::wire::reply*, dht_errc) {});
        }
        if (sent > 0)
          spdlog::debug("handed {} of {} due key(s) over to new contact {}", sent, due.size(),
                        newcomer.to_string());
      });
}

bool has_answered(self_ptr self, const endpoint& ep) {
  return self->state.answered.contains(ep.host, now_of(self));
}

/// A new contact gets our keys once it has answered a ping from us: a request alone
/// proves nothing about its address, and the keys are far more than it sent.
void welcome(self_ptr self, const contact& c) {
  auto& st = self->state;
  if (st.store.key_count() == 0 || st.handed_over.contains(c.id, now_of(self))) return;
  if (has_answered(self, c.ep)) {
    hand_over(self, c);
    return;
  }
  ping_once(self, c.ep, [self, c](const node_id* who) {
    if (who && *who == c.id) hand_over(self, c);
  });
}

/// Every contact we hear from goes to the routing table (Kademlia's welcome_if_new):
/// a full bucket asks us to ping its stalest contact, a new one gets its keys.
void learn(self_ptr self, const contact& c) {
  self->request(self->state.table, caf::infinite, seen_atom::value, c)
      .then([=](const seen_result& r) {
        if (r.must_ping)
          ping_once(self, r.candidate.ep, [self, stale = r.candidate](const node_id* who) {
            if (!who || *who != stale.id) self->send(self->state.table, remove_atom::value, stale.id);
          });
        if (r.is_new) welcome(self, c);
      });
}

void reply_to(self_ptr self, const endpoint& to, const std::string& id, rpc_kind kind,
              const net::wire::reply& rep) {
  send_frame(self, to, true, id, net::wire::encode_reply(kind, rep));
}

/// Sends the replies held for `to` once it answered our ping; drops them if it did not.
void release_deferred(self_ptr self, const endpoint& to, bool answered) {
  auto& st = self->state;
  auto it = st.deferred.find(to);
  if (it == st.deferred.end()) return;
  auto held = std::move(it->second);
  st.deferred.erase(it);
  st.deferred_count -= held.size();
  for (auto& d : held) {
    if (answered)
      send_frame(self, to, true, d.id, std::move(d.body));
    else
      ++st.stats.replies_withheld;
  }
}

/// A reply that would be more than reflection_factor times its request waits until
/// the caller's address answered a ping of ours, so that a forged source address
/// cannot make us send a victim more than a few times what the forger sent.
void reply_bounded(self_ptr self, const endpoint& to, const std::string& id, rpc_kind kind,
                   const net::wire::reply& rep, std::size_t request_size) {
  auto& st = self->state;
  auto body = net::wire::encode_reply(kind, rep);
  if (body.size() + net::wire::header_size <= st.cfg.reflection_factor * request_size ||
      has_answered(self, to)) {
    send_frame(self, to, true, id, std::move(body));
    return;
  }
  auto& held = st.deferred[to];
  if (held.size() >= deferred_per_endpoint || st.deferred_count >= st.cfg.max_deferred_replies) {
    ++st.stats.replies_withheld;
    if (held.empty()) st.deferred.erase(to);
    return;
  }
  held.push_back(deferred_reply{id, kind, std::move(body)});
  ++st.deferred_count;
  ++st.stats.replies_deferred;
  spdlog::debug("holding a {}-byte {} reply until {} answers a ping", held.back().body.size(),
                net::wire::to_string(kind), to.to_string());
  ping_once(self, to, nullptr);  // its end releases or drops what is held for `to`
}

void answer_request(self_ptr self, const endpoint& from, const std::string& id,
                    net::wire::request req, std::size_t request_size) {
  auto& st = self->state;
  ++st.stats.requests_in;
  if (req.kind != rpc_kind::stun) learn(self, contact{req.sender, from});
  net::wire::reply rep;
  switch (req.kind) {
    case rpc_kind::ping:
      rep.id = st.cfg.self;
      reply_to(self, from, id, req.kind, rep);
      return;
    case rpc_kind::stun:
      rep.observed = from;
      reply_to(self, from, id, req.kind, rep);
      return;
    case rpc_kind::store: {
      auto status = st.store.store(req.key, req.values, now_of(self), from.host);
      rep.stored = status == net::store_status::stored;
      if (rep.stored) {
        ++st.stats.stores_accepted;
      } else {
        ++st.stats.stores_refused;
        spdlog::debug("refused store of {} value(s) under {} from {}: {}", req.values.size(),
                      req.key.to_hex(), from.to_string(), net::to_string(status));
      }
      reply_to(self, from, id, req.kind, rep);
      return;
    }
    case rpc_kind::find_value:
      if (auto values = st.store.get(req.key, now_of(self))) {
        rep.has_value = true;
        rep.values = std::move(*values);
        rep.values_as_array = true;
        reply_bounded(self, from, id, req.kind, rep, request_size);
        return;
      }
      [[fallthrough]];
    case rpc_kind::find_node: {
      auto kind = req.kind;
      auto k = static_cast<std::uint32_t>(st.cfg.k);
      self->request(st.table, caf::infinite, closest_atom::value, req.key, k,
                    contact{req.sender, from})
          .then([=](const contacts& cs) {
            net::wire::reply r;
            r.contacts = cs;
            reply_bounded(self, from, id, kind, r, request_size);
          });
      return;
    }
  }
}

void handle_reply(self_ptr self, const endpoint& from, const std::string& id, std::string body) {
  auto& st = self->state;
  auto it = st.pending.find(id);
  // Peers answer from the socket we called; a reply from elsewhere is not theirs.
  if (it == st.pending.end() || it->second.to != from) {
    ++st.stats.dropped_unsolicited;
    spdlog::debug("dropped a reply from {} to no call of ours", from.to_string());
    return;
  }
  auto pc = std::move(it->second);
  st.pending.erase(it);
  net::wire::decode_error err;
  auto rep = net::wire::decode_reply(pc.kind, body, &err);
  if (!rep) {
    ++st.stats.dropped_malformed;
    spdlog::debug("bad {} reply from {}: {}", net::wire::to_string(pc.kind), from.to_string(),
                  err.what);
    fail_call(self, pc, dht_errc::bad_reply);
    return;
  }
  ++st.stats.replies_in;
  st.answered.insert(from.host, now_of(self));
  // A ping tells us who answered; other calls went to a contact we knew.
  if (pc.kind == rpc_kind::ping)
    learn(self, contact{rep->id, pc.to});
  else if (pc.peer_known)
    learn(self, contact{pc.peer, pc.to});
  pc.done(&*rep, dht_errc{});
}

void handle_datagram(self_ptr self, const endpoint& from, const std::string& bytes) {
  auto& st = self->state;
  ++st.stats.datagrams_in;
  auto f = net::wire::parse_frame(bytes);
  if (!f) {
    ++st.stats.dropped_malformed;
    spdlog::debug("dropped a {}-byte datagram from {}: not an rpcudp frame", bytes.size(),
                  from.to_string());
    return;
  }
  std::string id(f->id.begin(), f->id.end());
  if (f->is_response) {
    handle_reply(self, from, id, std::move(f->body));
    return;
  }
  net::wire::decode_error err;
  auto req = net::wire::decode_request(f->body, &err);
  if (!req) {
    ++st.stats.dropped_malformed;
    spdlog::debug("dropped a request from {}: {}", from.to_string(), err.what);
    return;
  }
  answer_request(self, from, id, std::move(*req), bytes.size());
}

/// Runs a call for an outside requester and delivers its typed result.
template <class T, class Extract>
caf::typed_response_promise<T> call_for(self_ptr self, const endpoint& to, const node_id* peer,
                                        net::wire::request req, Extract extract) {
  auto rp = self->make_response_promise<T>();
  call(self, to, peer, std::move(req),
       [rp, extract](const net::wire::reply* r, dht_errc why) mutable {
         if (r)
           rp.deliver(extract(*r));
         else
           rp.deliver(make_error(why));
       });
  return rp;
}

/// On exit every call still waiting ends with `stopped`: CAF 0.17 drops an undelivered
/// promise silently, and whoever asked (a lookup, `sova-dc dht`) would wait forever.
void stop(self_ptr self, const caf::error& reason) {
  auto& st = self->state;
  st.stopping = true;
  auto pending = std::move(st.pending);
  st.pending.clear();
  for (auto& [id, pc] : pending) pc.done(nullptr, dht_errc::stopped);
  self->quit(reason);
}

rpc_transport_actor::behavior_type transport_behavior(self_ptr self, dht_config cfg,
                                                      std::shared_ptr<net::datagram_port> port,
                                                      routing_table_actor table) {
  auto& st = self->state;
  st.cfg = cfg;
  st.port = std::move(port);
  st.table = std::move(table);
  self->set_exit_handler([=](caf::exit_msg& m) { stop(self, m.reason); });
  st.store = net::record_store(cfg.limits, cfg.record_ttl);
  st.answered = net::recent_set<std::string>(cfg.answered_memory, cfg.max_answered_hosts);
  st.handed_over = net::recent_set<node_id>(cfg.record_ttl, 4096);
  st.handover_budget = net::rate_limiter(cfg.handover_rate, 1);
  return {
      [=](datagram_atom, const endpoint& from, const std::string& bytes) {
        handle_datagram(self, from, bytes);
        self->state.port->handled(from, bytes.size());
      },
      [=](ping_atom, const endpoint& to) {
        return call_for<node_id>(self, to, nullptr, make_request(self->state, rpc_kind::ping),
                                 [](const net::wire::reply& r) { return r.id; });
      },
      [=](store_atom, const contact& to, const node_id& key, const strings& values) {
        return call_for<bool>(self, to.ep, &to.id, store_request(self->state, key, values),
                              [](const net::wire::reply& r) { return r.stored; });
      },
      [=](find_node_atom, const contact& to, const node_id& key) {
        auto req = make_request(self->state, rpc_kind::find_node);
        req.key = key;
        return call_for<contacts>(self, to.ep, &to.id, std::move(req),
                                  [](const net::wire::reply& r) { return r.contacts; });
      },
      [=](find_value_atom, const contact& to, const node_id& key) {
        auto req = make_request(self->state, rpc_kind::find_value);
        req.key = key;
        return call_for<find_value_reply>(self, to.ep, &to.id, std::move(req),
                                          [](const net::wire::reply& r) {
                                            return find_value_reply{r.has_value, r.values,
                                                                    r.contacts};
                                          });
      },
      [=](stun_atom, const endpoint& to) {
        net::wire::request req;
        req.kind = rpc_kind::stun;
        return call_for<endpoint>(self, to, nullptr, std::move(req),
                                  [](const net::wire::reply& r) { return r.observed; });
      },
      [=](local_atom, const node_id& key) -> strings {
        auto values = self->state.store.get(key, now_of(self));
        return values ? *values : strings{};
      },
      [=](local_atom, store_atom, const node_id& key, const strings& values) {
        auto status = self->state.store.store(key, values, now_of(self));
        if (status != net::store_status::stored)
          spdlog::warn("not storing {} locally: {}", key.to_hex(), net::to_string(status));
        return status == net::store_status::stored;
      },
      [=](stats_atom) {
        auto s = self->state.stats;
        auto drops = self->state.port->dropped();
        s.dropped_rate_limited = drops.rate_limited;
        s.dropped_backlog = drops.backlog_full;
        s.records_keys = self->state.store.key_count();
        s.records_values = self->state.store.value_count();
        return s;
      },
      [=](records_atom) {
        auto now = now_of(self);
        stored_values out;
        for (const auto& [key, held] : self->state.store.records())
          for (const auto& v : held)
            if (v.expires > now)
              out.push_back(stored_value{
                  key, v.value,
                  std::chrono::duration_cast<std::chrono::milliseconds>(v.expires - now).count()});
        return out;
      },
      [=](call_timeout_atom, const std::string& id) {
        auto& st = self->state;
        auto it = st.pending.find(id);
        if (it == st.pending.end()) return;  // answered in time
        auto pc = std::move(it->second);
        st.pending.erase(it);
        ++st.stats.calls_timed_out;
        spdlog::debug("{} to {} timed out", net::wire::to_string(pc.kind), pc.to.to_string());
        fail_call(self, pc, dht_errc::timeout);
      },
      [=](tick_atom) {
        auto gone = self->state.store.expire(now_of(self));
        if (gone > 0) spdlog::debug("{} record value(s) expired", gone);
      },
  };
}

}  // namespace

rpc_transport_actor spawn_rpc_transport(caf::actor_system& sys, const dht_config& cfg,
                                        std::shared_ptr<net::datagram_port> port,
                                        routing_table_actor table) {
  return sys.spawn(transport_behavior, cfg, std::move(port), std::move(table));
}

}  // namespace sova::actors
