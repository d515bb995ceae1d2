// The admin console's `services` and `stats` results rendered from a node view: exact
// JSON for a full view (own backends with their owner's queue), filtering by service, and
// which missing part fails each command.
#define CAF_SUITE console_view
#include "caf/test/unit_test.hpp"

#include "sample_node_view.hpp"
#include "views/console_json.hpp"

using namespace sova;

CAF_TEST(services_shows_known_and_own_backends_of_the_wanted_services) {
  auto v = test::sample_node_view();
  auto all = views::services_json(v, {net::service::asr, net::service::tts}).dump();
  const std::string expected =
      R"({"asr":[],"tts":[{"backend":"tts/cpu/10.0.0.5:8899","kind":"cpu","address":"10.0.0.5:8899",)"
      R"("breaker":"open","in_flight":1,"latency_ms":250.0,"served":9,"failed":3,"refused":0,"busy":1,)"
      R"("peer":"node"},)"
      R"({"backend":"tts/gpu/10.0.0.6:8899","kind":"gpu","address":"10.0.0.6:8899","breaker":"untried",)"
      R"("in_flight":0,"latency_ms":0.0,"served":0,"failed":0,"refused":0,"busy":0,"peer":"unknown"}],)"
      R"("own":[{"backend":"asr/cpu/10.0.0.7:8888","alive":true,"last_error":"","announcements":6,)"
      R"("capacity":2,"running":2,"queued":3,"wait_s":0.5,"service_s":0.25,"up":true,"served":8,)"
      R"("failed":1}]})";
  CAF_CHECK_EQUAL(all, expected);
  auto tts = views::services_json(v, {net::service::tts});
  CAF_CHECK(!tts.contains("asr"));
  CAF_CHECK_EQUAL(tts["tts"].size(), 2u);
  CAF_CHECK(tts["own"].empty());  // the own backend serves asr, its queue included
}

CAF_TEST(stats_counts_the_node_traffic) {
  auto text = views::stats_json(test::sample_node_view(), 12.5).dump();
  const std::string expected =
      R"({"uptime_s":12.5,"dht":{"datagrams_in":11,"datagrams_out":0,"requests_in":0,"replies_in":0,)"
      R"("dropped_malformed":0,"dropped_unsolicited":0,"calls_sent":5,"calls_timed_out":0,)"
      R"("stores_accepted":0,"stores_refused":0,"record_keys":0,"record_values":0,)"
      R"("dropped_rate_limited":0,"dropped_backlog":2,"replies_deferred":0,"replies_withheld":0,)"
      R"("handovers":0,"handovers_skipped":0},)"
      R"("directory":{"requests":4,"answered_from_cache":0,"lookups_started":2,"lookups_failed":0,)"
      R"("values_ignored":0,"keys_cached":2},)"
      R"("backends":{"forwarders":1,"breakers_not_closed":1,"in_flight":1,"served":9,"failed":3,"refused":0},)"
      R"("http":{"requests":20,"in_flight":2,"rejected":3,"refused_draining":1}})";
  CAF_CHECK_EQUAL(text, expected);
  auto v = test::sample_node_view();
  v.http.reset();  // a node without an HTTP side
  auto http = views::stats_json(v, 0)["http"];
  CAF_CHECK(http.is_object() && http.empty());
}

CAF_TEST(each_command_fails_on_a_part_it_needs) {
  auto v = test::sample_node_view();
  CAF_CHECK(views::services_part_missing(v) == nullptr);
  CAF_CHECK(views::stats_part_missing(v) == nullptr);
  v.unavailable = {{views::node_part::routing_table, "timeout"},
                   {views::node_part::transport, "timeout"}};
  CAF_CHECK(views::services_part_missing(v) == nullptr);  // needs neither
  const auto* m = views::stats_part_missing(v);
  CAF_REQUIRE(m != nullptr);
  CAF_CHECK(m->part == views::node_part::transport);
  v.unavailable = {{views::node_part::announcer, "exited"}};
  m = views::services_part_missing(v);
  CAF_REQUIRE(m != nullptr);
  CAF_CHECK_EQUAL(m->reason, "exited");
  // `services` shows the owner's queue: without it the command fails; `stats` does not care.
  v.unavailable = {{views::node_part::owner, "timeout"}};
  m = views::services_part_missing(v);
  CAF_REQUIRE(m != nullptr);
  CAF_CHECK(m->part == views::node_part::owner);
  CAF_CHECK(views::stats_part_missing(v) == nullptr);
}
