#include "actors/backend_forwarder.hpp"

#include <algorithm>
#include <map>
#include <optional>
#include <utility>

#include <caf/actor_cast.hpp>
#include <caf/actor_system.hpp>
#include <caf/send.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>
#include <spdlog/spdlog.h>

#include "http/backend_reply.hpp"
#include "http/reservation.hpp"
#include "http/text.hpp"

namespace sova::actors {

using serving::backend_cell;
using serving::breaker_state;

http_send http_send_over(std::shared_ptr<http::client> client) {
  return [client = std::move(client)](const net::service_record& backend,
                                      http::client_request req, http::client_callback done) {
    client->send(backend.host, backend.port, std::move(req), std::move(done));
  };
}

http::client_request make_backend_request(net::service service,
                                          const std::string& content_type, std::string body,
                                          caf::timespan timeout, const std::string& via) {
  http::client_request out;
  out.method = "POST";
  if (!via.empty()) out.headers.emplace_back("Via", via);
  if (service == net::service::asr) {
    out.target = "/asr";
    out.content_type = content_type;  // multipart: the boundary must stay the client's
  } else {
    out.target = "/synthesize/";
    out.content_type = "application/json";
  }
  out.body = std::move(body);
  // Rounded up: a sub-millisecond budget must not become "no time at all".
  out.timeout = std::chrono::ceil<std::chrono::milliseconds>(timeout);
  out.follow_redirect = true;
  return out;
}

http::client_request make_backend_request(forward_request req) {
  auto out = make_backend_request(req.service, req.content_type, std::move(req.body),
                                  req.timeout, req.via);
  // The owner runs the job on the slot it holds for this id (late binding).
  if (!req.reservation.empty())
    out.headers.emplace_back(std::string(http::reservation_header), std::move(req.reservation));
  return out;
}

forward_outcome to_outcome(net::service service, http::client_result r,
                           caf::timespan latency) {
  forward_outcome out;
  out.latency = latency;
  out.request_body = std::move(r.request_body);
  if (!r.ok) {
    out.status = forward_status::failed;
    out.timed_out = r.error == http::client_errc::timeout;
    out.reason = http::describe_failure(r);
    return out;
  }
  auto& resp = r.response;
  out.http_status = resp.status;
  out.body = std::move(resp.body);  // audio can be megabytes: never copied
  if (auto wait = http::busy_reply(resp.status, resp.header("Retry-After"))) {
    out.status = forward_status::busy;
    out.retry_after = *wait;
    out.reason = "busy: answered " + std::to_string(resp.status) + ", asks to wait " +
                 std::to_string(wait->count() / 1000.0).substr(0, 4) + " s";
  } else if (auto why = http::unusable_reply(service, resp.status, resp.header("Content-Type"), out.body)) {
    out.status = forward_status::unusable;
    out.reason = std::move(*why);
  } else {
    out.status = forward_status::served;
  }
  return out;
}

namespace {

using clock_time = caf::actor_clock::time_point;

struct attempt {
  caf::typed_response_promise<forward_outcome> rp;
  clock_time started;
};

using reservation_promise = caf::typed_response_promise<reservation_answer>;

struct forwarder_state {
  forwarder_config cfg;
  http_send send;
  caf::actor_addr pool;  // weak: the pool holds us, a strong handle back would be a cycle
  std::shared_ptr<backend_cell> cell;  // written here only
  std::map<std::uint64_t, attempt> attempts;  // in flight, by call id
  // Reservations waiting for the owner's answer, by call id. Not in the cell's in_flight:
  // they wait in the owner's queue, they do not load the backend.
  std::map<std::uint64_t, reservation_promise> reservations;
  std::uint64_t last_call = 0;
  std::optional<std::uint64_t> probe;  // the half-open breaker's one attempt
  std::string last_reason;             // of the latest failure, for the log
  static inline const char* name = "backend_forwarder";
};

using self_ptr = backend_forwarder_actor::stateful_pointer<forwarder_state>;
using promise = caf::typed_response_promise<forward_outcome>;

void set_breaker(self_ptr self, breaker_state b) { self->state.cell->set_breaker(b); }

double to_ms(caf::timespan d) {
  return std::chrono::duration<double, std::milli>(d).count();
}

void open_breaker(self_ptr self) {
  auto& st = self->state;
  set_breaker(self, breaker_state::open);
  spdlog::warn("backend {}: circuit breaker open after {} consecutive failure(s), last: {}; "
               "one probe in {} ms",
               st.cell->name, st.cell->read().consecutive_failures, st.last_reason,
               to_ms(st.cfg.breaker_pause));
  self->delayed_send(self, st.cfg.breaker_pause, half_open_atom::value);
}

void close_breaker(self_ptr self, const char* why = "the probe was served") {
  if (self->state.cell->breaker() == breaker_state::closed) return;
  set_breaker(self, breaker_state::closed);
  spdlog::info("backend {}: circuit breaker closed, {}", self->state.cell->name, why);
}

void on_half_open(self_ptr self) {
  auto& cell = *self->state.cell;
  if (cell.breaker() != breaker_state::open) return;  // the message is public: ignore strays
  set_breaker(self, breaker_state::half_open);
  spdlog::debug("backend {}: circuit breaker half-open, next request is the probe", cell.name);
}

/// Why nothing may be sent now (an open breaker, or a half-open one whose probe is out),
/// or nothing when it may.
std::optional<std::string> closed_to_sending(self_ptr self) {
  switch (self->state.cell->breaker()) {
    case breaker_state::closed:
      break;
    case breaker_state::open:
      return "circuit breaker open";
    case breaker_state::half_open:
      if (self->state.probe) return "circuit breaker half-open, its probe is in flight";
      break;
  }
  return std::nullopt;
}

promise refuse(self_ptr self, forward_request& req, std::string reason) {
  self->state.cell->record_refused();
  forward_outcome out;
  out.status = forward_status::refused;
  out.reason = std::move(reason);
  out.request_body = std::move(req.body);  // nothing sent: the sender tries another
  auto rp = self->make_response_promise<forward_outcome>();
  rp.deliver(std::move(out));
  return rp;
}

promise start(self_ptr self, forward_request& req) {
  auto& st = self->state;
  auto id = ++st.last_call;
  if (st.cell->breaker() == breaker_state::half_open) {
    st.probe = id;
    st.cell->set_probe_in_flight(true);
  }
  auto rp = self->make_response_promise<forward_outcome>();
  st.attempts.emplace(id, attempt{rp, self->clock().now()});
  st.cell->attempt_started();
  // Runs on an HTTP client thread: touch no state, only send a message home.
  auto me = caf::actor_cast<backend_forwarder_actor>(self);
  auto service = req.service;
  // The body moves on into the client, which gives it back in its result.
  st.send(st.cell->backend, make_backend_request(std::move(req)),
          [me, id, service](http::client_result r) {
            caf::anon_send(me, forwarded_atom::value, id,
                           to_outcome(service, std::move(r), caf::timespan{0}));
          });
  return rp;
}

promise on_forward(self_ptr self, forward_request& req) {
  if (auto why = closed_to_sending(self)) return refuse(self, req, std::move(*why));
  return start(self, req);
}

void record_served(self_ptr self, caf::timespan latency, bool was_probe) {
  self->state.cell->record_served(to_ms(latency));
  if (was_probe) close_breaker(self);
}

void record_failed(self_ptr self, const std::string& reason, bool was_probe) {
  auto& st = self->state;
  auto in_a_row = st.cell->record_failed();
  auto breaker = st.cell->breaker();
  st.last_reason = reason;
  // Late results of attempts sent before the breaker opened are counted, but only the
  // probe moves an open breaker; a half-open one whose probe ended unusable (below) has
  // no probe left, so a failure blamed on the backend later opens it again.
  bool half_open_idle = breaker == breaker_state::half_open && !st.probe;
  if (was_probe || half_open_idle ||
      (breaker == breaker_state::closed && in_a_row >= st.cfg.breaker_failures))
    open_breaker(self);
}

/// The backend said it is busy: not a failure, but it is left alone for `wait`.
void record_busy(self_ptr self, caf::timespan wait) {
  self->state.cell->record_busy(self->clock().now().time_since_epoch() + wait);
}

/// A failure that happened outside this actor (see the interface's failed_atom).
void on_blamed(self_ptr self, const std::string& reason) { record_failed(self, reason, false); }

void on_forwarded(self_ptr self, std::uint64_t id, forward_outcome out) {
  auto& st = self->state;
  auto it = st.attempts.find(id);
  if (it == st.attempts.end()) return;  // the message is public: ignore strays
  auto a = std::move(it->second);
  st.attempts.erase(it);
  st.cell->attempt_ended();
  out.latency = self->clock().now() - a.started;
  bool was_probe = st.probe == id;
  if (was_probe) {
    st.probe.reset();
    st.cell->set_probe_in_flight(false);
  }
  switch (out.status) {
    case forward_status::served:
      record_served(self, out.latency, was_probe);
      break;
    case forward_status::busy:
      // It answered: alive. A probe that ended so leaves the breaker half-open.
      record_busy(self, out.retry_after);
      break;
    case forward_status::unusable:
      // Not counted yet: the request's sender blames us if another backend serves it. A
      // probe that ended so leaves the breaker half-open for the next request to probe.
      break;
    default:
      record_failed(self, out.reason, was_probe);
  }
  a.rp.deliver(std::move(out));
}

// -- late binding: reservations at the node behind this address ------------------

/// POST /v1/reservations; answered when the exchange ends (on_reserved). It does not take
/// a half-open breaker's probe (it may wait long in the owner's queue), but its outcome
/// moves the breaker as a probe's would: an answer of a node closes it, no answer reopens it.
reservation_promise on_reserve(self_ptr self, const reservation_request& req) {
  auto& st = self->state;
  auto rp = self->make_response_promise<reservation_answer>();
  std::optional<std::string> why;
  if (!http::valid_reservation_id(req.id))  // the owner would refuse it: nothing to send
    why = "'" + http::shown(req.id) + "' is not a reservation id";
  else
    why = closed_to_sending(self);
  if (why) {
    reservation_answer refused;
    refused.status = reservation_status::failed;
    refused.reason = std::move(*why);
    rp.deliver(std::move(refused));
    return rp;
  }
  auto call = ++st.last_call;
  st.reservations.emplace(call, rp);
  http::reservation_ask ask;
  ask.id = req.id;
  ask.service = req.service;
  ask.wanted = req.wanted;
  // The wire takes 1 ms to 10 min: a timeout beyond it would only earn a 400.
  ask.timeout = std::clamp(std::chrono::ceil<std::chrono::milliseconds>(req.timeout),
                           std::chrono::milliseconds(1), http::max_reservation_timeout);
  // Runs on an HTTP client thread: reads the answer, touches no state, sends it home.
  auto me = caf::actor_cast<backend_forwarder_actor>(self);
  st.send(st.cell->backend, http::reservation_post(ask, req.via),
          [me, call, id = req.id](http::client_result r) {
            auto read = http::read_reservation_reply(id, r);
            reservation_answer a;
            a.status = read.status;
            a.retry_after = read.retry_after;
            a.reason = std::move(read.reason);
            auto peer = read.status == reservation_status::not_a_node ? serving::peer_kind::plain
                        : read.from_a_node                            ? serving::peer_kind::node
                                                                      : serving::peer_kind::unknown;
            caf::anon_send(me, reserved_atom::value, call, std::move(a), peer);
          });
  return rp;
}

void on_reserved(self_ptr self, std::uint64_t call, reservation_answer& a,
                 serving::peer_kind peer) {
  auto& st = self->state;
  auto it = st.reservations.find(call);
  if (it == st.reservations.end()) return;  // the message is public: ignore strays
  auto rp = std::move(it->second);
  st.reservations.erase(it);
  switch (peer) {
    case serving::peer_kind::node:
      // A node answered: alive, whatever it said. Its backends' health is its own business.
      st.cell->set_peer(peer);
      st.cell->record_alive();
      if (st.cell->breaker() == breaker_state::half_open)
        close_breaker(self, "a reservation was answered");
      break;
    case serving::peer_kind::plain:
      st.cell->set_peer(peer);  // send it jobs directly; they tell how it is
      break;
    case serving::peer_kind::unknown:  // no answer at all: a transport failure
      record_failed(self, a.reason, false);
      break;
  }
  rp.deliver(std::move(a));
}

/// DELETE /v1/reservations/<id>, fire-and-forget: the owner's slot lapses anyway if this is lost.
void on_cancel(self_ptr self, const std::string& id) {
  const auto& st = self->state;
  if (!http::valid_reservation_id(id)) {  // never put into a path
    spdlog::debug("backend {}: not cancelling '{}': not a reservation id", st.cell->name,
                  http::shown(id));
    return;
  }
  st.send(st.cell->backend, http::reservation_delete(id),
          [name = st.cell->name, id](http::client_result r) {
            if (r.ok)
              spdlog::debug("backend {}: reservation {} cancelled: {}", name, id, r.response.status);
            else
              spdlog::debug("backend {}: cancelling reservation {} failed: {}", name, id,
                            http::describe_failure(r));
          });
}

/// Ends the forwarder; whoever waits on an attempt learns it failed.
void stop(self_ptr self, const caf::error& reason) {
  auto now = self->clock().now();
  for (auto& [id, a] : self->state.attempts) {
    forward_outcome out;
    out.status = forward_status::failed;
    out.reason = "forwarder stopped";
    out.latency = now - a.started;
    a.rp.deliver(std::move(out));
  }
  for (std::size_t i = 0; i < self->state.attempts.size(); ++i) self->state.cell->attempt_ended();
  self->state.attempts.clear();
  for (auto& [call, rp] : self->state.reservations) {
    reservation_answer out;
    out.status = reservation_status::failed;
    out.reason = "forwarder stopped";
    rp.deliver(std::move(out));
  }
  self->state.reservations.clear();
  if (self->state.probe) self->state.cell->set_probe_in_flight(false);
  self->quit(reason);
}

backend_forwarder_actor::behavior_type forwarder_behavior(self_ptr self, forwarder_config cfg,
                                                          std::shared_ptr<backend_cell> cell,
                                                          http_send send, caf::actor_addr pool) {
  auto& st = self->state;
  st.cfg = cfg;
  st.cell = std::move(cell);
  st.send = std::move(send);
  st.pool = std::move(pool);
  // The only actor we monitor is the pool: when it ends, so do we.
  if (auto p = caf::actor_cast<backend_pool_actor>(st.pool)) self->monitor(p);
  self->set_down_handler([=](caf::down_msg& m) { stop(self, m.reason); });
  self->set_exit_handler([=](caf::exit_msg& m) { stop(self, m.reason); });
  return {
      // Non-const: the body is moved out of the message (one receiver, no copy-on-write).
      [=](forward_atom, forward_request& req) { return on_forward(self, req); },
      [=](reserve_atom, const reservation_request& req) { return on_reserve(self, req); },
      [=](cancel_atom, const std::string& id) { on_cancel(self, id); },
      [=](reserved_atom, std::uint64_t call, reservation_answer& a, serving::peer_kind peer) {
        on_reserved(self, call, a, peer);
      },
      [=](failed_atom, const std::string& reason) { on_blamed(self, reason); },
      [=](forwarded_atom, std::uint64_t id, forward_outcome& out) {
        on_forwarded(self, id, std::move(out));
      },
      [=](half_open_atom) { on_half_open(self); },
  };
}

}  // namespace

backend_forwarder_actor spawn_backend_forwarder(caf::actor_system& sys, forwarder_config cfg,
                                                std::shared_ptr<backend_cell> cell,
                                                http_send send, backend_pool_actor pool) {
  // Only the address goes in: the spawn arguments must not keep the pool alive.
  return sys.spawn(forwarder_behavior, cfg, std::move(cell), std::move(send), pool.address());
}

}  // namespace sova::actors
