#include "actors/http_frontend.hpp"

#include <chrono>

#include <caf/actor_system.hpp>
#include <spdlog/spdlog.h>

#include "actors/status_report.hpp"
#include "http/routes.hpp"

namespace sova::actors {

namespace {

struct frontend_context {
  caf::actor_system* sys;
  request_config request;
  status_sources sources;
  std::shared_ptr<frontend_state> state;
  std::string http_host;
  std::atomic<std::uint16_t> http_port{0};  // known once bound (port 0 picks one)
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

void forward(const std::shared_ptr<frontend_context>& ctx, const char* service,
             const std::string& kind, http::request req, http::responder reply) {
  ++ctx->state->in_flight;
  auto started = std::chrono::steady_clock::now();
  client_job job{service, kind, req.header("Content-Type"), std::move(req.body)};
  auto counters = ctx->state;
  auto remote = std::move(req.remote);
  spawn_request(*ctx->sys, ctx->request, ctx->sources.directory, ctx->sources.pool,
                std::move(job),
                [reply, counters, started, service, remote](request_outcome o) {
                  --counters->in_flight;
                  auto ms = std::chrono::duration<double, std::milli>(
                                std::chrono::steady_clock::now() - started)
                                .count();
                  // Formatted only when the level is on: this runs for every request.
                  if (o.error_code.empty())
                    spdlog::debug("{} request from {}: {} via {} in {:.1f} ms ({} attempt(s))",
                                  service, remote, o.status, fmt::join(o.backends, ","), ms,
                                  o.attempts);
                  else
                    spdlog::warn("{} request from {} answered {} {} after {:.1f} ms; tried: {}",
                                 service, remote, o.status, o.error_code, ms,
                                 o.backends.empty() ? "none"
                                                    : fmt::format("{}", fmt::join(o.backends, ",")));
                  http::response r;
                  r.status = o.status;
                  if (!o.content_type.empty()) r.content_type = std::move(o.content_type);
                  r.body = std::move(o.body);
                  reply(std::move(r));
                });
}

void handle(const std::shared_ptr<frontend_context>& ctx, http::request req,
            http::responder reply) {
  ++ctx->state->requests;
  http::response error;
  auto route = http::match_route(req.method, req.target, &error);
  if (!route) {
    ++ctx->state->rejected;
    return reply(std::move(error));
  }
  std::optional<http::response> bad;
  bool work = route->kind == http::route_kind::asr || route->kind == http::route_kind::tts;
  if (work && ctx->state->draining) {
    ++ctx->state->refused_draining;
    return reply(draining_reply());
  }
  switch (route->kind) {
    case http::route_kind::healthz:
      return reply(health(*ctx->state));
    case http::route_kind::status: {
      auto sources = ctx->sources;
      sources.http_endpoint = ctx->http_host + ":" + std::to_string(ctx->http_port.load());
      return report_status(*ctx->sys, sources, ctx->state, std::move(reply));
    }
    case http::route_kind::asr:
      bad = http::check_asr_body(req.header("Content-Type"), req.body);
      if (!bad) return forward(ctx, "asr", route->backend, std::move(req), std::move(reply));
      break;
    case http::route_kind::tts:
      bad = http::check_tts_body(req.body);
      if (!bad) return forward(ctx, "tts", route->backend, std::move(req), std::move(reply));
      break;
  }
  ++ctx->state->rejected;
  reply(std::move(*bad));
}

}  // namespace

std::unique_ptr<http_frontend> http_frontend::start(caf::actor_system& sys,
                                                    const std::string& host, std::uint16_t port,
                                                    http::server_limits limits,
                                                    request_config request,
                                                    status_sources sources) {
  auto ctx = std::make_shared<frontend_context>();
  ctx->sys = &sys;
  ctx->request = request;
  ctx->sources = std::move(sources);
  ctx->state = std::make_shared<frontend_state>();
  ctx->http_host = host;
  ctx->http_port = port;
  std::unique_ptr<http_frontend> fe{new http_frontend};
  fe->state_ = ctx->state;
  fe->server_ = http::server::start(host, port, limits,
                                    [ctx](http::request req, http::responder reply) {
                                      handle(ctx, std::move(req), std::move(reply));
                                    });
  ctx->http_port = fe->server_->port();
  return fe;
}

http_frontend::~http_frontend() { stop(); }

void http_frontend::stop() {
  if (server_) server_->stop();
}

std::uint16_t http_frontend::port() const { return server_->port(); }

}  // namespace sova::actors
