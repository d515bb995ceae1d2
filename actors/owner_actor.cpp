#include "actors/owner_actor.hpp"

#include <algorithm>
#include <map>
#include <optional>
#include <string>
#include <utility>

#include <caf/actor_system.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>
#include <spdlog/spdlog.h>

namespace sova::actors {

using serving::job_id;
using serving::owner_job;
using serving::owner_queue;
using serving::queue_time;

namespace {

using outcome_promise = caf::typed_response_promise<forward_outcome>;
using answer_promise = caf::typed_response_promise<reservation_answer>;
using verdict_promise = caf::typed_response_promise<probe_verdict>;

/// A job while it is here: a run or a claimed reservation has its request and whom to
/// answer; a reservation not yet claimed has whom to grant it to.
struct held_job {
  std::string reservation;  // the entry node's id; "" for a run
  std::optional<answer_promise> grant;
  std::optional<outcome_promise> reply;
  forward_request req;
  queue_time deadline{};  // of the job's one attempt on a backend, waiting included
};

struct owner_state {
  owner_config cfg;
  std::vector<net::owned_backend> own;
  backend_pool_actor pool;
  backend_probe probe;
  std::optional<owner_queue> queue;
  std::map<job_id, held_job> jobs;
  std::map<std::string, job_id> by_reservation;
  job_id last_id = 0;
  std::vector<std::uint64_t> served, failed;  // per backend
  std::vector<std::string> down_reason;       // per backend: why it was marked down
  std::vector<std::vector<verdict_promise>> checks;  // per backend: waiting for its probe
  static inline const char* name = "owner";
};

using self_ptr = owner_actor::stateful_pointer<owner_state>;

queue_time now_of(self_ptr self) { return self->clock().now(); }

double seconds(caf::timespan d) { return std::chrono::duration<double>(d).count(); }

std::string name_of(self_ptr self, serving::backend_index b) {
  return self->state.own[b].record.to_string();
}

/// The own backend named `name` ("tts/cpu/127.0.0.1:8899"), as requests name it.
std::optional<serving::backend_index> index_of(self_ptr self, const std::string& name) {
  const auto& own = self->state.own;
  for (serving::backend_index b = 0; b < own.size(); ++b)
    if (own[b].record.to_string() == name) return b;
  return std::nullopt;
}

forward_outcome not_run(forward_status status, std::string reason, std::string body) {
  forward_outcome o;
  o.status = status;
  o.reason = std::move(reason);
  o.request_body = std::move(body);
  return o;
}

void forget(self_ptr self, job_id id) {
  auto& st = self->state;
  auto it = st.jobs.find(id);
  if (it == st.jobs.end()) return;
  if (!it->second.reservation.empty()) st.by_reservation.erase(it->second.reservation);
  st.jobs.erase(it);
}

/// Answers a job that leaves without running: its run gets `o`, its reservation `a`.
void answer_unrun(self_ptr self, job_id id, forward_outcome o, reservation_answer a) {
  auto& st = self->state;
  auto it = st.jobs.find(id);
  if (it == st.jobs.end()) return;
  auto& j = it->second;
  if (j.reply) {
    o.request_body = std::move(j.req.body);
    j.reply->deliver(std::move(o));
  }
  if (j.grant) j.grant->deliver(std::move(a));
  forget(self, id);
}

void pump(self_ptr self);

void finish(self_ptr self, job_id id, serving::backend_index b, forward_outcome o) {
  auto& st = self->state;
  auto it = st.jobs.find(id);
  if (it == st.jobs.end()) return;  // the timer gave it up already and answered it
  // A transport failure or an open breaker says the backend is unreachable; an answer
  // that is not a reply may be the request's fault, and busy is no fault at all.
  auto kind = o.status == forward_status::served ? serving::job_outcome::served
              : o.timed_out                      ? serving::job_outcome::timed_out
              : o.status == forward_status::failed || o.status == forward_status::refused
                  ? serving::job_outcome::unreachable
                  : serving::job_outcome::failed;
  st.queue->finished(id, kind, now_of(self));
  if (kind == serving::job_outcome::served) {
    ++st.served[b];
  } else {
    ++st.failed[b];
    if (kind == serving::job_outcome::timed_out || kind == serving::job_outcome::unreachable) {
      st.down_reason[b] = "a job failed: " + o.reason;
      spdlog::warn("own backend {} failed a job ({}): no more jobs for it until it answers a "
                   "probe",
                   name_of(self, b), o.reason);
    }
  }
  o.backend = name_of(self, b);
  if (it->second.reply) it->second.reply->deliver(std::move(o));
  forget(self, id);
  pump(self);
}

/// A request blamed own backend `name` for an unusable answer: its forwarder counts it.
void on_blamed(self_ptr self, const std::string& name, std::string reason) {
  auto& st = self->state;
  auto b = index_of(self, name);
  if (!b) return;
  self->request(st.pool, std::chrono::seconds(10), forwarders_atom::value,
                service_records{st.own[*b].record})
      .then(
          [=](backend_links& links) {
            if (!links.empty()) self->send(links[0].forwarder, failed_atom::value, reason);
          },
          [=](const caf::error& e) {
            spdlog::debug("own backend {}: blame not told to its forwarder: {}", name, describe(e));
          });
}

/// The job's one attempt, on backend `b`'s forwarder. Both requests go without a CAF
/// timeout: CAF 0.17's clock keeps each request timeout until it fires, answered or not,
/// so one per job would hold the attempt timeout's worth of entries (about 2 million at
/// 18,000 jobs a second with 60 s). The forwarder's exchange ends within req.timeout, and
/// the tick answers a job that outlives the attempt timeout (hung).
void dispatch(self_ptr self, job_id id, serving::backend_index b) {
  auto& st = self->state;
  auto& j = st.jobs.at(id);
  auto left = std::max<caf::timespan>(j.deadline - now_of(self), std::chrono::milliseconds(1));
  j.req.timeout = std::min(st.cfg.attempt_timeout, left);
  self->request(st.pool, caf::infinite, forwarders_atom::value, service_records{st.own[b].record})
      .then(
          [=](backend_links& links) {
            auto& st = self->state;
            auto it = st.jobs.find(id);
            if (it == st.jobs.end()) return;
            if (links.empty())
              return finish(self, id, b, not_run(forward_status::failed, "no forwarder", {}));
            self->request(links[0].forwarder, caf::infinite, forward_atom::value,
                          std::move(it->second.req))
                .then([=](forward_outcome& o) { finish(self, id, b, std::move(o)); },
                      [=](const caf::error& e) {
                        finish(self, id, b,
                               not_run(forward_status::failed, "forwarder: " + describe(e), {}));
                      });
          },
          [=](const caf::error& e) {
            auto& st = self->state;
            auto it = st.jobs.find(id);
            if (it == st.jobs.end()) return;
            finish(self, id, b,
                   not_run(forward_status::failed, "backend pool: " + describe(e),
                           std::move(it->second.req.body)));
          });
}

/// Starts what the queue says can start, answers what left it unstarted.
void pump(self_ptr self) {
  auto& st = self->state;
  auto d = st.queue->next_starts(now_of(self));
  for (auto id : d.expired)
    answer_unrun(self, id,
                 not_run(forward_status::busy, "waited in the owner's queue until its deadline", {}),
                 {reservation_status::expired, {}, "waited in the owner's queue until its timeout"});
  for (auto id : d.no_backend)
    answer_unrun(self, id,
                 not_run(forward_status::failed, "every own backend that could serve it is down", {}),
                 {reservation_status::no_backend, {}, "every own backend that could serve it is down"});
  for (const auto& s : d.starts) {
    auto it = st.jobs.find(s.id);
    if (it == st.jobs.end()) continue;
    if (s.reservation) {
      // Held for the entry node until its job comes (claim) or it lets go (cancel).
      it->second.grant->deliver(reservation_answer{reservation_status::granted, {}, {}});
      it->second.grant.reset();
      continue;
    }
    dispatch(self, s.id, s.backend);
  }
}

caf::timespan retry_after_of(serving::queue_duration wait) {
  return std::max<caf::timespan>(std::chrono::duration_cast<caf::timespan>(wait),
                                 std::chrono::seconds(1));
}

std::string what(const forward_request& req, net::wanted_kind wanted) {
  std::string s = net::to_string(req.service);
  return wanted == net::wanted_kind::any ? s : std::string(net::to_string(wanted)) + " " + s;
}

outcome_promise on_run(self_ptr self, forward_request& req, net::wanted_kind wanted) {
  auto& st = self->state;
  auto rp = self->make_response_promise<forward_outcome>();
  auto now = now_of(self);
  auto id = ++st.last_id;
  owner_job job{id, req.service, wanted, now, now + req.timeout, false, {}};
  auto r = st.queue->offer(job);
  switch (r.st) {
    case serving::offer_result::status::queued: {
      auto& j = st.jobs[id];
      j.reply = rp;
      j.deadline = job.deadline;
      j.req = std::move(req);
      pump(self);
      break;
    }
    case serving::offer_result::status::full: {
      auto o = not_run(forward_status::busy, "the owner's queue for " + what(req, wanted) + " is full",
                       std::move(req.body));
      o.retry_after = retry_after_of(r.wait_estimate);
      rp.deliver(std::move(o));
      break;
    }
    case serving::offer_result::status::no_backend:
    case serving::offer_result::status::duplicate:
      rp.deliver(not_run(forward_status::failed,
                         "no own " + what(req, wanted) + " backend is up", std::move(req.body)));
      break;
  }
  return rp;
}

answer_promise on_reserve(self_ptr self, const reservation_request& r) {
  auto& st = self->state;
  auto rp = self->make_response_promise<reservation_answer>();
  if (r.id.empty() || st.by_reservation.count(r.id)) {
    rp.deliver(reservation_answer{reservation_status::failed, {},
                                  "reservation id '" + r.id + "' is empty or already here"});
    return rp;
  }
  auto now = now_of(self);
  auto id = ++st.last_id;
  owner_job job{id, r.service, r.wanted, now, now + r.timeout, true, {}};
  for (const auto& name : r.avoid)
    if (auto b = index_of(self, name)) job.avoid.push_back(*b);
  auto offered = st.queue->offer(job);
  switch (offered.st) {
    case serving::offer_result::status::queued: {
      auto& j = st.jobs[id];
      j.reservation = r.id;
      j.grant = rp;
      st.by_reservation.emplace(r.id, id);
      pump(self);
      break;
    }
    case serving::offer_result::status::full:
      rp.deliver(reservation_answer{reservation_status::full, retry_after_of(offered.wait_estimate),
                                    "the owner's queue is full"});
      break;
    case serving::offer_result::status::no_backend:
    case serving::offer_result::status::duplicate:
      rp.deliver(reservation_answer{reservation_status::no_backend, {},
                                    "no own backend of the service and kind is up"});
      break;
  }
  return rp;
}

outcome_promise on_claim(self_ptr self, const std::string& reservation, forward_request& req) {
  auto& st = self->state;
  auto rp = self->make_response_promise<forward_outcome>();
  auto found = st.by_reservation.find(reservation);
  auto id = found == st.by_reservation.end() ? job_id{0} : found->second;
  if (!id || st.queue->state_of(id) != serving::job_state::held) {
    rp.deliver(not_run(forward_status::refused,
                       "reservation '" + reservation + "' holds no slot here (lapsed, cancelled "
                       "or never granted)",
                       std::move(req.body)));
    return rp;
  }
  auto now = now_of(self);
  st.queue->begin(id, now);
  auto& j = st.jobs.at(id);
  j.reply = rp;
  j.deadline = now + req.timeout;
  j.req = std::move(req);
  dispatch(self, id, *st.queue->backend_of(id));
  return rp;
}

void on_cancel(self_ptr self, const std::string& reservation) {
  auto& st = self->state;
  auto found = st.by_reservation.find(reservation);
  if (found == st.by_reservation.end()) return;
  auto id = found->second;
  auto state = st.queue->state_of(id);
  if (!state || *state == serving::job_state::running) return;  // running: it runs to its end
  if (*state == serving::job_state::queued) {
    st.queue->withdraw(id);
    answer_unrun(self, id, {}, {reservation_status::cancelled, {}, "cancelled by the entry node"});
    return;
  }
  st.queue->release(id);  // held: the slot goes to the next job
  forget(self, id);
  pump(self);
}

/// A liveness probe of backend `b`; its verdict comes back as a message.
void send_probe(self_ptr self, serving::backend_index b) {
  auto me = caf::actor_cast<owner_actor>(self);
  auto index = static_cast<std::uint32_t>(b);
  self->state.probe(self->state.own[b].record, [me, index](probe_verdict v) {
    caf::anon_send(me, probed_atom::value, index, std::move(v));
  });
}

void on_tick(self_ptr self) {
  auto& st = self->state;
  auto now = now_of(self);
  auto r = st.queue->hung(now, st.cfg.attempt_timeout);
  for (auto b : r.marked_down) {
    st.down_reason[b] = fmt::format("a job ran for over {:g} s", seconds(st.cfg.attempt_timeout));
    spdlog::warn("own backend {} has run a job for over {:g} s: no more jobs for it until it "
                 "answers a probe",
                 name_of(self, b), seconds(st.cfg.attempt_timeout));
  }
  for (const auto& h : r.hung) {
    ++st.failed[h.backend];
    auto o = not_run(forward_status::failed, "no answer within the attempt timeout", {});
    o.timed_out = true;
    answer_unrun(self, h.id, std::move(o), {});
  }
  for (auto id : r.lapsed) {
    if (auto it = st.jobs.find(id); it != st.jobs.end())
      spdlog::info("reservation {} lapsed: its job did not come within {:g} s",
                   it->second.reservation, seconds(st.cfg.queue.hold_timeout));
    forget(self, id);
  }
  for (auto b : st.queue->probes_due(now)) send_probe(self, b);
  pump(self);
  self->delayed_send(self, st.cfg.tick, tick_atom::value);
}

void on_probed(self_ptr self, std::uint32_t b, probe_verdict& v) {
  auto& st = self->state;
  if (b >= st.own.size()) return;
  bool was_down = st.queue->view(b).health == serving::backend_health::down;
  // A backend given without `*N` gets the jobs it says it runs at once (a reference
  // backend's workers, perhaps changed by a restart); before the answer can start any.
  auto had = st.queue->view(b).spec.capacity;
  if (v.alive && v.workers > 0 && !st.own[b].capacity_given && v.workers != had) {
    st.queue->set_capacity(b, v.workers);
    spdlog::info("own backend {} says it runs {} job(s) at once (Sova-Workers): its capacity "
                 "was {}",
                 name_of(self, b), v.workers, had);
  }
  st.queue->probe_result(b, v.alive, now_of(self));
  bool is_down = st.queue->view(b).health == serving::backend_health::down;
  if (was_down && !is_down)
    spdlog::info("own backend {} answered its probe: it gets jobs again", name_of(self, b));
  if (!v.alive) st.down_reason[b] = "its probe failed: " + v.error;
  if (!was_down && is_down)
    spdlog::warn("own backend {} failed its probe ({}): no more jobs for it until it answers one",
                 name_of(self, b), v.error);
  for (auto& rp : std::exchange(st.checks[b], {})) rp.deliver(v);
  pump(self);
}

verdict_promise on_check(self_ptr self, const service_record& backend) {
  auto& st = self->state;
  auto rp = self->make_response_promise<probe_verdict>();
  auto b = index_of(self, backend.to_string());
  if (!b) {
    rp.deliver(probe_verdict{false, false, "not an own backend of this node"});
    return rp;
  }
  switch (st.queue->begin_check(*b)) {
    case serving::check_result::started:
      send_probe(self, *b);
      [[fallthrough]];
    case serving::check_result::in_flight:
      st.checks[*b].push_back(rp);
      break;
    case serving::check_result::busy:
      rp.deliver(probe_verdict{true, false, {}});
      break;
    case serving::check_result::down:
      rp.deliver(probe_verdict{false, false, "down (" + st.down_reason[*b] + "); probed again on a timer"});
      break;
  }
  return rp;
}

owned_backend_states states_of(self_ptr self) {
  auto& st = self->state;
  owned_backend_states out;
  for (std::size_t b = 0; b < st.own.size(); ++b) {
    auto v = st.queue->view(b);
    owned_backend_state s;
    s.backend = st.own[b].record;
    s.capacity = v.spec.capacity;
    s.running = v.running;
    s.queued = v.queued;
    s.wait_s = std::chrono::duration<double>(v.wait_estimate).count();
    s.service_s = std::chrono::duration<double>(v.service_time).count();
    s.up = v.health == serving::backend_health::up;
    s.served = st.served[b];
    s.failed = st.failed[b];
    out.push_back(std::move(s));
  }
  return out;
}

owner_actor::behavior_type owner_behavior(self_ptr self, owner_config cfg,
                                          std::vector<net::owned_backend> own,
                                          backend_pool_actor pool, backend_probe probe) {
  auto& st = self->state;
  std::vector<serving::owned_slot_spec> specs;
  for (const auto& o : own) specs.push_back({o.record.service, o.record.kind, o.capacity});
  st.queue.emplace(std::move(specs), cfg.queue);
  st.served.assign(own.size(), 0);
  st.failed.assign(own.size(), 0);
  st.down_reason.assign(own.size(), "it has not answered a probe yet");
  st.checks.resize(own.size());
  st.cfg = cfg;
  st.own = std::move(own);
  st.pool = std::move(pool);
  st.probe = std::move(probe);
  // Nothing goes to a backend before it answered a probe: the first tick probes them all.
  st.queue->probe_all(self->clock().now());
  self->send(self, tick_atom::value);
  return {
      [=](run_atom, forward_request& req, net::wanted_kind wanted) { return on_run(self, req, wanted); },
      [=](reserve_atom, const reservation_request& r) { return on_reserve(self, r); },
      [=](claim_atom, const std::string& id, forward_request& req) { return on_claim(self, id, req); },
      [=](cancel_atom, const std::string& id) { on_cancel(self, id); },
      [=](failed_atom, const std::string& name, std::string& reason) {
        on_blamed(self, name, std::move(reason));
      },
      [=](queue_atom) { return states_of(self); },
      [=](check_atom, const service_record& backend) { return on_check(self, backend); },
      [=](probed_atom, std::uint32_t b, probe_verdict& v) { on_probed(self, b, v); },
      [=](tick_atom) { on_tick(self); },
  };
}

}  // namespace

owner_actor spawn_owner(caf::actor_system& sys, owner_config cfg,
                        std::vector<net::owned_backend> own, backend_pool_actor pool,
                        backend_probe probe) {
  return sys.spawn(owner_behavior, std::move(cfg), std::move(own), std::move(pool),
                   std::move(probe));
}

}  // namespace sova::actors
