#include "actors/http_frontend.hpp"

#include <chrono>

#include <caf/actor_system.hpp>
#include <nlohmann/json.hpp>

#include <caf/send.hpp>
#include <spdlog/spdlog.h>

#include "actors/logging.hpp"
#include "actors/metrics_report.hpp"
#include "actors/status_report.hpp"
#include "http/hop_guard.hpp"
#include "http/request_id.hpp"
#include "http/text.hpp"
#include "http/routes.hpp"

namespace sova::actors {

namespace {

using steady = std::chrono::steady_clock;

struct frontend_context {
  caf::actor_system* sys;
  request_config request;
  status_sources sources;
  direct_path direct;
  std::shared_ptr<frontend_state> state;
  std::string http_host;
  std::atomic<std::uint16_t> http_port{0};  // known once bound (port 0 picks one)
  std::string via_entry;  // this node in Via headers (http/hop_guard)
};

const char* route_name(http::route_kind kind) {
  switch (kind) {
    case http::route_kind::asr: return "asr";
    case http::route_kind::tts: return "tts";
    case http::route_kind::healthz: return "healthz";
    case http::route_kind::status: return "status";
    case http::route_kind::metrics: return "metrics";
  }
  return "";
}

/// One request from arrival to reply. Every reply passes through `answer`, once: the
/// request id goes back to the client, the request is counted and logged.
struct exchange {
  std::shared_ptr<frontend_context> ctx;
  http::responder reply;
  steady::time_point started = steady::now();
  request_log_entry log;
  std::vector<attempt_record> tried;
  std::string outcome;  // ASR/TTS only: served, rejected, draining, or our error code
  bool in_flight = false;  // counted in frontend_state::in_flight until answered

  void answer(http::response r) {
    log.seconds = std::chrono::duration<double>(steady::now() - started).count();
    log.status = r.status;
    log.bytes_out = r.body.size();
    record_request(ctx->state->metrics, log, outcome, tried);
    log_request(log);
    r.headers.emplace_back(std::string(http::request_id_header), log.id);
    reply(std::move(r));
    // Only now: a stopping node waits for in_flight == 0, then stops the server, which
    // writes the replies handed to it before; a reply not yet handed over would be lost.
    if (in_flight) --ctx->state->in_flight;
  }
};

http::response health(const frontend_state& state) {
  http::response r;
  if (state.draining) {
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

/// A request actor on this thread takes the job and makes every attempt.
void forward(std::shared_ptr<exchange> ex, const std::string& kind, http::request req) {
  auto& ctx = *ex->ctx;
  ++ctx.state->in_flight;
  ex->in_flight = true;
  client_job job;
  job.service = ex->log.service;
  job.kind = kind;
  job.via = http::next_via(req.header("Via"), ctx.via_entry);
  job.content_type = req.header("Content-Type");
  job.body = std::move(req.body);
  spawn_request(*ctx.sys, ctx.request, ctx.sources.directory, ctx.sources.pool, std::move(job),
                [ex](request_outcome o) {
                  ex->outcome = o.error_code.empty() ? "served" : o.error_code;
                  ex->log.error_code = o.error_code;
                  ex->log.attempts = o.attempts;
                  ex->log.backends.clear();
                  for (const auto& t : o.tried) ex->log.backends.push_back(t.backend);
                  ex->tried = std::move(o.tried);
                  http::response r;
                  r.status = o.status;
                  if (!o.content_type.empty()) r.content_type = std::move(o.content_type);
                  r.body = std::move(o.body);
                  if (o.retry_after_s > 0)
                    r.headers.emplace_back("Retry-After", std::to_string(o.retry_after_s));
                  ex->answer(std::move(r));
                },
                ctx.direct.board);
}

/// The code of one of our JSON error replies (http::error_response), for the log line.
std::string error_code_of(const http::response& r) {
  auto body = nlohmann::json::parse(r.body, nullptr, false);
  if (!body.is_object() || !body.contains("error")) return "";
  return body["error"].value("code", "");
}

void handle(const std::shared_ptr<frontend_context>& ctx, http::request req,
            http::responder reply) {
  ++ctx->state->requests;
  auto ex = std::make_shared<exchange>();
  ex->ctx = ctx;
  ex->reply = std::move(reply);
  ex->log.id = http::accept_or_make_request_id(req.header(http::request_id_header));
  ex->log.method = req.method;
  ex->log.target = req.target;
  ex->log.remote = req.remote;
  ex->log.bytes_in = req.body.size();
  auto refuse = [&](http::response r) {
    ++ctx->state->rejected;
    ex->log.error_code = error_code_of(r);
    ex->answer(std::move(r));
  };

  http::response error;
  auto route = http::match_route(req.method, req.target, &error);
  if (!route) return refuse(std::move(error));
  ex->log.service = route_name(route->kind);
  std::optional<http::response> bad;
  switch (route->kind) {
    case http::route_kind::healthz:
      return ex->answer(health(*ctx->state));
    case http::route_kind::status: {
      auto sources = ctx->sources;
      sources.http_endpoint = ctx->http_host + ":" + std::to_string(ctx->http_port.load());
      return report_status(*ctx->sys, sources, ctx->state,
                           [ex](http::response r) { ex->answer(std::move(r)); });
    }
    case http::route_kind::metrics:
      return report_metrics(*ctx->sys, ctx->sources, ctx->state,
                            [ex](http::response r) { ex->answer(std::move(r)); });
    case http::route_kind::asr:
    case http::route_kind::tts:
      if (ctx->state->draining) {
        ++ctx->state->refused_draining;
        ex->outcome = "draining";
        ex->log.error_code = "draining";
        return ex->answer(draining_reply());
      }
      if (auto loop = http::hop_refusal(req.header("Via"), ctx->via_entry)) {
        ex->outcome = "rejected";
        return refuse(http::error_response(508, "loop", *loop));
      }
      bad = route->kind == http::route_kind::asr
                ? http::check_asr_body(req.header("Content-Type"), req.body)
                : http::check_tts_body(req.body);
      if (!bad) return forward(std::move(ex), route->backend, std::move(req));
      ex->outcome = "rejected";
      return refuse(std::move(*bad));
  }
}

/// The server's own refusals (413, 431, malformed, overloaded) are counted, logged and
/// given their request id like the handler's.
void on_refusal(const std::shared_ptr<frontend_context>& ctx, const http::refusal& r,
                http::response& reply) {
  ++ctx->state->requests;
  ++ctx->state->rejected;
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
  record_request(ctx->state->metrics, log, work ? "rejected" : "", {});
  log_request(log);
  reply.headers.emplace_back(std::string(http::request_id_header), log.id);
}

}  // namespace

std::unique_ptr<http_frontend> http_frontend::start(caf::actor_system& sys,
                                                    const std::string& host, std::uint16_t port,
                                                    http::server_limits limits,
                                                    request_config request,
                                                    status_sources sources,
                                                    direct_path direct) {
  auto ctx = std::make_shared<frontend_context>();
  ctx->sys = &sys;
  ctx->request = request;
  ctx->sources = std::move(sources);
  ctx->via_entry = http::via_entry(ctx->sources.node_id);
  ctx->direct = direct;
  ctx->state = std::make_shared<frontend_state>();
  declare_request_metrics(ctx->state->metrics);
  ctx->http_host = host;
  ctx->http_port = port;
  std::unique_ptr<http_frontend> fe{new http_frontend};
  fe->state_ = ctx->state;
  fe->server_ = http::server::start(
      host, port, limits,
      [ctx](http::request req, http::responder reply) {
        handle(ctx, std::move(req), std::move(reply));
      },
      [ctx](const http::refusal& r, http::response& reply) { on_refusal(ctx, r, reply); },
      direct.io);
  ctx->http_port = fe->server_->port();
  return fe;
}

http_frontend::~http_frontend() { stop(); }

void http_frontend::stop(std::chrono::milliseconds finish_replies) {
  if (server_) server_->stop(finish_replies);
}

std::uint16_t http_frontend::port() const { return server_->port(); }

}  // namespace sova::actors
