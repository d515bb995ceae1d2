#include "serving/metrics_report.hpp"

#include "actors/node_view_fan_in.hpp"
#include "views/metrics_text.hpp"

namespace sova::serving {

namespace {

using http::metric_type;

constexpr const char* http_requests = "sova_dc_http_requests_total";
constexpr const char* requests = "sova_dc_requests_total";
constexpr const char* request_seconds = "sova_dc_request_duration_seconds";
constexpr const char* retries = "sova_dc_request_retries_total";
constexpr const char* attempts = "sova_dc_backend_attempts_total";
constexpr const char* attempt_seconds = "sova_dc_backend_attempt_duration_seconds";

/// "tts/cpu/10.0.0.5:8899" -> "tts"
std::string_view service_of(std::string_view backend) { return backend.substr(0, backend.find('/')); }

}  // namespace

void declare_request_metrics(http::metrics_registry& m) {
  m.declare(http_requests, metric_type::counter,
            "HTTP requests answered, by route (asr, tts, OpenAI's included; healthz, status, "
            "metrics, models; reservation between nodes; none for an unknown path) and "
            "status code");
  m.declare(requests, metric_type::counter,
            "ASR and TTS requests by service and outcome: served (a backend's answer went "
            "back), rejected (bad request), draining, no_backend, all_failed, deadline");
  m.declare(request_seconds, metric_type::histogram,
            "Time from receiving an ASR or TTS request to its reply, retries included");
  m.declare(retries, metric_type::counter,
            "Attempts on another backend after one failed");
  m.declare(attempts, metric_type::counter,
            "Attempts on each backend, by result: ok (it answered) or failed (connect error, "
            "timeout, 5xx, garbage)");
  m.declare(attempt_seconds, metric_type::histogram,
            "Time each backend took per attempt, failed ones included");
}

void record_request(http::metrics_registry& m, const request_log_entry& request,
                    const std::string& outcome,
                    const std::vector<actors::attempt_record>& attempt_log) {
  m.add(http_requests, {{"route", request.service.empty() ? "none" : request.service},
                        {"code", std::to_string(request.status)}});
  if (outcome.empty()) return;
  m.add(requests, {{"service", request.service}, {"outcome", outcome}});
  if (outcome == "rejected" || outcome == "draining") return;  // never reached the network
  m.observe(request_seconds, {{"service", request.service}}, request.seconds);
  if (attempt_log.size() > 1)
    m.add(retries, {{"service", request.service}}, double(attempt_log.size() - 1));
  for (const auto& t : attempt_log) {
    std::string_view backend = t.backend;
    auto service = service_of(backend);
    m.observe(attempt_seconds, {{"service", service}, {"backend", backend}}, t.seconds);
    m.add(attempts, {{"service", service}, {"backend", backend}, {"result", t.ok ? "ok" : "failed"}});
  }
}

void report_metrics(caf::actor_system& sys, const actors::node_handles& sources,
                    std::shared_ptr<const http::metrics_registry> recorded,
                    actors::http_counters counters, http::responder reply) {
  actors::gather_node_view(sys, sources, counters, std::chrono::seconds(2),
                   [recorded, reply = std::move(reply)](views::node_view v) {
                     http::response r;
                     r.content_type = "text/plain; version=0.0.4; charset=utf-8";
                     // The recorded families as they are when the last part answered.
                     r.body = views::metrics_text(v, recorded->render());
                     reply(std::move(r));
                   });
}

}  // namespace sova::serving
