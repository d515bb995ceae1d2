#include "actors/metrics_report.hpp"

#include <caf/actor_system.hpp>
#include <caf/event_based_actor.hpp>

namespace sova::actors {

namespace {

using http::metric_labels;
using http::metric_type;
constexpr auto ask_limit = std::chrono::seconds(2);

constexpr const char* http_requests = "sova_dc_http_requests_total";
constexpr const char* requests = "sova_dc_requests_total";
constexpr const char* request_seconds = "sova_dc_request_duration_seconds";
constexpr const char* retries = "sova_dc_request_retries_total";
constexpr const char* attempts = "sova_dc_backend_attempts_total";
constexpr const char* attempt_seconds = "sova_dc_backend_attempt_duration_seconds";

/// "tts/cpu/10.0.0.5:8899" -> "tts"
std::string_view service_of(std::string_view backend) { return backend.substr(0, backend.find('/')); }

/// What the parts said; the text goes out when the last one has answered (or failed).
struct scrape {
  status_sources src;
  std::shared_ptr<const frontend_state> state;
  http::responder reply;
  std::optional<transport_stats> transport;
  std::optional<std::size_t> table_size;
  std::optional<directory_stats> directory;
  std::optional<backend_healths> healths;
  std::optional<own_services> own;
  int pending = 0;
};

void counter(http::exposition_writer& w, const char* name, const char* help, double v,
             const metric_labels& labels = {}) {
  w.family(name, metric_type::counter, help);
  w.sample(name, labels, v);
}

void gauge(http::exposition_writer& w, const char* name, const char* help, double v,
           const metric_labels& labels = {}) {
  w.family(name, metric_type::gauge, help);
  w.sample(name, labels, v);
}

void write_transport(http::exposition_writer& w, const transport_stats& t) {
  counter(w, "sova_dc_dht_datagrams_received_total", "UDP datagrams received by the DHT",
          double(t.datagrams_in));
  counter(w, "sova_dc_dht_datagrams_sent_total", "UDP datagrams sent by the DHT",
          double(t.datagrams_out));
  w.family("sova_dc_dht_datagrams_dropped_total", metric_type::counter,
           "Datagrams dropped: malformed, a reply to no call of ours (or too late), a request "
           "over its address's rate, or the transport too far behind");
  w.sample("sova_dc_dht_datagrams_dropped_total", {{"reason", "malformed"}},
           double(t.dropped_malformed));
  w.sample("sova_dc_dht_datagrams_dropped_total", {{"reason", "unsolicited"}},
           double(t.dropped_unsolicited));
  w.sample("sova_dc_dht_datagrams_dropped_total", {{"reason", "rate_limited"}},
           double(t.dropped_rate_limited));
  w.sample("sova_dc_dht_datagrams_dropped_total", {{"reason", "backlog"}},
           double(t.dropped_backlog));
  w.family("sova_dc_dht_large_replies_total", metric_type::counter,
           "Replies over the reflection bound to an address that had not answered us: "
           "deferred until it answered our ping, or withheld when it did not");
  w.sample("sova_dc_dht_large_replies_total", {{"result", "deferred"}},
           double(t.replies_deferred));
  w.sample("sova_dc_dht_large_replies_total", {{"result", "withheld"}},
           double(t.replies_withheld));
  w.family("sova_dc_dht_handovers_total", metric_type::counter,
           "Newly seen contacts handed the keys they are now closest to, or skipped over the rate");
  w.sample("sova_dc_dht_handovers_total", {{"result", "done"}}, double(t.handovers));
  w.sample("sova_dc_dht_handovers_total", {{"result", "skipped"}}, double(t.handovers_skipped));
  counter(w, "sova_dc_dht_rpcs_sent_total", "DHT calls this node made (ping, store, find_*)",
          double(t.calls_sent));
  counter(w, "sova_dc_dht_rpc_replies_received_total", "Replies to this node's DHT calls",
          double(t.replies_in));
  counter(w, "sova_dc_dht_rpc_timeouts_total", "DHT calls of this node that got no reply in time",
          double(t.calls_timed_out));
  counter(w, "sova_dc_dht_rpcs_received_total", "DHT calls other nodes made to this one",
          double(t.requests_in));
  w.family("sova_dc_dht_stores_total", metric_type::counter,
           "Store calls received, by whether the record was kept");
  w.sample("sova_dc_dht_stores_total", {{"result", "accepted"}}, double(t.stores_accepted));
  w.sample("sova_dc_dht_stores_total", {{"result", "refused"}}, double(t.stores_refused));
  gauge(w, "sova_dc_dht_stored_keys", "Keys in this node's record store", double(t.records_keys));
  gauge(w, "sova_dc_dht_stored_values", "Values in this node's record store",
        double(t.records_values));
}

void write_directory(http::exposition_writer& w, const directory_stats& d) {
  counter(w, "sova_dc_directory_requests_total", "Requests for the backends of a service",
          double(d.requests));
  counter(w, "sova_dc_directory_cache_hits_total", "Of those, answered from the cache",
          double(d.answered_from_cache));
  counter(w, "sova_dc_directory_lookups_total", "DHT lookups of a service's backends",
          double(d.lookups_started));
  counter(w, "sova_dc_directory_lookup_failures_total", "Of those, failed",
          double(d.lookups_failed));
  counter(w, "sova_dc_directory_ignored_values_total",
          "Values found under a service key and ignored (malformed, wrong key, loopback)",
          double(d.values_ignored));
  gauge(w, "sova_dc_directory_cached_services", "Service keys in the directory's cache",
        double(d.keys_cached));
}

/// One family with a sample per entry of `items` (each names its `backend`).
template <class Items, class Value>
void per_backend(http::exposition_writer& w, const char* name, metric_type type,
                 const char* help, const Items& items, Value value) {
  w.family(name, type, help);
  for (const auto& x : items) w.sample(name, {{"backend", x.backend.to_string()}}, value(x));
}

void write_backends(http::exposition_writer& w, const backend_healths& hs) {
  per_backend(w, "sova_dc_backend_in_flight", metric_type::gauge,
              "Requests this node has in flight on each backend", hs,
              [](const backend_health& h) { return double(h.in_flight); });
  per_backend(w, "sova_dc_backend_latency_ewma_seconds", metric_type::gauge,
              "Moving average of each backend's served attempts (0 before the first)", hs,
              [](const backend_health& h) { return h.latency_ms / 1000; });
  per_backend(w, "sova_dc_backend_breaker_open", metric_type::gauge,
              "1 while a backend's circuit breaker keeps requests away from it", hs,
              [](const backend_health& h) { return h.breaker == breaker_state::open ? 1.0 : 0.0; });
}

void write_own(http::exposition_writer& w, const own_services& own) {
  per_backend(w, "sova_dc_own_backend_up", metric_type::gauge,
              "1 while this node's own backend answers its probes (and is announced)", own,
              [](const own_service& o) { return o.alive ? 1.0 : 0.0; });
  per_backend(w, "sova_dc_own_backend_announcements_total", metric_type::counter,
              "Announcements of this node's own backend that stored the record somewhere", own,
              [](const own_service& o) { return double(o.announcements); });
}

void complete(const std::shared_ptr<scrape>& s) {
  if (--s->pending > 0) return;
  http::exposition_writer w;
  w.family("sova_dc_build_info", metric_type::gauge, "Version and id of this node (always 1)");
  w.sample("sova_dc_build_info", {{"version", s->src.version}, {"node_id", s->src.node_id}}, 1);
  s->state->metrics.write(w);
  gauge(w, "sova_dc_requests_in_flight", "ASR and TTS requests being served now",
        double(s->state->in_flight.load()));
  gauge(w, "sova_dc_draining", "1 while the node refuses new work (drain or stop signal)",
        s->state->draining ? 1 : 0);
  if (s->table_size)
    gauge(w, "sova_dc_routing_table_contacts", "Contacts in the DHT routing table",
          double(*s->table_size));
  if (s->transport) write_transport(w, *s->transport);
  if (s->directory) write_directory(w, *s->directory);
  if (s->healths) write_backends(w, *s->healths);
  if (s->own) write_own(w, *s->own);
  w.family("sova_dc_scrape_part_up", metric_type::gauge,
           "1 when that part of the node answered this scrape in time");
  auto up = [&](const char* part, bool ok) { w.sample("sova_dc_scrape_part_up", {{"part", part}}, ok); };
  up("routing_table", s->table_size.has_value());
  up("transport", s->transport.has_value());
  up("directory", s->directory.has_value());
  up("backend_pool", s->healths.has_value());
  if (s->src.announcer) up("announcer", s->own.has_value());
  http::response r;
  r.content_type = "text/plain; version=0.0.4; charset=utf-8";
  r.body = w.take();
  s->reply(std::move(r));
}

template <class T, class Handle, class... Ts>
void ask(caf::event_based_actor* self, const std::shared_ptr<scrape>& s, const Handle& whom,
         std::optional<T> scrape::*slot, Ts... xs) {
  self->request(whom, ask_limit, xs...)
      .then([s, slot](const T& value) {
              (*s).*slot = value;
              complete(s);
            },
            [s](const caf::error&) { complete(s); });
}

void gather(caf::event_based_actor* self, std::shared_ptr<scrape> s) {
  const auto& src = s->src;
  s->pending = src.announcer ? 5 : 4;
  self->request(src.table, ask_limit, table_atom::value)
      .then([s](const contacts& cs) {
              s->table_size = cs.size();
              complete(s);
            },
            [s](const caf::error&) { complete(s); });
  ask<transport_stats>(self, s, src.transport, &scrape::transport, stats_atom::value);
  ask<directory_stats>(self, s, src.directory, &scrape::directory, stats_atom::value);
  ask<backend_healths>(self, s, src.pool, &scrape::healths, health_atom::value);
  if (src.announcer)
    ask<own_services>(self, s, src.announcer, &scrape::own, services_atom::value);
}

}  // namespace

void declare_request_metrics(http::metrics_registry& m) {
  m.declare(http_requests, metric_type::counter,
            "HTTP requests answered, by route (asr, tts, healthz, status, metrics; none for "
            "an unknown path) and status code");
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
                    const std::string& outcome, const std::vector<attempt_record>& tried) {
  m.add(http_requests, {{"route", request.service.empty() ? "none" : request.service},
                        {"code", std::to_string(request.status)}});
  if (outcome.empty()) return;
  m.add(requests, {{"service", request.service}, {"outcome", outcome}});
  if (outcome == "rejected" || outcome == "draining") return;  // never reached the network
  m.observe(request_seconds, {{"service", request.service}}, request.seconds);
  if (tried.size() > 1) m.add(retries, {{"service", request.service}}, double(tried.size() - 1));
  for (const auto& t : tried) {
    std::string_view backend = t.backend;
    auto service = service_of(backend);
    m.observe(attempt_seconds, {{"service", service}, {"backend", backend}}, t.seconds);
    m.add(attempts, {{"service", service}, {"backend", backend}, {"result", t.ok ? "ok" : "failed"}});
  }
}

void report_metrics(caf::actor_system& sys, const status_sources& sources,
                    std::shared_ptr<const frontend_state> state, http::responder reply) {
  auto s = std::make_shared<scrape>();
  s->src = sources;
  s->state = std::move(state);
  s->reply = std::move(reply);
  sys.spawn(gather, std::move(s));
}

}  // namespace sova::actors
