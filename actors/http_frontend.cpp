#include "actors/http_frontend.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>

#include <caf/actor_system.hpp>
#include <caf/exit_reason.hpp>
#include <caf/send.hpp>
#include <caf/typed_event_based_actor.hpp>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "http/hop_guard.hpp"
#include "http/metrics.hpp"
#include "http/request_id.hpp"
#include "http/reservation.hpp"
#include "http/routes.hpp"
#include "http/static_files.hpp"
#include "http/text.hpp"
#include "serving/logging.hpp"
#include "serving/metrics_report.hpp"
#include "serving/models_report.hpp"
#include "serving/openai_requests.hpp"
#include "serving/status_report.hpp"

namespace sova::actors {

using serving::backend_board;
using serving::declare_request_metrics;
using serving::log_request;
using serving::openai_error_of;
using serving::openai_job;
using serving::openai_job_for;
using serving::record_request;
using serving::reply_translator;
using serving::report_metrics;
using serving::report_models;
using serving::report_status;
using serving::request_log_entry;

using steady = std::chrono::steady_clock;

/// One request from its read to its reply. Whoever answers it sets `answer` and hands it
/// back to the front end (answer_atom), which sends it, once.
struct frontend_exchange {
  http::request req;
  http::responder reply;
  steady::time_point started = steady::now();
  request_log_entry log;
  std::vector<attempt_record> attempt_log;  // every attempt that reached a backend, in order
  std::string outcome;  // ASR/TTS only: served, rejected, draining, or our error code
  bool in_flight = false;  // counted in http_counters::in_flight until answered
  reply_translator translate;  // OpenAI routes: the reply in OpenAI's terms
  http::response answer;
};

namespace {

/// What the front end was started with; read-only, shared with the server's callbacks.
struct frontend_context {
  caf::actor_system* sys;
  std::shared_ptr<const request_context> request;  // every request actor's
  node_handles sources;
  std::string http_host;
  std::atomic<std::uint16_t> http_port{0};  // known once bound (port 0 picks one)
  std::string via_entry;  // this node in Via headers (http/hop_guard)
  // Thread-safe: the server's own refusals are recorded where they happen.
  std::shared_ptr<http::metrics_registry> metrics = std::make_shared<http::metrics_registry>();
};

struct frontend_state {
  std::shared_ptr<const frontend_context> ctx;
  http_counters counters;
  static inline const char* name = "http_frontend";
};

using self_ptr = http_frontend_actor::stateful_pointer<frontend_state>;

const char* route_name(http::route_kind kind) {
  switch (kind) {
    case http::route_kind::asr: return "asr";
    case http::route_kind::tts: return "tts";
    case http::route_kind::healthz: return "healthz";
    case http::route_kind::status: return "status";
    case http::route_kind::metrics: return "metrics";
    case http::route_kind::page: return "page";
    case http::route_kind::openai_transcriptions: return "asr";
    case http::route_kind::openai_speech: return "tts";
    case http::route_kind::openai_models: return "models";
    case http::route_kind::reserve: return "reservation";
    case http::route_kind::cancel_reservation: return "reservation";
  }
  return "";
}

/// Every reply passes through here, once: the request id goes back to the client, the
/// request is counted and logged.
void answer(self_ptr self, frontend_exchange& ex) {
  auto& log = ex.log;
  auto& r = ex.answer;
  if (ex.translate) r = ex.translate(std::move(r));
  log.seconds = std::chrono::duration<double>(steady::now() - ex.started).count();
  log.status = r.status;
  log.bytes_out = r.body.size();
  record_request(*self->state.ctx->metrics, log, ex.outcome, ex.attempt_log);
  log_request(log);
  r.headers.emplace_back(std::string(http::request_id_header), log.id);
  ex.reply(std::move(r));
  // Only now: a stopping node waits for in_flight == 0, then stops the server, which
  // writes the replies handed to it before; a reply not yet handed over would be lost.
  if (ex.in_flight) --self->state.counters.in_flight;
}

void answer_now(self_ptr self, frontend_exchange& ex, http::response r) {
  ex.answer = std::move(r);
  answer(self, ex);
}

/// A callback that answers `ex` later, from another actor: it hands the reply back here.
std::function<void(http::response)> answer_later(self_ptr self, frontend_exchange_ptr ex) {
  auto me = caf::actor_cast<http_frontend_actor>(self);
  return [me, ex](http::response r) {
    ex->answer = std::move(r);
    caf::anon_send(me, answer_atom::value, ex);
  };
}

http::response health(bool draining) {
  http::response r;
  if (draining) {
    r.status = 503;  // load balancers and checks move away from a draining node
    r.body = R"({"status": "draining"})";
  } else {
    r.body = R"({"status": "ok"})";
  }
  return r;
}

http::response draining_reply() {
  return http::error_response(503, "draining",
                              "this node is draining: it takes no new requests; send them to "
                              "another node of the network");
}

/// A request actor on this thread takes the job and makes every attempt. `reservation`:
/// the slot this node's owner holds for it (Sova-Reservation), "" for none.
void forward(self_ptr self, frontend_exchange_ptr ex, net::service service,
             net::wanted_kind wanted, std::string reservation = {}) {
  const auto& ctx = *self->state.ctx;
  ++self->state.counters.in_flight;
  ex->in_flight = true;
  auto& req = ex->req;
  client_job job;
  job.service = service;
  job.wanted = wanted;
  job.via = http::next_via(req.header("Via"), ctx.via_entry);
  job.own_only = http::forwarded_by_a_node(req.header("Via"));
  job.reservation = std::move(reservation);
  job.content_type = req.header("Content-Type");
  job.body = std::move(req.body);
  auto me = caf::actor_cast<http_frontend_actor>(self);
  spawn_request(*ctx.sys, ctx.request, std::move(job),
                [me, ex](request_outcome o) {
                  ex->outcome = o.error_code.empty() ? "served" : o.error_code;
                  ex->log.error_code = o.error_code;
                  ex->log.attempts = o.attempts;
                  ex->log.backends.clear();
                  for (const auto& t : o.attempt_log) ex->log.backends.push_back(t.backend);
                  ex->attempt_log = std::move(o.attempt_log);
                  auto& r = ex->answer;
                  r.status = o.status;
                  if (!o.content_type.empty()) r.content_type = std::move(o.content_type);
                  r.body = std::move(o.body);
                  if (o.retry_after_s > 0)
                    r.headers.emplace_back("Retry-After", std::to_string(o.retry_after_s));
                  caf::anon_send(me, answer_atom::value, ex);
                });
}

/// The code of one of our JSON error replies (http::error_response), for the log line.
std::string error_code_of(const http::response& r) {
  auto body = nlohmann::json::parse(r.body, nullptr, false);
  if (!body.is_object() || !body.contains("error")) return "";
  return body["error"].value("code", "");
}

/// A refusal of the node's own (4xx): counted and logged with its code.
void reject(self_ptr self, frontend_exchange& ex, http::response r) {
  ++self->state.counters.rejected;
  ex.log.error_code = error_code_of(r);
  answer_now(self, ex, std::move(r));
}

/// Any other answer of the node's own: logged with its code, not counted as a refusal.
void answer_error(self_ptr self, frontend_exchange& ex, http::response r) {
  ex.log.error_code = error_code_of(r);
  answer_now(self, ex, std::move(r));
}

// -- late binding: this node as the owner other nodes reserve slots at --------------

http::response no_owner_reply() {
  return http::error_response(503, "not_owner",
                              "this node queues no backends of its own (no --services, or "
                              "--announce backends): it takes no reservations");
}

/// POST /v1/reservations: the owner queues the reservation and answers when it holds a
/// slot for it, or at once when it cannot take it. The entry node cancels with DELETE if
/// it goes away meanwhile, so the client's connection is not watched.
void reserve(self_ptr self, frontend_exchange_ptr ex) {
  const auto& ctx = *self->state.ctx;
  http::response error;
  auto ask = http::parse_reservation_post(ex->req.body, &error);
  if (!ask) return reject(self, *ex, std::move(error));
  if (!ctx.request->owner) return answer_error(self, *ex, no_owner_reply());
  if (self->state.counters.draining) return answer_error(self, *ex, draining_reply());
  reservation_request r;
  r.id = ask->id;
  r.service = ask->service;
  r.wanted = ask->wanted;
  r.timeout = ask->timeout;
  // The handlers run on this actor: the exchange is answered from here, as any other.
  // No CAF timeout: CAF 0.17's clock keeps each until it fires, answered or not (one per
  // reservation would pile up); the owner answers every reservation, at the latest when
  // its deadline passes (its 250 ms tick), before the entry node's own timer.
  self->request(ctx.request->owner, caf::infinite, reserve_atom::value, std::move(r))
      .then(
          [self, ex, id = ask->id](reservation_answer& a) {
            auto reply = http::reservation_reply(id, a.status, a.retry_after, a.reason);
            if (a.status == reservation_status::granted) return answer_now(self, *ex, std::move(reply));
            answer_error(self, *ex, std::move(reply));
          },
          [self, ex, id = ask->id](caf::error& e) {
            answer_error(self, *ex,
                         http::reservation_reply(id, reservation_status::failed, {},
                                                 "the owner did not answer: " + describe(e)));
          });
}

/// DELETE /v1/reservations/<id>: told to the owner, answered at once (also for an id the
/// owner does not hold: it lapsed, ran, or never came), so that no entry node waits on it.
void cancel_reservation(self_ptr self, frontend_exchange& ex) {
  const auto& owner = self->state.ctx->request->owner;
  if (!owner) return answer_error(self, ex, no_owner_reply());
  if (auto id = http::reservation_id_of(ex.req.target))  // match_route checked it
    self->send(owner, cancel_atom::value, std::move(*id));
  http::response r;
  r.status = 204;
  r.content_type.clear();
  answer_now(self, ex, std::move(r));
}

void handle(self_ptr self, frontend_exchange_ptr ex) {
  const auto& ctx = *self->state.ctx;
  auto& counters = self->state.counters;
  ++counters.requests;
  const auto& req = ex->req;
  ex->log.id = http::accept_or_make_request_id(req.header(http::request_id_header));
  ex->log.method = req.method;
  ex->log.target = req.target;
  ex->log.remote = req.remote;
  ex->log.bytes_in = req.body.size();
  auto refuse = [&](http::response r) { reject(self, *ex, std::move(r)); };

  http::response error;
  auto route = http::match_route(req.method, req.target, &error);
  if (!route) {
    if (http::is_openai_path(req.target)) error = openai_error_of(std::move(error));
    return refuse(std::move(error));
  }
  ex->log.service = route_name(route->kind);
  // OpenAI's routes: every reply, refusals included, in OpenAI's shape; a request becomes
  // the SOVA request it stands for, served below as any other.
  std::optional<openai_job> openai;
  if (http::is_openai_route(route->kind)) {
    ex->translate = openai_error_of;
    if (route->kind == http::route_kind::openai_models)
      return report_models(*ctx.sys, ctx.sources, answer_later(self, ex));
    openai = openai_job_for(*route, req.header("Content-Type"), req.body, &error);
    if (!openai) {
      ex->outcome = "rejected";
      return refuse(std::move(error));
    }
  }
  std::optional<http::response> bad;
  switch (route->kind) {
    case http::route_kind::healthz:
      return answer_now(self, *ex, health(counters.draining));
    // The web page's files: a lookup in the binary, answered here like /healthz.
    case http::route_kind::page:
      return answer_now(self, *ex, http::static_file_reply(req.target, req.header("If-None-Match")));
    case http::route_kind::status: {
      auto sources = ctx.sources;
      sources.http_endpoint = ctx.http_host + ":" + std::to_string(ctx.http_port.load());
      return report_status(*ctx.sys, sources, counters, answer_later(self, ex));
    }
    case http::route_kind::metrics:
      return report_metrics(*ctx.sys, ctx.sources, ctx.metrics, counters, answer_later(self, ex));
    case http::route_kind::openai_models:  // answered above
      return;
    case http::route_kind::reserve:
      return reserve(self, std::move(ex));
    case http::route_kind::cancel_reservation:
      return cancel_reservation(self, *ex);
    case http::route_kind::asr:
    case http::route_kind::tts:
    case http::route_kind::openai_transcriptions:
    case http::route_kind::openai_speech: {
      // Late binding: the job of a reservation this node's owner granted another node
      // (SOVA's routes only). Work taken before a drain: it is not refused by one.
      auto reservation = openai ? std::string() : req.header(http::reservation_header);
      if (counters.draining && reservation.empty()) {
        ++counters.refused_draining;
        ex->outcome = "draining";
        ex->log.error_code = "draining";
        return answer_now(self, *ex, draining_reply());
      }
      if (auto loop = http::hop_refusal(req.header("Via"), ctx.via_entry)) {
        ex->outcome = "rejected";
        return refuse(http::error_response(508, "loop", *loop));
      }
      if (openai) {
        auto& r = ex->req;
        r.body = std::move(openai->body);
        auto& hs = r.headers;
        hs.erase(std::remove_if(hs.begin(), hs.end(),
                                [](const auto& h) { return http::iequals(h.first, "Content-Type"); }),
                 hs.end());
        hs.emplace_back("Content-Type", openai->content_type);
        ex->translate = std::move(openai->translate);
        return forward(self, std::move(ex), openai->service, openai->wanted);
      }
      if (!reservation.empty() && !http::valid_reservation_id(reservation)) {
        ex->outcome = "rejected";
        return refuse(http::error_response(
            400, "bad_request",
            std::string(http::reservation_header) + " '" + http::shown(reservation) +
                "' is not a reservation id (1-64 characters of 0-9 A-Z a-z _ -)"));
      }
      bad = route->kind == http::route_kind::asr
                ? http::check_asr_body(req.header("Content-Type"), req.body)
                : http::check_tts_body(req.body);
      if (!bad)
        return forward(self, std::move(ex), http::service_of(route->kind), route->wanted,
                       std::move(reservation));
      ex->outcome = "rejected";
      return refuse(std::move(*bad));
    }
  }
}

/// The server's own refusals (413, 431, malformed, overloaded) are logged and given their
/// request id like the handler's, where they happen (the reply is written at once); the
/// actor counts them.
void on_refusal(const frontend_context& ctx, const http::refusal& r, http::response& reply) {
  request_log_entry log;
  std::string given;
  for (const auto& [name, value] : r.headers)
    if (http::iequals(name, http::request_id_header)) given = value;
  log.id = http::accept_or_make_request_id(given);
  log.method = r.method;
  log.target = r.target;
  log.remote = r.remote;
  log.status = r.status;
  log.error_code = r.code;
  http::response error;
  if (auto route = http::match_route(r.method, r.target, &error)) log.service = route_name(route->kind);
  auto work = log.service == "asr" || log.service == "tts";
  record_request(*ctx.metrics, log, work ? "rejected" : "", {});
  log_request(log);
  if (http::is_openai_path(r.target)) reply = openai_error_of(std::move(reply));
  reply.headers.emplace_back(std::string(http::request_id_header), log.id);
}

http_frontend_actor::behavior_type frontend_behavior(self_ptr self,
                                                     std::shared_ptr<const frontend_context> ctx) {
  self->state.ctx = std::move(ctx);
  return {
      [=](drain_atom, bool on) {
        auto was = self->state.counters.draining;
        self->state.counters.draining = on;
        return was;
      },
      [=](stats_atom) { return self->state.counters; },
      [=](read_atom, frontend_exchange_ptr& ex) { handle(self, std::move(ex)); },
      [=](answer_atom, frontend_exchange_ptr& ex) { answer(self, *ex); },
      [=](refused_atom) {
        ++self->state.counters.requests;
        ++self->state.counters.rejected;
      },
  };
}

}  // namespace

std::unique_ptr<http_frontend> http_frontend::start(caf::actor_system& sys,
                                                    const std::string& host, std::uint16_t port,
                                                    http::server_limits limits,
                                                    request_config request,
                                                    node_handles sources,
                                                    direct_path direct) {
  auto ctx = std::make_shared<frontend_context>();
  ctx->sys = &sys;
  ctx->sources = std::move(sources);
  ctx->request = std::make_shared<const request_context>(request_context{
      std::move(request), ctx->sources.directory, ctx->sources.pool, direct.board,
      std::move(direct.own), direct.owner});
  ctx->via_entry = http::via_entry(ctx->sources.node_id);
  declare_request_metrics(*ctx->metrics);
  ctx->http_host = host;
  ctx->http_port = port;
  std::unique_ptr<http_frontend> fe{new http_frontend};
  auto actor = sys.spawn(frontend_behavior, std::shared_ptr<const frontend_context>(ctx));
  fe->actor_ = actor;
  try {
    fe->server_ = http::server::start(
        host, port, limits,
        [actor](http::request req, http::responder reply) {
          auto ex = std::make_shared<frontend_exchange>();
          ex->req = std::move(req);
          ex->reply = std::move(reply);
          caf::anon_send(actor, read_atom::value, std::move(ex));
        },
        [ctx, actor](const http::refusal& r, http::response& reply) {
          on_refusal(*ctx, r, reply);
          caf::anon_send(actor, refused_atom::value);
        },
        direct.io);
  } catch (...) {
    caf::anon_send_exit(actor, caf::exit_reason::user_shutdown);
    throw;
  }
  ctx->http_port = fe->server_->port();
  return fe;
}

http_frontend::~http_frontend() { stop(); }

void http_frontend::stop(std::chrono::milliseconds finish_replies) {
  if (server_) server_->stop(finish_replies);
  if (actor_) caf::anon_send_exit(actor_, caf::exit_reason::user_shutdown);
}

std::uint16_t http_frontend::port() const { return server_->port(); }

}  // namespace sova::actors
