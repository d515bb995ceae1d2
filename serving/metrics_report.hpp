#pragma once
// GET /metrics (shared/API.md): the families the frontend records as requests finish,
// and, read at scrape time, a node view (node_view_fan_in.hpp) rendered as
// views/metrics_text.hpp says. A part that does not answer within a couple of seconds
// is left out and reported by sova_dc_scrape_part_up 0.

#include <memory>
#include <string>
#include <vector>

#include <caf/fwd.hpp>

#include "actors/node_handles.hpp"
#include "actors/request_actor.hpp"
#include "http/metrics.hpp"
#include "http/server.hpp"
#include "serving/logging.hpp"

namespace sova::serving {

/// Declares the families record_request fills.
void declare_request_metrics(http::metrics_registry& m);

/// One finished HTTP request: sova_dc_http_requests_total{route, code}; for ASR/TTS
/// (`outcome` not empty: served, rejected, draining, no_backend, all_failed, deadline)
/// also requests by service and outcome, the latency histogram, retries, and each
/// attempt on a backend (count by result and latency histogram, by backend).
void record_request(http::metrics_registry& m, const request_log_entry& request,
                    const std::string& outcome,
                    const std::vector<actors::attempt_record>& attempt_log);

/// `recorded`: the families record_request fills (read at scrape time); `counters`: the
/// front end's when the scrape came.
void report_metrics(caf::actor_system& sys, const actors::node_handles& sources,
                    std::shared_ptr<const http::metrics_registry> recorded,
                    actors::http_counters counters, http::responder reply);

}  // namespace sova::serving
