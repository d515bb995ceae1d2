// /metrics' page rendered from a node view: it parses strictly, keeps the recorded
// families after sova_dc_build_info, carries every part's values, and leaves out a part
// that did not answer with sova_dc_scrape_part_up 0.
#define CAF_SUITE metrics_view
#include "caf/test/unit_test.hpp"

#include "http/metrics.hpp"
#include "prometheus_text.hpp"
#include "sample_node_view.hpp"
#include "views/metrics_text.hpp"

using namespace sova;
using test::parse_prometheus;

namespace {

std::string recorded() {
  http::metrics_registry m;
  m.declare("sova_dc_http_requests_total", http::metric_type::counter, "HTTP requests");
  m.add("sova_dc_http_requests_total", {{"route", "tts"}, {"code", "200"}}, 3);
  return m.render();
}

}  // namespace

CAF_TEST(a_full_view_gives_every_family) {
  auto text = views::metrics_text(test::sample_node_view(), recorded());
  auto build = text.find("sova_dc_build_info{");
  auto http = text.find("sova_dc_http_requests_total{");
  auto in_flight = text.find("sova_dc_requests_in_flight ");
  CAF_CHECK(build < http && http < in_flight && in_flight != std::string::npos);
  auto doc = parse_prometheus(text);
  auto id = std::string(40, 'a');
  CAF_CHECK_EQUAL(doc.sum("sova_dc_build_info", {{"version", "1.2.3"}, {"node_id", id}}), 1.0);
  CAF_CHECK_EQUAL(doc.sum("sova_dc_http_requests_total"), 3.0);
  CAF_CHECK_EQUAL(doc.sum("sova_dc_requests_in_flight"), 2.0);
  CAF_CHECK_EQUAL(doc.sum("sova_dc_draining"), 0.0);
  CAF_CHECK_EQUAL(doc.sum("sova_dc_routing_table_contacts"), 7.0);
  CAF_CHECK_EQUAL(doc.sum("sova_dc_dht_datagrams_received_total"), 11.0);
  CAF_CHECK_EQUAL(doc.sum("sova_dc_dht_datagrams_dropped_total", {{"reason", "backlog"}}), 2.0);
  CAF_CHECK_EQUAL(doc.sum("sova_dc_directory_requests_total"), 4.0);
  CAF_CHECK_EQUAL(doc.sum("sova_dc_directory_cached_services"), 2.0);
  auto tts = std::map<std::string, std::string>{{"backend", "tts/cpu/10.0.0.5:8899"}};
  CAF_CHECK_EQUAL(doc.sum("sova_dc_backend_breaker_open", tts), 1.0);
  CAF_CHECK_EQUAL(doc.sum("sova_dc_backend_latency_ewma_seconds", tts), 0.25);
  auto own = std::map<std::string, std::string>{{"backend", "asr/cpu/10.0.0.7:8888"}};
  CAF_CHECK_EQUAL(doc.sum("sova_dc_own_backend_up", own), 1.0);
  CAF_CHECK_EQUAL(doc.sum("sova_dc_own_backend_announcements_total", own), 6.0);
  CAF_CHECK_EQUAL(doc.sum("sova_dc_owned_backend_capacity", own), 2.0);
  CAF_CHECK_EQUAL(doc.sum("sova_dc_owned_backend_running", own), 2.0);
  CAF_CHECK_EQUAL(doc.sum("sova_dc_owned_backend_queued", own), 3.0);
  CAF_CHECK_EQUAL(doc.sum("sova_dc_owned_backend_wait_seconds", own), 0.5);
  CAF_CHECK_EQUAL(doc.sum("sova_dc_owned_backend_service_seconds", own), 0.25);
  CAF_CHECK_EQUAL(doc.sum("sova_dc_owned_backend_up", own), 1.0);
  CAF_CHECK_EQUAL(doc.sum("sova_dc_owned_backend_served_total", own), 8.0);
  CAF_CHECK_EQUAL(doc.sum("sova_dc_owned_backend_failed_total", own), 1.0);
  CAF_CHECK_EQUAL(doc.types.at("sova_dc_owned_backend_queued"), "gauge");
  CAF_CHECK_EQUAL(doc.types.at("sova_dc_owned_backend_served_total"), "counter");
  for (const auto* part :
       {"routing_table", "transport", "directory", "backend_pool", "announcer", "owner"})
    CAF_CHECK_EQUAL(doc.sum("sova_dc_scrape_part_up", {{"part", part}}), 1.0);
}

CAF_TEST(an_owner_that_did_not_answer_is_left_out_and_reported) {
  auto v = test::sample_node_view();
  v.owned_queue.reset();
  v.unavailable = {{views::node_part::owner, "timeout"}};
  auto doc = parse_prometheus(views::metrics_text(v, ""));
  CAF_CHECK_EQUAL(doc.types.count("sova_dc_owned_backend_capacity"), 0u);
  CAF_CHECK_EQUAL(doc.sum("sova_dc_scrape_part_up", {{"part", "owner"}}), 0.0);
  CAF_CHECK_EQUAL(doc.sum("sova_dc_own_backend_up"), 1.0);  // the announcer still answered
}

CAF_TEST(a_part_that_did_not_answer_is_left_out_and_reported) {
  auto v = test::sample_node_view();
  v.transport.reset();
  v.readings.reset();
  v.unavailable = {{views::node_part::transport, "timeout"},
                   {views::node_part::backend_pool, "timeout"}};
  auto doc = parse_prometheus(views::metrics_text(v, recorded()));
  CAF_CHECK(doc.find("sova_dc_dht_datagrams_received_total").empty());
  CAF_CHECK_EQUAL(doc.types.count("sova_dc_backend_in_flight"), 0u);
  CAF_CHECK_EQUAL(doc.sum("sova_dc_scrape_part_up", {{"part", "transport"}}), 0.0);
  CAF_CHECK_EQUAL(doc.sum("sova_dc_scrape_part_up", {{"part", "backend_pool"}}), 0.0);
  CAF_CHECK_EQUAL(doc.sum("sova_dc_scrape_part_up", {{"part", "directory"}}), 1.0);
}

CAF_TEST(a_node_without_own_backends_reports_no_announcer) {
  auto v = test::sample_node_view();
  v.has_announcer = false;
  v.has_owner = false;
  v.own.reset();
  v.owned_queue.reset();
  auto doc = parse_prometheus(views::metrics_text(v, ""));
  CAF_CHECK(doc.find("sova_dc_scrape_part_up", {{"part", "announcer"}}).empty());
  CAF_CHECK(doc.find("sova_dc_scrape_part_up", {{"part", "owner"}}).empty());
  CAF_CHECK_EQUAL(doc.types.count("sova_dc_own_backend_up"), 0u);
  CAF_CHECK_EQUAL(doc.types.count("sova_dc_owned_backend_up"), 0u);
}
