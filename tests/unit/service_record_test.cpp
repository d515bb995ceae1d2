// Service records and the --services syntax: strict parsing, keys, capacities, loopback detection.
#define CAF_SUITE service_record
#include "caf/test/unit_test.hpp"

#include "net/owned_backend.hpp"
#include "net/service_record.hpp"

using namespace sova::net;

CAF_TEST(the_original_syntax_parses_and_prints_back) {
  auto r = parse_service_record("asr/cpu/192.0.2.1:8888");
  CAF_REQUIRE(r);
  CAF_CHECK_EQUAL(r->service, sova::net::service::asr);
  CAF_CHECK_EQUAL(r->kind, sova::net::kind::cpu);
  CAF_CHECK_EQUAL(r->host, "192.0.2.1");
  CAF_CHECK_EQUAL(r->port, 8888);
  CAF_CHECK_EQUAL(r->to_string(), "asr/cpu/192.0.2.1:8888");
  CAF_CHECK_EQUAL(r->key().to_hex(), "5379f5b6162bda705452a971253bcbe8ffda460a");
  auto t = parse_service_record("tts/gpu/tts-backend:8899");
  CAF_REQUIRE(t);
  CAF_CHECK_EQUAL(t->key().to_hex(), "b3ec140dfdf0758d0c8c35d547ebf10304e72121");
  auto v6 = parse_service_record("tts/cpu/[2001:db8::1]:8899");
  CAF_REQUIRE(v6);
  CAF_CHECK_EQUAL(v6->host, "2001:db8::1");
  CAF_CHECK_EQUAL(v6->to_string(), "tts/cpu/[2001:db8::1]:8899");
}

CAF_TEST(bad_entries_are_refused_with_a_reason_naming_them) {
  struct bad_case {
    const char* text;
    const char* reason;
  };
  for (auto c : {bad_case{"asr", "expected <asr|tts>/<cpu|gpu>/<host>:<port>"},
                 bad_case{"asr/cpu", "expected <asr|tts>/<cpu|gpu>/<host>:<port>"},
                 bad_case{"stt/cpu/h:1", "service must be asr or tts"},
                 bad_case{"ASR/cpu/h:1", "service must be asr or tts"},
                 bad_case{"asr/tpu/h:1", "backend must be cpu or gpu"},
                 bad_case{"asr/cpu/h", "port 1-65535"},
                 bad_case{"asr/cpu/h:0", "port 1-65535"},
                 bad_case{"asr/cpu/h:65536", "port 1-65535"},
                 bad_case{"asr/cpu/:80", "port 1-65535"},
                 bad_case{"asr/cpu/a/b:80", "a host name cannot have"},
                 bad_case{"asr/cpu/a b:80", "a host name cannot have"}}) {
    std::string err;
    CAF_CHECK(!parse_service_record(c.text, &err));
    CAF_CHECK(err.find(std::string("'") + c.text + "'") != std::string::npos);
    CAF_CHECK(err.find(c.reason) != std::string::npos);
  }
}

CAF_TEST(a_services_list_is_all_or_nothing) {
  auto two = parse_owned_backends("asr/cpu/h1:8888,tts/gpu/h2:8899");
  CAF_REQUIRE(two);
  CAF_REQUIRE_EQUAL(two->size(), 2u);
  CAF_CHECK_EQUAL((*two)[1].record.to_string(), "tts/gpu/h2:8899");
  std::string err;
  CAF_CHECK(!parse_owned_backends("asr/cpu/h1:8888,tts/xpu/h2:8899", &err));
  CAF_CHECK(err.find("'tts/xpu/h2:8899'") != std::string::npos);
  CAF_CHECK(!parse_owned_backends("asr/cpu/h1:8888,", &err));
  CAF_CHECK(err.find("empty entry") != std::string::npos);
  CAF_CHECK(!parse_owned_backends(",asr/cpu/h1:8888", &err));
  auto none = parse_owned_backends("");
  CAF_REQUIRE(none);
  CAF_CHECK(none->empty());
}

CAF_TEST(a_capacity_follows_a_star_and_is_one_without) {
  auto list = parse_owned_backends("asr/cpu/127.0.0.1:8888*4,tts/gpu/[::1]:8899,asr/gpu/h:1*64,"
                                   "tts/cpu/h:2*1");
  CAF_REQUIRE(list);
  CAF_REQUIRE_EQUAL(list->size(), 4u);
  CAF_CHECK_EQUAL((*list)[0].capacity, 4u);
  CAF_CHECK_EQUAL((*list)[0].record.host, "127.0.0.1");
  CAF_CHECK_EQUAL((*list)[0].record.port, 8888);
  CAF_CHECK_EQUAL((*list)[1].capacity, 1u);
  CAF_CHECK_EQUAL((*list)[1].record.host, "::1");
  CAF_CHECK_EQUAL((*list)[2].capacity, 64u);
  CAF_CHECK_EQUAL((*list)[3].capacity, 1u);
  CAF_CHECK_EQUAL((*list)[0].to_string(), "asr/cpu/127.0.0.1:8888*4");
  CAF_CHECK_EQUAL((*list)[3].to_string(), "tts/cpu/h:2*1");
  CAF_CHECK_EQUAL((*list)[1].to_string(), "tts/gpu/[::1]:8899");
  // Written or not: without '*' a reference backend may tell its workers (GET /status).
  CAF_CHECK((*list)[0].capacity_given && (*list)[3].capacity_given);
  CAF_CHECK(!(*list)[1].capacity_given);
  // The capacity is the owner's alone: what the DHT gets is the record, unchanged.
  CAF_CHECK_EQUAL((*list)[0].record.to_string(), "asr/cpu/127.0.0.1:8888");
  CAF_CHECK_EQUAL((*list)[0].record.key(), parse_service_record("asr/cpu/127.0.0.1:8888")->key());
  auto records = records_of(*list);
  CAF_REQUIRE_EQUAL(records.size(), 4u);
  CAF_CHECK_EQUAL(records[1].to_string(), "tts/gpu/[::1]:8899");
}

CAF_TEST(a_bad_capacity_is_refused_naming_the_entry) {
  for (auto text : {"asr/cpu/h:1*0", "asr/cpu/h:1*65", "asr/cpu/h:1*", "asr/cpu/h:1*x",
                    "asr/cpu/h:1*4x", "asr/cpu/h:1*-1", "asr/cpu/h:1* 4",
                    "asr/cpu/h:1*99999999999"}) {
    std::string err;
    CAF_CHECK(!parse_owned_backend(text, &err));
    CAF_CHECK(err.find(std::string("'") + text + "'") != std::string::npos);
    CAF_CHECK(err.find("capacity after '*' must be a number 1-64") != std::string::npos);
  }
  std::string err;
  CAF_CHECK(!parse_owned_backends("asr/cpu/h1:8888*2,tts/cpu/h2:8899*100", &err));
  CAF_CHECK(err.find("'tts/cpu/h2:8899*100'") != std::string::npos);
  // A bad record is named with its capacity, as written.
  CAF_CHECK(!parse_owned_backend("asr/tpu/h:1*2", &err));
  CAF_CHECK(err.find("'asr/tpu/h:1*2': backend must be cpu or gpu") != std::string::npos);
  CAF_CHECK(!parse_owned_backend("asr/cpu/h*2", &err));
  CAF_CHECK(err.find("'asr/cpu/h*2'") != std::string::npos);
  CAF_CHECK(!parse_owned_backend("asr/cpu/a*b:80*2", &err));
  CAF_CHECK(err.find("a host name cannot have") != std::string::npos);
}

CAF_TEST(loopback_hosts_are_recognised) {
  for (auto text : {"asr/cpu/localhost:1", "asr/cpu/127.0.0.1:1", "asr/cpu/127.3.2.1:1",
                    "asr/cpu/[::1]:1"})
    CAF_CHECK(parse_service_record(text)->is_loopback());
  for (auto text : {"asr/cpu/192.0.2.1:1", "asr/cpu/localhostname:1", "asr/cpu/128.0.0.1:1",
                    "asr/cpu/asr.example:1"})
    CAF_CHECK(!parse_service_record(text)->is_loopback());
}
