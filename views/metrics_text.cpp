#include "views/metrics_text.hpp"

#include <cstdint>
#include <initializer_list>
#include <utility>

#include "http/metrics.hpp"

namespace sova::views {

namespace {

using http::metric_labels;
using http::metric_type;

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

/// A counter family with one sample per value of one label.
void counter_by(http::exposition_writer& w, const char* name, const char* help, const char* label,
                std::initializer_list<std::pair<const char*, std::uint64_t>> samples) {
  w.family(name, metric_type::counter, help);
  for (const auto& [value, n] : samples) w.sample(name, {{label, value}}, double(n));
}

void write_transport(http::exposition_writer& w, const actors::transport_stats& t) {
  counter(w, "sova_dc_dht_datagrams_received_total", "UDP datagrams received by the DHT",
          double(t.datagrams_in));
  counter(w, "sova_dc_dht_datagrams_sent_total", "UDP datagrams sent by the DHT",
          double(t.datagrams_out));
  counter_by(w, "sova_dc_dht_datagrams_dropped_total",
             "Datagrams dropped: malformed, a reply to no call of ours (or too late), a request "
             "over its address's rate, or the transport too far behind",
             "reason",
             {{"malformed", t.dropped_malformed},
              {"unsolicited", t.dropped_unsolicited},
              {"rate_limited", t.dropped_rate_limited},
              {"backlog", t.dropped_backlog}});
  counter_by(w, "sova_dc_dht_large_replies_total",
             "Replies over the reflection bound to an address that had not answered us: "
             "deferred until it answered our ping, or withheld when it did not",
             "result", {{"deferred", t.replies_deferred}, {"withheld", t.replies_withheld}});
  counter_by(w, "sova_dc_dht_handovers_total",
             "Newly seen contacts handed the keys they are now closest to, or skipped over the rate",
             "result", {{"done", t.handovers}, {"skipped", t.handovers_skipped}});
  counter(w, "sova_dc_dht_rpcs_sent_total", "DHT calls this node made (ping, store, find_*)",
          double(t.calls_sent));
  counter(w, "sova_dc_dht_rpc_replies_received_total", "Replies to this node's DHT calls",
          double(t.replies_in));
  counter(w, "sova_dc_dht_rpc_timeouts_total", "DHT calls of this node that got no reply in time",
          double(t.calls_timed_out));
  counter(w, "sova_dc_dht_rpcs_received_total", "DHT calls other nodes made to this one",
          double(t.requests_in));
  counter_by(w, "sova_dc_dht_stores_total", "Store calls received, by whether the record was kept",
             "result", {{"accepted", t.stores_accepted}, {"refused", t.stores_refused}});
  gauge(w, "sova_dc_dht_stored_keys", "Keys in this node's record store", double(t.records_keys));
  gauge(w, "sova_dc_dht_stored_values", "Values in this node's record store",
        double(t.records_values));
}

void write_directory(http::exposition_writer& w, const actors::directory_stats& d) {
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

void write_backends(http::exposition_writer& w, const serving::backend_readings& hs) {
  per_backend(w, "sova_dc_backend_in_flight", metric_type::gauge,
              "Requests this node has in flight on each backend", hs,
              [](const serving::backend_reading& h) { return double(h.in_flight); });
  per_backend(w, "sova_dc_backend_latency_ewma_seconds", metric_type::gauge,
              "Moving average of each backend's served attempts (0 before the first)", hs,
              [](const serving::backend_reading& h) { return h.latency_ms / 1000; });
  per_backend(w, "sova_dc_backend_breaker_open", metric_type::gauge,
              "1 while a backend's circuit breaker keeps requests away from it", hs,
              [](const serving::backend_reading& h) {
                return h.breaker == serving::breaker_state::open ? 1.0 : 0.0;
              });
}

void write_own(http::exposition_writer& w, const actors::own_services& own) {
  per_backend(w, "sova_dc_own_backend_up", metric_type::gauge,
              "1 while this node's own backend answers its probes (and is announced)", own,
              [](const actors::own_service& o) { return o.alive ? 1.0 : 0.0; });
  per_backend(w, "sova_dc_own_backend_announcements_total", metric_type::counter,
              "Announcements of this node's own backend that stored the record somewhere", own,
              [](const actors::own_service& o) { return double(o.announcements); });
}

/// The owner's queue per own backend (--announce node): what a job offered now would meet.
void write_owned(http::exposition_writer& w, const actors::owned_backend_states& queue) {
  using state = actors::owned_backend_state;
  per_backend(w, "sova_dc_owned_backend_capacity", metric_type::gauge,
              "Jobs this node's own backend may run at once (--services host:port*N)", queue,
              [](const state& q) { return double(q.capacity); });
  per_backend(w, "sova_dc_owned_backend_running", metric_type::gauge,
              "Jobs running on this node's own backend, reservations held for it included",
              queue, [](const state& q) { return double(q.running); });
  per_backend(w, "sova_dc_owned_backend_queued", metric_type::gauge,
              "Jobs waiting in the owner's queue that this own backend could serve", queue,
              [](const state& q) { return double(q.queued); });
  per_backend(w, "sova_dc_owned_backend_wait_seconds", metric_type::gauge,
              "How long a job for this own backend, offered now, would wait (0: a slot is free)",
              queue, [](const state& q) { return q.wait_s; });
  per_backend(w, "sova_dc_owned_backend_service_seconds", metric_type::gauge,
              "Moving average of this own backend's service times", queue,
              [](const state& q) { return q.service_s; });
  per_backend(w, "sova_dc_owned_backend_up", metric_type::gauge,
              "1 while the owner hands this own backend jobs (0: down, it gets probes only)",
              queue, [](const state& q) { return q.up ? 1.0 : 0.0; });
  per_backend(w, "sova_dc_owned_backend_served_total", metric_type::counter,
              "Jobs the owner ran on this own backend that it answered with a reply", queue,
              [](const state& q) { return double(q.served); });
  per_backend(w, "sova_dc_owned_backend_failed_total", metric_type::counter,
              "Jobs the owner ran on this own backend that failed (timeouts included)", queue,
              [](const state& q) { return double(q.failed); });
}

}  // namespace

std::string metrics_text(const node_view& v, std::string_view recorded) {
  http::exposition_writer w;
  w.family("sova_dc_build_info", metric_type::gauge, "Version and id of this node (always 1)");
  w.sample("sova_dc_build_info", {{"version", v.version}, {"node_id", v.node_id}}, 1);
  std::string text = w.take();
  text += recorded;
  auto counters = v.http.value_or(frontend_counters{});
  gauge(w, "sova_dc_requests_in_flight", "ASR and TTS requests being served now",
        double(counters.in_flight));
  gauge(w, "sova_dc_draining", "1 while the node refuses new work (drain or stop signal)",
        counters.draining ? 1 : 0);
  if (v.routing_table_size)
    gauge(w, "sova_dc_routing_table_contacts", "Contacts in the DHT routing table",
          double(*v.routing_table_size));
  if (v.transport) write_transport(w, *v.transport);
  if (v.directory) write_directory(w, v.directory->stats);
  if (v.readings) write_backends(w, *v.readings);
  if (v.own) write_own(w, *v.own);
  if (v.owned_queue) write_owned(w, *v.owned_queue);
  w.family("sova_dc_scrape_part_up", metric_type::gauge,
           "1 when that part of the node answered this scrape in time");
  for (auto part : {node_part::routing_table, node_part::transport, node_part::directory,
                    node_part::backend_pool, node_part::announcer, node_part::owner}) {
    if (part == node_part::announcer && !v.has_announcer) continue;
    if (part == node_part::owner && !v.has_owner) continue;
    w.sample("sova_dc_scrape_part_up", {{"part", to_string(part)}}, missing(v, part) ? 0 : 1);
  }
  return text + w.take();
}

}  // namespace sova::views
