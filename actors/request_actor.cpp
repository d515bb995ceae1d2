#include "actors/request_actor.hpp"

#include <algorithm>
#include <atomic>
#include <optional>
#include <random>

#include <caf/actor_system.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/sec.hpp>
#include <spdlog/spdlog.h>

#include "actors/service_directory.hpp"
#include "http/backend_choice.hpp"
#include "http/reservation.hpp"
#include "http/server.hpp"
#include "serving/backend_board.hpp"
#include "serving/fast_lane.hpp"
#include "serving/reservation_round.hpp"

namespace sova::actors {

using serving::backend_board;
using serving::fast_lane_pick;

namespace {

/// An owner a reservation of the round went to: this node's owner, or the node endpoint
/// st.candidates[link].
struct owner_ref {
  bool local = false;
  std::size_t link = 0;
};

struct request_state {
  std::shared_ptr<const request_context> ctx;
  client_job job;
  request_done done;
  bool board_pick = false;  // candidates holds the board's pick only: look up before a retry
  service_records own;      // this node's own backends of the service and kind
  std::mt19937_64 rng;
  caf::actor_clock::time_point started;
  backend_links candidates;
  std::vector<bool> attempted;  // per candidate: an attempt went to it (or before the actor)
  request_outcome out;
  std::vector<suspect> suspects;
  std::size_t failures = 0;   // attempts that failed or answered unusably (not busy)
  caf::timespan busy_for{0};  // the shortest wait asked by a busy backend (0: none)
  bool finished = false;
  // Late binding: the current round of reservations, the owners it went to, its id.
  std::optional<serving::reservation_round> round;
  std::vector<owner_ref> round_owners;
  std::string round_id;
  std::uint32_t rounds = 0;
  std::string refusals;  // why owners refused, "owner: reason; ...", for the reply
  strings failed_own;    // own backends an attempt failed on: this node's owner avoids them
  // The body's size, to tell whether an attempt gave it back: job.body is moved into each
  // attempt and taken back from its outcome, so that no attempt copies it.
  std::size_t body_size = 0;
  static inline const char* name = "request";
};

// No one sends it anything: it is driven by the replies to its own requests, whose
// timeouts carry the deadline (CAF cancels those when a reply comes, whereas a delayed
// message would keep every finished request actor alive until its deadline).
using self_ptr = caf::stateful_actor<request_state>*;

void cancel_at(self_ptr self, const owner_ref& to, const std::string& id);

void finish(self_ptr self, request_outcome out) {
  auto& st = self->state;
  if (st.finished) return;
  st.finished = true;
  if (st.round && !st.round->winner() && st.round->pending() > 0)
    for (const auto& to : st.round_owners) cancel_at(self, to, st.round_id);  // free their places
  out.attempts = st.out.attempts;
  out.attempt_log = std::move(st.out.attempt_log);
  st.done(std::move(out));
  self->quit();
}

void fail(self_ptr self, unsigned status, const char* code, const std::string& message,
          std::uint32_t retry_after_s = 0) {
  auto r = http::error_response(status, code, message);
  request_outcome out;
  out.retry_after_s = retry_after_s;
  out.status = r.status;
  out.content_type = r.content_type;
  out.body = std::move(r.body);
  out.error_code = code;
  finish(self, std::move(out));
}

std::string describe_job(const client_job& job) {
  std::string service = net::to_string(job.service);
  if (job.wanted == net::wanted_kind::any) return service;
  return net::to_string(job.wanted) + (" " + service);
}

void note_busy(self_ptr self, caf::timespan wait) {
  auto& b = self->state.busy_for;
  if (wait > caf::timespan{0} && (b == caf::timespan{0} || wait < b)) b = wait;
}

/// The choice's inputs, read from the cells now; a backend that asked to be left alone is
/// not usable until then.
std::vector<http::backend_load> loads(self_ptr self, const backend_links& links) {
  auto now = self->clock().now().time_since_epoch();
  std::vector<http::backend_load> out;
  out.reserve(links.size());
  for (const auto& link : links) {
    auto busy_until = link.cell->busy_until();
    if (busy_until > now) note_busy(self, busy_until - now);
    out.push_back(link.cell->load_at(now));
  }
  return out;
}

/// What every failed attempt met, "backend: reason; ...", for the 502's message.
std::string failures(const std::vector<attempt_record>& attempt_log) {
  std::string out;
  for (const auto& t : attempt_log) {
    if (t.ok) continue;
    if (!out.empty()) out += "; ";
    out += t.backend + ": " + t.failure;
  }
  return out;
}

/// Nothing left to try: why, as the client's reply.
void give_up(self_ptr self) {
  auto& st = self->state;
  if (st.busy_for > caf::timespan{0} && st.failures == 0) {
    auto secs = std::chrono::ceil<std::chrono::seconds>(st.busy_for).count();
    fail(self, 503, "busy",
         "every " + describe_job(st.job) + " backend that could take this request is busy; " +
             "try again in " + std::to_string(secs) + " s",
         static_cast<std::uint32_t>(secs));
    return;
  }
  if (st.out.attempts == 0 && !st.refusals.empty())
    return fail(self, 503, "no_backend",
                "no owner of a " + describe_job(st.job) + " backend could take this request: " +
                    st.refusals);
  if (st.out.attempts == 0)
    return fail(self, 503, "no_backend",
                "every known " + describe_job(st.job) + " backend is failing (circuit breakers open); " +
                    "try again in a few seconds");
  if (st.suspects.size() >= max_unusable_answers)
    return fail(self, 502, "all_failed",
                "the " + describe_job(st.job) + " backends answered this request with an " +
                    "error, so it may be at fault (no backend was marked as failing): " +
                    failures(st.out.attempt_log));
  fail(self, 502, "all_failed",
       std::to_string(st.out.attempts) + " attempt(s) on " + describe_job(st.job) +
           " backends failed: " + failures(st.out.attempt_log));
}

/// Served after unusable answers elsewhere: those were the backends' fault after all.
void blame_suspects(self_ptr self) {
  auto& st = self->state;
  for (auto& s : st.suspects) {
    if (s.forwarder)
      self->send(s.forwarder, failed_atom::value, std::move(s.reason));
    else if (!s.owned.empty() && st.ctx->owner)
      self->send(st.ctx->owner, failed_atom::value, std::move(s.owned), std::move(s.reason));
  }
  self->state.suspects.clear();
}

void attempt(self_ptr self);

/// What is left of the deadline (never below 1 ms, so that a request still times out).
caf::timespan remaining(self_ptr self) {
  auto& st = self->state;
  auto left = st.ctx->cfg.deadline - (self->clock().now() - st.started);
  return std::max(left, caf::timespan{std::chrono::milliseconds(1)});
}

/// The deadline passed, or something else broke while asking `what`.
void on_error(self_ptr self, const caf::error& e, const std::string& what) {
  if (e == caf::sec::request_timeout) {
    auto secs = std::chrono::duration<double>(self->state.ctx->cfg.deadline).count();
    return fail(self, 504, "deadline",
                "no " + describe_job(self->state.job) + " backend answered within " +
                    fmt::format("{:g}", secs) + " s");
  }
  fail(self, 503, "no_backend", what + " failed: " + describe(e));
}

void retry(self_ptr self);

/// Writes the attempt's outcome into its entry of the attempt log.
void log_attempt(self_ptr self, const forward_outcome& o) {
  auto& record = self->state.out.attempt_log.back();
  if (!o.backend.empty()) record.backend = o.backend;  // which own backend the owner chose
  record.ok = o.status == forward_status::served;
  record.seconds = std::chrono::duration<double>(o.latency).count();
  if (!record.ok) record.failure = o.reason;
}

/// A backend's reply, relayed as it came.
void relay(self_ptr self, forward_outcome& o) {
  request_outcome out;
  out.status = o.http_status;
  out.content_type = relayed_content_type;
  out.body = std::move(o.body);
  finish(self, std::move(out));
}

/// An attempt on `name` ended; `forwarder` (invalid for this node's owner) is blamed
/// for an unusable answer if another backend then serves the request.
void on_outcome(self_ptr self, const std::string& name, backend_forwarder_actor forwarder,
                forward_outcome o) {
  auto& st = self->state;
  if (st.finished) return;
  st.job.body = std::move(o.request_body);
  // Not given back only when the forwarder ended during the attempt: retrying would send
  // the backend an empty body, so the request ends with the failures so far.
  bool body_lost = st.job.body.size() != st.body_size;
  if (o.status != forward_status::refused) log_attempt(self, o);
  if (!forwarder && !o.backend.empty() && o.status != forward_status::served)
    st.failed_own.push_back(o.backend);  // the retry goes elsewhere
  switch (o.status) {
    case forward_status::served:
      blame_suspects(self);
      return relay(self, o);
    case forward_status::refused:
      spdlog::debug("{}: refused by its breaker, choosing another", name);
      --st.out.attempts;  // nothing reached the backend
      st.out.attempt_log.pop_back();
      break;
    case forward_status::unusable:
      spdlog::warn("{} request: attempt {} on {}: {}",
                   net::to_string(st.job.service), st.out.attempts, name, o.reason);
      st.suspects.push_back({forwarder, o.reason, o.backend});
      ++st.failures;
      if (st.suspects.size() >= max_unusable_answers) return give_up(self);
      break;
    case forward_status::busy:
      spdlog::info("{} request: attempt {} on {}: {}; trying another",
                   net::to_string(st.job.service), st.out.attempts, name, o.reason);
      note_busy(self, o.retry_after);
      break;
    case forward_status::failed:
      ++st.failures;
      spdlog::warn("{} request: attempt {} on {} failed ({})",
                   net::to_string(st.job.service), st.out.attempts, name, o.reason);
      break;
  }
  if (body_lost) {
    spdlog::warn("{} request: the body did not come back from {}, no retry",
                 net::to_string(st.job.service), name);
    return give_up(self);
  }
  retry(self);
}

void look_up(self_ptr self);

/// One attempt through `forwarder`; its outcome goes to on_outcome.
void send_attempt(self_ptr self, std::string name, backend_forwarder_actor forwarder,
                  forward_request req) {
  auto left = remaining(self);
  self->request(forwarder, left, forward_atom::value, std::move(req))
      .then([=](forward_outcome& o) { on_outcome(self, name, forwarder, std::move(o)); },
            [=](const caf::error& e) {
              if (e == caf::sec::request_timeout) return on_error(self, e, "");
              forward_outcome o;
              o.reason = "forwarder gone: " + describe(e);
              on_outcome(self, name, forwarder, std::move(o));
            });
}

void attempt(self_ptr self) {
  auto& st = self->state;
  if (st.out.attempts >= st.ctx->cfg.max_attempts) return give_up(self);
  if (st.board_pick && st.attempted[0]) return look_up(self);  // the pick failed
  // Late binding: node endpoints get reservations (place), only plain backends jobs.
  auto excluded = st.attempted;
  if (st.ctx->cfg.late_binding)
    for (std::size_t k = 0; k < excluded.size(); ++k)
      if (st.candidates[k].cell->peer() != serving::peer_kind::plain) excluded[k] = true;
  auto pick = http::choose_backend(loads(self, st.candidates), excluded, st.rng);
  if (!pick) return give_up(self);
  auto i = *pick;
  st.attempted[i] = true;
  ++st.out.attempts;
  st.out.attempt_log.push_back({st.candidates[i].cell->name, false, 0.0, {}});
  auto left = remaining(self);
  // Moved, not copied: the outcome gives the body back (on_outcome).
  forward_request req{st.job.service, st.job.content_type, std::move(st.job.body),
                      std::min(st.ctx->cfg.attempt_timeout, left), st.job.via, {}};
  send_attempt(self, st.candidates[i].cell->name, st.candidates[i].forwarder, std::move(req));
}

// -- late binding (cfg.late_binding) ------------------------------------------------------

/// The name of an attempt through this node's owner, for logs and the attempt log.
std::string own_name(const client_job& job) {
  return std::string("own ") + net::to_string(job.service) + " backends";
}

/// The job as one attempt sends it; its body moved out (the outcome gives it back).
forward_request take_request(self_ptr self, std::string reservation) {
  auto& st = self->state;
  return {st.job.service, st.job.content_type, std::move(st.job.body),
          std::min(st.ctx->cfg.attempt_timeout, remaining(self)), st.job.via,
          std::move(reservation)};
}

void cancel_at(self_ptr self, const owner_ref& to, const std::string& id) {
  auto& st = self->state;
  if (to.local)
    self->send(st.ctx->owner, cancel_atom::value, id);
  else if (to.link < st.candidates.size())
    self->send(st.candidates[to.link].forwarder, cancel_atom::value, id);
}

/// The job goes to the owner that granted the round's reservation, on the slot it holds.
void claim(self_ptr self, const owner_ref& to) {
  auto& st = self->state;
  ++st.out.attempts;
  auto name = to.local ? own_name(st.job) : st.candidates[to.link].cell->name;
  st.out.attempt_log.push_back({name, false, 0.0, {}});
  if (!to.local) {
    auto req = take_request(self, st.round_id);
    return send_attempt(self, name, st.candidates[to.link].forwarder, std::move(req));
  }
  self->request(st.ctx->owner, remaining(self), claim_atom::value, st.round_id, take_request(self, {}))
      .then([=](forward_outcome& o) { on_outcome(self, name, {}, std::move(o)); },
            [=](const caf::error& e) {
              if (e == caf::sec::request_timeout) return on_error(self, e, "");
              forward_outcome o;
              o.reason = "owner gone: " + describe(e);
              on_outcome(self, name, {}, std::move(o));
            });
}

/// Every owner of the round refused: a plain backend not tried yet, else the end.
void round_exhausted(self_ptr self) {
  auto& st = self->state;
  auto now = self->clock().now().time_since_epoch();
  for (std::size_t i = 0; i < st.candidates.size(); ++i)
    if (!st.attempted[i] && st.candidates[i].cell->peer() == serving::peer_kind::plain &&
        st.candidates[i].cell->usable_at(now))
      return attempt(self);
  give_up(self);
}

void on_answer(self_ptr self, std::uint32_t round, std::size_t k, owner_ref to,
               const std::string& id, const reservation_answer& a) {
  auto& st = self->state;
  if (st.finished || round != st.rounds || !st.round) {
    if (a.status == reservation_status::granted) cancel_at(self, to, id);  // a round gone by
    return;
  }
  if (a.status == reservation_status::granted) {
    auto step = st.round->granted(k);
    for (auto c : step.cancel) cancel_at(self, st.round_owners[c], st.round_id);
    if (step.claim) claim(self, st.round_owners[*step.claim]);
    return;
  }
  auto name = to.local ? std::string("this node") : st.candidates[to.link].cell->name;
  spdlog::debug("{} request: reservation {} at {}: {} ({})", net::to_string(st.job.service), id,
                name, to_string(a.status), a.reason);
  if (a.status == reservation_status::full) note_busy(self, a.retry_after);
  if (a.status != reservation_status::full) {
    if (!st.refusals.empty()) st.refusals += "; ";
    st.refusals += name + ": " + (a.reason.empty() ? to_string(a.status) : a.reason);
  }
  if (st.round->refused(k).exhausted) round_exhausted(self);
}

/// A reservation id no other round uses, in this process or another node's: the request
/// generators are seeded alike in every process (tests fix the seed), so the id mixes a
/// per-process random value with a counter (splitmix64's finalizer: a bijection).
std::string fresh_reservation_id() {
  static const std::uint64_t salt = (std::uint64_t{std::random_device{}()} << 32) ^ std::random_device{}();
  static std::atomic<std::uint64_t> counter{0};
  auto z = ++counter * 0x9e3779b97f4a7c15ULL;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return http::make_reservation_id((z ^ (z >> 31)) ^ salt);
}

/// Late binding: a plain backend that is idle gets the job now; otherwise reservations
/// go to this node's owner (when it owns backends of the job's kind) and to the node
/// endpoints among the candidates, and the first owner to hold a slot gets the job.
void place(self_ptr self) {
  auto& st = self->state;
  if (st.out.attempts >= st.ctx->cfg.max_attempts) return give_up(self);
  auto now = self->clock().now().time_since_epoch();
  std::vector<std::size_t> nodes;
  for (std::size_t i = 0; i < st.candidates.size(); ++i) {
    const auto& cell = *st.candidates[i].cell;
    if (!cell.usable_at(now)) continue;
    if (cell.peer() != serving::peer_kind::plain)
      nodes.push_back(i);
    else if (!st.attempted[i] && cell.in_flight() == 0)
      return attempt(self);  // idle: no queue can beat that
  }
  bool local = st.ctx->owner && !st.own.empty();
  std::shuffle(nodes.begin(), nodes.end(), st.rng);
  auto room = std::max<std::size_t>(st.ctx->cfg.max_reservations, 1) - (local ? 1 : 0);
  if (nodes.size() > room) nodes.resize(room);
  if (!local && nodes.empty()) return attempt(self);  // plain backends only, busy or not
  st.round_owners.clear();
  if (local) st.round_owners.push_back({true, 0});
  for (auto i : nodes) st.round_owners.push_back({false, i});
  st.round.emplace(st.round_owners.size());
  st.round_id = fresh_reservation_id();
  auto round = ++st.rounds;
  reservation_request r{st.round_id, st.job.service, st.job.wanted, remaining(self), st.job.via};
  for (std::size_t k = 0; k < st.round_owners.size(); ++k) {
    auto to = st.round_owners[k];
    auto id = st.round_id;
    auto on_error_answer = [=](const caf::error& e) {
      if (e == caf::sec::request_timeout) return on_error(self, e, "");
      on_answer(self, round, k, to, id, {reservation_status::failed, {}, describe(e)});
    };
    auto on_reply = [=](reservation_answer& a) { on_answer(self, round, k, to, id, a); };
    if (to.local) {
      auto mine = r;
      mine.avoid = st.failed_own;
      self->request(st.ctx->owner, remaining(self), reserve_atom::value, std::move(mine))
          .then(on_reply, on_error_answer);
    }
    else {
      self->request(st.candidates[to.link].forwarder, remaining(self), reserve_atom::value, r)
          .then(on_reply, on_error_answer);
    }
  }
}

void retry(self_ptr self) {
  if (self->state.ctx->cfg.late_binding && !self->state.job.own_only) return place(self);
  attempt(self);
}

/// A request another node forwarded, with this node's owner: its one attempt goes through
/// the owner (on the slot of its reservation, or queued); the entry node retries elsewhere.
void serve_owned(self_ptr self) {
  auto& st = self->state;
  ++st.out.attempts;
  auto name = own_name(st.job);
  st.out.attempt_log.push_back({name, false, 0.0, {}});
  auto on_reply = [=](forward_outcome& o) {
    log_attempt(self, o);
    if (o.status == forward_status::served) return relay(self, o);
    auto what = describe_job(self->state.job);
    switch (o.status) {
      case forward_status::busy: {
        auto secs = std::max<std::int64_t>(
            1, std::chrono::ceil<std::chrono::seconds>(o.retry_after).count());
        return fail(self, 503, "busy", "every own " + what + " backend is busy: " + o.reason,
                    static_cast<std::uint32_t>(secs));
      }
      case forward_status::refused:
        return fail(self, 503, "reservation_lapsed", o.reason);
      default:
        return fail(self, 502, "all_failed", "the own " + what + " backend failed: " + o.reason);
    }
  };
  auto on_err = [=](const caf::error& e) { on_error(self, e, "asking this node's owner"); };
  if (st.job.reservation.empty())
    self->request(st.ctx->owner, remaining(self), run_atom::value, take_request(self, {}), st.job.wanted)
        .then(on_reply, on_err);
  else
    self->request(st.ctx->owner, remaining(self), claim_atom::value, st.job.reservation,
                  take_request(self, {}))
        .then(on_reply, on_err);
}

/// The candidates the pool linked; those tried already stay tried.
void use_links(self_ptr self, backend_links& links) {
  auto& st = self->state;
  st.attempted.assign(links.size(), false);
  for (std::size_t i = 0; i < links.size(); ++i)
    for (const auto& e : st.out.attempt_log)
      if (e.backend == links[i].cell->name) st.attempted[i] = true;
  st.candidates = std::move(links);
  retry(self);
}

void ask_pool(self_ptr self, service_records records) {
  self->request(self->state.ctx->pool, remaining(self), forwarders_atom::value, std::move(records))
      .then([=](backend_links& links) { use_links(self, links); },
            [=](const caf::error& e) { on_error(self, e, "asking the backend pool"); });
}

/// Asks the directory (own_only: not) and the pool for every candidate.
void look_up(self_ptr self) {
  auto& st = self->state;
  st.board_pick = false;
  if (st.job.own_only) return ask_pool(self, st.own);  // no directory: own backends only
  self->request(st.ctx->directory, remaining(self), backends_atom::value, st.job.service, st.job.wanted)
      .then(
          [=](service_records& records) {
            auto& st = self->state;
            if (st.ctx->cfg.late_binding) {
              // This node's owner stands for its own backends: no job goes to them directly.
              records.erase(std::remove_if(records.begin(), records.end(),
                                           [&](const service_record& r) {
                                             return std::find(st.ctx->own.begin(), st.ctx->own.end(),
                                                              r) != st.ctx->own.end();
                                           }),
                            records.end());
              if (records.empty() && st.ctx->owner && !st.own.empty()) {
                st.candidates.clear();
                st.attempted.clear();
                return place(self);
              }
            }
            if (records.empty() && !self->state.out.attempt_log.empty()) return give_up(self);
            if (records.empty())
              return fail(self, 503, "no_backend",
                          "no " + describe_job(self->state.job) +
                              " backend is known in the network");
            ask_pool(self, std::move(records));
          },
          [=](const caf::error& e) {
            on_error(self, e, "looking up " + describe_job(self->state.job) + " backends");
          });
}

/// The first backend, from the board when the request's keys are warm there (see
/// fast_lane.hpp): no message before the first attempt.
bool pick_from_board(self_ptr self) {
  auto& st = self->state;
  if (!st.ctx->board) return false;
  auto board = st.ctx->board->snapshot();
  const auto* to = fast_lane_pick(*board, st.job.service, st.job.wanted, st.rng,
                                  st.job.own_only ? &st.own : nullptr);
  if (!to) return false;
  st.candidates.assign(1, *to);
  st.attempted.assign(1, false);
  st.board_pick = true;
  return true;
}

void request_behavior(self_ptr self, std::shared_ptr<const request_context> ctx, client_job job,
                      request_done done) {
  static std::atomic<std::uint64_t> counter{0};
  auto& st = self->state;
  if (ctx->cfg.on_start) ctx->cfg.on_start();
  st.ctx = std::move(ctx);
  st.job = std::move(job);
  st.body_size = st.job.body.size();
  st.done = std::move(done);
  st.rng.seed(st.ctx->cfg.seed ^ (0x9e3779b97f4a7c15ULL * ++counter));
  st.started = self->clock().now();
  // Only read where it is used (a forwarded request, this node's owner): not on every
  // request's path.
  if (st.job.own_only || st.ctx->owner)
    for (const auto& key : directory_keys(st.job.service, st.job.wanted))
      for (const auto& rec : st.ctx->own)
        if (rec.key_text() == key) st.own.push_back(rec);
  if (st.job.own_only) {
    if (st.own.empty())
      return fail(self, 503, "not_owner",
                  "another node forwarded this request here, and this node owns no " +
                      describe_job(st.job) + " backend (its DHT record is out of date): it "
                      "serves forwarded requests with its own backends only, never forwarding "
                      "them again");
    if (st.ctx->owner) return serve_owned(self);
  }
  // Late binding asks the owners every time: a warm pick would skip their queues.
  if (!st.ctx->cfg.late_binding && pick_from_board(self)) return attempt(self);
  look_up(self);
}

}  // namespace

void spawn_request(caf::actor_system& sys, std::shared_ptr<const request_context> ctx,
                   client_job job, request_done done) {
  sys.spawn(request_behavior, std::move(ctx), std::move(job), std::move(done));
}

}  // namespace sova::actors
