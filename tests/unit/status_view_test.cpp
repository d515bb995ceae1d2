// GET /status's document rendered from a node view: the exact text of a full view, the
// "untried" entry of a backend no request has reached, each own backend once with its
// owner's queue, and a view whose parts did not all answer (listed as unavailable, their
// members left out or empty).
#define CAF_SUITE status_view
#include "caf/test/unit_test.hpp"

#include <nlohmann/json.hpp>

#include "sample_node_view.hpp"
#include "views/status_json.hpp"

using namespace sova;
using json = nlohmann::ordered_json;

CAF_TEST(a_full_view_renders_the_document_as_before) {
  auto text = views::status_document(test::sample_node_view());
  const std::string expected = R"({
  "node_id": "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
  "version": "1.2.3",
  "udp": "10.0.0.2:5678",
  "http": "10.0.0.2:5600",
  "routing_table_size": 7,
  "nodes": [
    {
      "id": "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb",
      "udp": "10.0.0.3:5678"
    },
    {
      "id": "cccccccccccccccccccccccccccccccccccccccc",
      "udp": "10.0.0.4:5679"
    }
  ],
  "own_services": [
    {
      "backend": "asr/cpu/10.0.0.7:8888",
      "alive": true,
      "last_error": "",
      "announcements": 6,
      "capacity": 2,
      "running": 2,
      "queued": 3,
      "wait_s": 0.5,
      "service_s": 0.25,
      "up": true,
      "served": 8,
      "failed": 1
    }
  ],
  "services": {
    "asr": [],
    "tts": [
      {
        "backend": "tts/cpu/10.0.0.5:8899",
        "kind": "cpu",
        "address": "10.0.0.5:8899",
        "breaker": "open",
        "in_flight": 1,
        "latency_ms": 250.0,
        "served": 9,
        "failed": 3,
        "refused": 0,
        "busy": 1,
        "peer": "node"
      },
      {
        "backend": "tts/gpu/10.0.0.6:8899",
        "kind": "gpu",
        "address": "10.0.0.6:8899",
        "breaker": "untried",
        "in_flight": 0,
        "latency_ms": 0.0,
        "served": 0,
        "failed": 0,
        "refused": 0,
        "busy": 0,
        "peer": "unknown"
      }
    ]
  },
  "requests_in_flight": 2,
  "requests_total": 20,
  "draining": false
}
)";
  CAF_CHECK_EQUAL(text, expected);
}

CAF_TEST(parts_that_did_not_answer_are_listed_and_left_out) {
  auto v = test::sample_node_view();
  v.routing_table_size.reset();
  v.known_nodes.reset();
  v.directory.reset();
  v.own.reset();
  v.owned_queue.reset();
  v.transport.reset();
  v.unavailable = {{views::node_part::routing_table, "timeout"},
                   {views::node_part::transport, "timeout"},
                   {views::node_part::directory, "timeout"},
                   {views::node_part::announcer, "timeout"},
                   {views::node_part::owner, "timeout"}};
  auto doc = json::parse(views::status_document(v));
  CAF_CHECK(!doc.contains("routing_table_size"));
  CAF_CHECK(!doc.contains("nodes"));  // unknown, which differs from an empty table
  CAF_CHECK(!doc.contains("own_services"));  // neither the announcer nor the owner said
  auto unavailable = doc["unavailable"].get<actors::strings>();
  // /status does not show the transport: it is not named.
  auto expected = actors::strings{"routing_table", "directory", "announcer", "owner"};
  CAF_CHECK_EQUAL(unavailable, expected);
  CAF_CHECK(doc["services"]["tts"].empty());  // no directory, no known backends
  CAF_CHECK_EQUAL(doc["requests_total"].get<int>(), 20);
}

CAF_TEST(an_empty_routing_table_lists_no_nodes) {
  auto v = test::sample_node_view();
  v.routing_table_size = 0;
  v.known_nodes = actors::contacts{};
  auto doc = json::parse(views::status_document(v));
  CAF_CHECK(doc["nodes"].is_array());
  CAF_CHECK(doc["nodes"].empty());
}

CAF_TEST(a_node_without_own_backends_shows_an_empty_list) {
  auto v = test::sample_node_view();
  v.has_announcer = false;
  v.has_owner = false;
  v.own.reset();
  v.owned_queue.reset();
  auto doc = json::parse(views::status_document(v));
  CAF_CHECK(doc["own_services"].is_array());
  CAF_CHECK(doc["own_services"].empty());
  CAF_CHECK(!doc.contains("unavailable"));
}

CAF_TEST(the_announced_endpoint_or_why_none_is_shown) {
  auto v = test::sample_node_view();
  actors::announce_view a;
  a.mode = "node";
  a.endpoint = "10.0.0.2:5600";
  a.source = "stun";
  a.records = {"asr/cpu/10.0.0.2:5600"};
  v.announce = a;
  auto doc = json::parse(views::status_document(v));
  CAF_CHECK_EQUAL(doc["announce"],
                  json::parse(R"({"mode": "node", "endpoint": "10.0.0.2:5600", "source": "stun",
                                  "records": ["asr/cpu/10.0.0.2:5600"]})"));
  a.endpoint.clear();
  a.source.clear();
  a.records.clear();
  a.why_none = "--bind 0.0.0.0 is an unspecified address";
  v.announce = a;
  doc = json::parse(views::status_document(v));
  CAF_CHECK(doc["announce"]["endpoint"].is_null());
  CAF_CHECK_EQUAL(doc["announce"]["why_none"], "--bind 0.0.0.0 is an unspecified address");
  v.announce.reset();
  v.has_announcer = false;
  doc = json::parse(views::status_document(v));
  CAF_CHECK(doc["announce"]["endpoint"].is_null());
  CAF_CHECK(doc["announce"]["records"].empty());
}

CAF_TEST(each_own_backend_is_listed_once_with_what_answered_about_it) {
  auto v = test::sample_node_view();
  // A second own backend the owner knows (the announcer's list is the same --services).
  actors::own_service tts;
  tts.backend = test::record("tts/gpu/10.0.0.7:8899");
  tts.last_error = "connection refused";
  v.own->push_back(tts);
  actors::owned_backend_state q;
  q.backend = tts.backend;
  q.up = false;
  q.failed = 4;
  v.owned_queue->insert(v.owned_queue->begin(), q);  // in another order than the announcer's
  auto own = json::parse(views::status_document(v))["own_services"];
  CAF_REQUIRE_EQUAL(own.size(), 2u);
  CAF_CHECK_EQUAL(own[0]["backend"], "asr/cpu/10.0.0.7:8888");
  CAF_CHECK_EQUAL(own[0]["capacity"], 2);
  CAF_CHECK_EQUAL(own[0]["queued"], 3);
  CAF_CHECK_EQUAL(own[1]["backend"], "tts/gpu/10.0.0.7:8899");
  CAF_CHECK_EQUAL(own[1]["last_error"], "connection refused");
  CAF_CHECK_EQUAL(own[1]["capacity"], 1);
  CAF_CHECK_EQUAL(own[1]["up"], false);
  CAF_CHECK_EQUAL(own[1]["failed"], 4);
  // The owner did not answer: the announcer's facts alone, the owner named as unavailable.
  auto no_owner = v;
  no_owner.owned_queue.reset();
  no_owner.unavailable = {{views::node_part::owner, "timeout"}};
  auto doc = json::parse(views::status_document(no_owner));
  CAF_CHECK_EQUAL(doc["unavailable"].get<actors::strings>(), actors::strings{"owner"});
  CAF_REQUIRE_EQUAL(doc["own_services"].size(), 2u);
  CAF_CHECK_EQUAL(doc["own_services"][0]["alive"], true);
  CAF_CHECK(!doc["own_services"][0].contains("capacity"));
  // The announcer did not answer: the owner's facts alone, in the owner's order.
  auto no_announcer = v;
  no_announcer.own.reset();
  no_announcer.unavailable = {{views::node_part::announcer, "timeout"}};
  own = json::parse(views::status_document(no_announcer))["own_services"];
  CAF_REQUIRE_EQUAL(own.size(), 2u);
  CAF_CHECK_EQUAL(own[0]["backend"], "tts/gpu/10.0.0.7:8899");
  CAF_CHECK(!own[0].contains("alive"));
  CAF_CHECK_EQUAL(own[1]["running"], 2);
  CAF_CHECK_EQUAL(own[1]["wait_s"], 0.5);
}

CAF_TEST(a_node_announcing_its_backends_has_no_queue_to_show) {
  // --announce backends: no owner, so own backends carry the announcer's facts only and
  // no part named owner is missing.
  auto v = test::sample_node_view();
  v.has_owner = false;
  v.owned_queue.reset();
  auto doc = json::parse(views::status_document(v));
  CAF_REQUIRE_EQUAL(doc["own_services"].size(), 1u);
  CAF_CHECK(!doc["own_services"][0].contains("capacity"));
  CAF_CHECK(!doc.contains("unavailable"));
}
