// Three node processes on 127.0.0.2-127.0.0.4 and two test backends, each announced by a
// different node. A stream of 200 ASR and TTS requests goes through all three nodes; one
// backend is killed in the middle of it; every request still succeeds.
#define CAF_SUITE integration_serving_network
#include "caf/test/unit_test.hpp"

#include <atomic>
#include <csignal>
#include <mutex>
#include <thread>

#include <nlohmann/json.hpp>

#include "serving_fixture.hpp"

using namespace sova;
using namespace sova::testing;
using namespace std::chrono_literals;
using nlohmann::json;

namespace {

std::string host(int i) { return "127.0.0." + std::to_string(i + 2); }

const std::string boundary = "a7f1c0de9b";

}  // namespace

CAF_TEST(killing_a_backend_mid_stream_costs_no_request) {
  auto dir = temp_dir();
  test_backend b1{"b1", dir, {"--delay-ms", "5"}};
  test_backend b2{"b2", dir, {"--delay-ms", "5"}};
  auto port = static_cast<std::uint16_t>(free_udp_port({host(0), host(1), host(2)}));
  std::vector<std::string> common{"--directory-refresh", "1",  "--attempt-timeout", "3",
                                  "--request-timeout",   "20", "--rpc-timeout",     "1"};
  auto args = [&](std::vector<std::string> more) {
    more.insert(more.end(), common.begin(), common.end());
    return more;
  };
  std::vector<std::unique_ptr<node_process>> nodes;
  nodes.push_back(std::make_unique<node_process>(
      host(0), port, dir + "/node0.log",
      args({"--services", "asr/cpu/" + b1.address() + ",tts/cpu/" + b1.address()})));
  std::string first = host(0) + ":" + std::to_string(port);
  nodes.push_back(std::make_unique<node_process>(
      host(1), port, dir + "/node1.log",
      args({"--neighbours", first, "--services",
            "asr/gpu/" + b2.address() + ",tts/gpu/" + b2.address()})));
  nodes.push_back(std::make_unique<node_process>(host(2), port, dir + "/node2.log",
                                                 args({"--neighbours", first})));
  for (auto& n : nodes) CAF_REQUIRE(knows_backends(*n, 2, 60s));

  constexpr int total = 200;
  constexpr int kill_after = 60;
  std::atomic<int> next{0}, done{0}, ok{0};
  std::mutex failures_mutex;
  std::vector<std::string> failures;
  std::atomic<bool> killed{false};
  auto worker = [&] {
    for (int i = next++; i < total; i = next++) {
      auto& n = *nodes[static_cast<std::size_t>(i % 3)];
      http::client_result r;
      bool tts = i % 2 == 0;
      if (tts)
        r = http_call(n.host, n.http_port, "POST", "/synthesize", "application/json",
                      json{{"text", "request " + std::to_string(i)}, {"voice", "Natasha"}}.dump());
      else
        r = http_call(n.host, n.http_port, "POST", "/asr",
                      "multipart/form-data; boundary=" + boundary,
                      audio_form(boundary, std::string(1000 + static_cast<std::size_t>(i), 'x'),
                                 "x.wav"));
      bool good = r.ok && r.response.status == 200;
      if (good) {
        auto j = json::parse(r.response.body, nullptr, false);
        good = !j.is_discarded() &&
               (tts ? j["response_code"] == 0
                    : j["r"][0]["response"][0]["text"].get<std::string>().find(
                          "heard " + std::to_string(1000 + i) + " bytes") != std::string::npos);
      }
      if (good) {
        ++ok;
      } else {
        std::lock_guard<std::mutex> lock(failures_mutex);
        failures.push_back("request " + std::to_string(i) + " via " + n.host + ": " +
                           (r.ok ? std::to_string(r.response.status) + " " + r.response.body
                                 : r.message));
      }
      if (++done == kill_after) {
        b1.proc->signal(SIGKILL);
        killed = true;
      }
    }
  };
  std::vector<std::thread> workers;
  for (int w = 0; w < 6; ++w) workers.emplace_back(worker);
  for (auto& t : workers) t.join();
  CAF_CHECK(killed.load());
  for (const auto& f : failures) CAF_MESSAGE("failed: " << f);
  CAF_CHECK_EQUAL(ok.load(), total);
  // The survivor did the work after the kill.
  auto stats = json::parse(http_call("127.0.0.1", b2.port, "GET", "/stats").response.body);
  CAF_CHECK_GREATER(stats["asr"].get<int>() + stats["tts"].get<int>(), total - kill_after - 10);
  for (auto& n : nodes) n->proc->signal(SIGTERM);
  for (auto& n : nodes) {
    auto status = n->proc->wait_for(15s);
    CAF_REQUIRE(status.has_value());
    CAF_CHECK_EQUAL(*status, 0);
  }
}

// The ownership model's first part: node A owns a backend and announces its own HTTP
// endpoint; node B knows only that record, sends its clients' requests to A (with its Via
// entry), and A serves them with its own backend, never forwarding them again.
CAF_TEST(a_node_reaches_another_nodes_backend_through_that_nodes_endpoint) {
  auto dir = temp_dir();
  test_backend b{"b", dir};
  auto port = static_cast<std::uint16_t>(free_udp_port({host(0), host(1)}));
  std::vector<std::string> common{"--directory-refresh", "1", "--rpc-timeout", "1"};
  auto with = [&](std::vector<std::string> more) {
    more.insert(more.end(), common.begin(), common.end());
    return more;
  };
  node_process a{host(0), port, dir + "/a.log",
                 with({"--services", "tts/cpu/" + b.address() + ",asr/cpu/" + b.address()})};
  node_process n{host(1), port, dir + "/b.log", with({"--neighbours", a.udp_address()})};
  CAF_REQUIRE(knows_backends(n, 1, 60s));
  auto a_endpoint = host(0) + ":" + std::to_string(a.http_port);
  // A says what it announces, and from where it took the address.
  auto announce = status_of(a)["announce"];
  CAF_MESSAGE("A announces " << announce.dump());
  CAF_CHECK_EQUAL(announce["mode"], "node");
  CAF_CHECK_EQUAL(announce["endpoint"], a_endpoint);
  CAF_CHECK_EQUAL(announce["records"].size(), 2u);

  auto body = json{{"text", "through the owner"}, {"voice", "Natasha"}}.dump();
  auto before = backend_stats(b)["tts"].get<int>();
  auto r = http_call(n.host, n.http_port, "POST", "/synthesize", "application/json", body);
  CAF_REQUIRE(r.ok);
  CAF_CHECK_EQUAL(r.response.status, 200);
  auto direct = http_call("127.0.0.1", b.port, "POST", "/synthesize/", "application/json", body);
  CAF_REQUIRE(direct.ok);
  CAF_CHECK_EQUAL(r.response.body, direct.response.body);  // byte for byte the backend's
  CAF_CHECK_EQUAL(backend_stats(b)["tts"].get<int>(), before + 2);  // B's once, then ours
  auto form = audio_form(boundary, std::string(1234, 'x'), "x.wav");
  auto asr = http_call(n.host, n.http_port, "POST", "/asr",
                       "multipart/form-data; boundary=" + boundary, form);
  CAF_REQUIRE(asr.ok);
  CAF_CHECK_EQUAL(asr.response.status, 200);
  CAF_CHECK_NOT_EQUAL(asr.response.body.find("heard 1234 bytes"), std::string::npos);

  // In B's directory the record is A's HTTP endpoint, not the backend's address.
  auto tts = status_of(n)["services"]["tts"];
  CAF_MESSAGE("B's tts backends: " << tts.dump());
  CAF_REQUIRE_EQUAL(tts.size(), 1u);
  CAF_CHECK_EQUAL(tts[0]["backend"], "tts/cpu/" + a_endpoint);
  CAF_CHECK_EQUAL(tts[0]["served"], 1);

  // A request that another node forwarded is served by own backends only: B owns none.
  auto hop = http_call(n.host, n.http_port, "POST", "/synthesize", "application/json", body, 30s,
                       {{"Via", "1.1 sova-dc-0123456789abcdef"}});
  CAF_REQUIRE(hop.ok);
  CAF_CHECK_EQUAL(hop.response.status, 503);
  CAF_CHECK_EQUAL(error_code_of(hop), "not_owner");
  // The same to A is served by its backend.
  auto owned = http_call(a.host, a.http_port, "POST", "/synthesize", "application/json", body,
                         30s, {{"Via", "1.1 sova-dc-0123456789abcdef"}});
  CAF_REQUIRE(owned.ok);
  CAF_CHECK_EQUAL(owned.response.status, 200);
  CAF_CHECK_EQUAL(owned.response.body, direct.response.body);
}
