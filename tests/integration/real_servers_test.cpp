// A `sova-dc node` in front of test backends that act like the real SOVA servers (one
// synchronous worker, Flask's answers: 500 HTML without voice, ASR JSON as text/html, 404
// for the other service's paths). Each of the ways a real deployment got hurt, shown fixed:
// voiceless requests no longer switch TTS backends off, requests every backend refuses
// move no breaker (while a backend that fails everything still opens its own), probes
// never make a backend fail, a backend at the wrong port is neither announced nor
// relayed, and a one-worker backend busy with long requests stays announced. Records a
// hostile peer announces cannot turn the node on itself or on this host's services.
#define CAF_SUITE integration_real_servers
#include "caf/test/unit_test.hpp"

#include <future>
#include <thread>

#include <nlohmann/json.hpp>

#include "serving_fixture.hpp"

using namespace sova;
using namespace sova::testing;
using namespace std::chrono_literals;
using nlohmann::json;

namespace {

const std::string node_host = "127.0.0.2";
const std::string tts_body = R"({"text": "hello", "voice": "Natasha"})";

void control(const test_backend& b, const json& what) {
  CAF_REQUIRE(control_backend(b, what.dump()));
}


/// The reply's response_code (-1 when there is none). By value: CAF's check macros keep
/// references to their arguments past the full expression.
int response_code(const http::client_result& r) {
  auto j = json::parse(r.response.body, nullptr, false);
  return j.is_object() ? j.value("response_code", -1) : -1;
}

/// j[key] by value, for the same reason.
json field(const json& j, const std::string& key) { return j.is_object() && j.contains(key) ? j.at(key) : json(); }

std::uint16_t free_port() { return static_cast<std::uint16_t>(free_udp_port({node_host})); }

std::vector<std::string> node_args(const std::string& services, std::vector<std::string> extra = {}) {
  std::vector<std::string> args{"--services", services, "--directory-refresh", "1"};
  args.insert(args.end(), extra.begin(), extra.end());
  return args;
}

http::client_result synthesize(const node_process& n, const std::string& body = tts_body) {
  return http_call(n.host, n.http_port, "POST", "/synthesize", "application/json", body);
}

/// The node's view of the tts backend `name` in /status (empty when unknown).
json tts_backend(const node_process& n, const std::string& name) {
  auto s = status_of(n);
  if (s.contains("services") && s["services"].contains("tts"))
    for (const auto& b : s["services"]["tts"])
      if (b["backend"] == name) return b;
  return json::object();
}

/// The node's own backend `name` in /status (empty when not one).
json own(const node_process& n, const std::string& name) {
  auto status = status_of(n);
  for (const auto& o : status.value("own_services", json::array()))
    if (o["backend"] == name) return o;
  return json::object();
}

/// The network offers `count` tts backends, seen from `n` (its /status shows only what
/// requests made it look up), and the node's next request will find them: a directory
/// that answered "none" looks again only once that answer is 2 s old.
bool known_tts(const node_process& n, std::size_t count) {
  if (!eventually([&] { return offered_backends(n, "tts") >= count; }, 30s)) return false;
  std::this_thread::sleep_for(2100ms);
  return true;
}

/// Two TTS-only backends and a node that owns both.
struct two_tts {
  std::string dir = temp_dir();
  test_backend t1;
  test_backend t2;
  node_process n;
  two_tts(const std::string& name1, const std::string& name2)
      : t1(name1, dir, {"--only", "tts"}),
        t2(name2, dir, {"--only", "tts"}),
        n(node_host, free_port(), dir + "/node.log",
          node_args("tts/cpu/" + t1.address() + ",tts/cpu/" + t2.address())) {
    // One record: the node's endpoint stands for both of its backends.
    CAF_REQUIRE(known_tts(n, 1));
  }
};

/// Stores `value` under `key` in the network through the node's DHT port, as an original
/// node that announces whatever its --services say would.
void dht_put(const node_process& n, const std::string& key, const std::string& value) {
  auto r = run({SOVA_DC_BINARY, "dht", "put", key, value, "--bind", "127.0.0.9", "--neighbours",
                n.udp_address(), "--log-level", "warn"},
               30s);
  CAF_REQUIRE_EQUAL(r.status, 0);
}

}  // namespace

CAF_TEST(requests_without_voice_never_reach_a_backend_nor_switch_it_off) {
  two_tts net{"t1", "t2"};
  auto &t1 = net.t1, &t2 = net.t2;
  auto& n = net.n;
  // A real SOVA TTS answers each of these with HTTP 500; before, the node retried them on
  // every backend and five of them opened every breaker.
  for (int i = 0; i < 10; ++i) {
    auto r = synthesize(n, R"({"text": "no voice here"})");
    CAF_CHECK_EQUAL(r.response.status, 400u);
    CAF_CHECK_EQUAL(error_code_of(r), "missing_voice");
  }
  for (const auto* b : {&t1, &t2}) {
    auto s = backend_stats(*b);
    CAF_CHECK_EQUAL(s["refused"], 0);
    CAF_CHECK_EQUAL(s["tts"], 0);
    auto view = tts_backend(n, "tts/cpu/" + b->address());
    CAF_CHECK_NOT_EQUAL(view.value("breaker", ""), "open");
    CAF_CHECK_EQUAL(view.value("failed", 0), 0);
  }
  auto good = synthesize(n);
  CAF_CHECK_EQUAL(good.response.status, 200u);
  CAF_CHECK_EQUAL(response_code(good), 0);
}

CAF_TEST(requests_every_backend_refuses_move_no_breaker) {
  two_tts net{"t1", "t2"};
  auto &t1 = net.t1, &t2 = net.t2;
  auto& n = net.n;
  CAF_REQUIRE_EQUAL(synthesize(n).response.status, 200u);  // both forwarders made, warm
  CAF_REQUIRE_EQUAL(synthesize(n).response.status, 200u);
  control(t1, {{"fail_status", 500}});
  control(t2, {{"fail_status", 500}});
  // 20 requests within a second, each answered 500 (HTML) by every backend it reaches.
  std::vector<std::future<http::client_result>> all;
  for (int i = 0; i < 20; ++i)
    all.push_back(std::async(std::launch::async, [&] { return synthesize(n); }));
  for (auto& f : all) {
    auto r = f.get();
    CAF_CHECK_EQUAL(r.response.status, 502u);
    CAF_CHECK_EQUAL(error_code_of(r), "all_failed");
    CAF_CHECK_NOT_EQUAL(r.response.body.find("answered 500"), std::string::npos);
  }
  // Tried on at most two backends each; and there are only two.
  auto faulted = backend_stats(t1)["faulted"].get<int>() + backend_stats(t2)["faulted"].get<int>();
  CAF_CHECK_LESS_OR_EQUAL(faulted, 40);
  CAF_CHECK_GREATER_OR_EQUAL(faulted, 20);
  for (const auto* b : {&t1, &t2}) {
    auto view = tts_backend(n, "tts/cpu/" + b->address());
    CAF_CHECK_EQUAL(view.value("breaker", ""), "closed");
    CAF_CHECK_EQUAL(view.value("failed", -1), 0);
  }
  control(t1, {{"fail_status", 0}});
  control(t2, {{"fail_status", 0}});
  auto good = synthesize(n);
  CAF_CHECK_EQUAL(good.response.status, 200u);
  CAF_CHECK_EQUAL(response_code(good), 0);
}

CAF_TEST(a_backend_that_fails_everything_still_opens_its_breaker) {
  two_tts net{"bad", "good"};
  auto& bad = net.t1;
  auto& n = net.n;
  control(bad, {{"fail_status", 500}});
  auto bad_name = "tts/cpu/" + bad.address();
  bool opened = false;
  // Two at a time, so that the owner needs both backends (one at a time, it keeps
  // choosing the one whose last job did not fail, and the bad one is left idle).
  for (int i = 0; i < 60 && !opened; ++i) {
    auto first = std::async(std::launch::async, [&] { return synthesize(n); });
    auto r = synthesize(n);
    CAF_CHECK_EQUAL(r.response.status, 200u);  // the good one serves every request
    CAF_CHECK_EQUAL(first.get().response.status, 200u);
    opened = eventually([&] { return tts_backend(n, bad_name).value("breaker", "") == "open"; },
                        100ms);
  }
  CAF_CHECK(opened);
  CAF_CHECK_GREATER_OR_EQUAL(tts_backend(n, bad_name).value("failed", 0), 3);
  CAF_CHECK(contains(n.proc->log(), bad_name + ": circuit breaker open"));
}

CAF_TEST(probes_are_answered_cheaply_and_never_make_a_backend_fail) {
  auto dir = temp_dir();
  test_backend asr{"asr", dir, {"--only", "asr"}};
  test_backend tts{"tts", dir, {"--only", "tts"}};
  node_process n(node_host, free_port(), dir + "/node.log",
                 node_args("asr/cpu/" + asr.address() + ",tts/cpu/" + tts.address(),
                           {"--announce-interval", "0.3"}));
  CAF_REQUIRE(eventually([&] { return backend_stats(tts)["probes"].get<int>() >= 5; }, 30s));
  for (const auto* b : {&asr, &tts}) {
    auto s = backend_stats(*b);
    CAF_CHECK_EQUAL(s["refused"], 0);  // before: the TTS probe had no voice, a 500 each time
    CAF_CHECK_EQUAL(s["faulted"], 0);
    CAF_CHECK_GREATER_OR_EQUAL(s["probes"].get<int>(), 5);
  }
  auto status = status_of(n);
  for (const auto& o : status["own_services"]) {
    CAF_CHECK_EQUAL(o["alive"], true);
    CAF_CHECK_EQUAL(o["last_error"], "");
  }
}

CAF_TEST(a_backend_at_the_wrong_port_is_never_announced_nor_relayed) {
  auto dir = temp_dir();
  test_backend asr{"asr", dir, {"--only", "asr"}};
  test_backend tts{"tts", dir, {"--only", "tts"}};
  // The TTS backend entered at the ASR server's port.
  auto wrong = "tts/gpu/" + asr.address();
  node_process n(node_host, free_port(), dir + "/node.log",
                 node_args("asr/cpu/" + asr.address() + "," + wrong));
  CAF_REQUIRE(eventually([&] { return own(n, wrong).contains("last_error") &&
                                      own(n, wrong)["last_error"] != ""; }, 30s));
  auto o = own(n, wrong);
  CAF_CHECK_EQUAL(o["alive"], false);
  CAF_CHECK_EQUAL(o["announcements"], 0);
  auto why = o["last_error"].get<std::string>();
  CAF_MESSAGE(why);
  CAF_CHECK(contains(why, "answered 404"));
  CAF_CHECK(contains(why, "is that the ASR port?"));
  CAF_CHECK(contains(n.proc->log(), wrong + " does not answer as a SOVA TTS server"));
  CAF_CHECK_EQUAL(field(own(n, "asr/cpu/" + asr.address()), "alive"), true);
  // Not announced: the network has no TTS backend.
  auto none = synthesize(n);
  CAF_CHECK_EQUAL(none.response.status, 503u);
  CAF_CHECK_EQUAL(error_code_of(none), "no_backend");
  // Announced anyway by a node that does not check (the original announces at start
  // without probing): the node's owner has never seen it answer, so nothing goes to it
  // and the 404 page is never relayed.
  dht_put(n, "tts/gpu", wrong);
  CAF_REQUIRE(known_tts(n, 1));
  auto r = synthesize(n);
  CAF_CHECK_EQUAL(r.response.status, 503u);
  CAF_CHECK_EQUAL(error_code_of(r), "no_backend");
  CAF_CHECK_EQUAL(response_code(r), 1);  // our JSON error, not the page
  CAF_CHECK_EQUAL(r.response.header("Content-Type"), "application/json");
  CAF_CHECK_EQUAL(backend_stats(asr)["tts"].get<int>(), 0);
  // With a real TTS backend beside it, every request is served by that one.
  dht_put(n, "tts/cpu", "tts/cpu/" + tts.address());
  CAF_REQUIRE(known_tts(n, 2));
  for (int i = 0; i < 8; ++i) {
    auto ok = synthesize(n);
    CAF_CHECK_EQUAL(ok.response.status, 200u);
    CAF_CHECK_EQUAL(response_code(ok), 0);
    CAF_CHECK_EQUAL(ok.response.header("Content-Type"), "application/json; charset=utf-8");
  }
}

CAF_TEST(a_one_worker_backend_busy_with_long_requests_stays_announced) {
  // With an owner (--announce node, the default), a backend busy with its jobs is alive by
  // them and never probed; with --announce backends, its probes wait behind the jobs past
  // their timeout and the busy rule keeps it announced.
  for (std::string mode : {"node", "backends"}) {
    CAF_MESSAGE("--announce " << mode);
    auto dir = temp_dir();
    test_backend tts{"tts", dir, {"--only", "tts", "--delay-ms", "1200"}};
    auto name = "tts/cpu/" + tts.address();
    // Probes every 0.4 s that give up after 0.2 s: sent beside the jobs (no owner), each
    // one waits behind a 1.2 s job.
    node_process n(node_host, free_port(), dir + "/node.log",
                   node_args(name, {"--announce-interval", "0.4", "--probe-timeout", "0.2",
                                    "--announce", mode}));
    CAF_REQUIRE(eventually([&] { return own(n, name).value("announcements", 0) >= 1; }, 30s));
    auto client = [&] {
      int served = 0;
      for (int i = 0; i < 4; ++i) served += synthesize(n).response.status == 200u ? 1 : 0;
      return served;
    };
    auto a = std::async(std::launch::async, client);
    auto b = std::async(std::launch::async, client);
    // Eight jobs of 1.2 s one after the other: about 10 s, 20 probe intervals.
    int checks = 0, withdrawn = 0;
    while (a.wait_for(100ms) != std::future_status::ready ||
           b.wait_for(0ms) != std::future_status::ready) {
      auto o = own(n, name);
      if (o.empty()) continue;
      ++checks;
      if (o["alive"] != true) {
        ++withdrawn;
        CAF_MESSAGE("withdrawn: " << o.dump());
      }
    }
    CAF_CHECK_EQUAL(a.get() + b.get(), 8);
    CAF_CHECK_GREATER(checks, 20);
    CAF_CHECK_EQUAL(withdrawn, 0);
    // Only without an owner did a probe time out behind a job.
    CAF_CHECK_EQUAL(contains(n.proc->log(), name + ": busy: the probe timeout"), mode == "backends");
    CAF_CHECK_EQUAL(field(backend_stats(tts), "peak_concurrent"), 1);  // one job at a time throughout
    // Idle again, it answers its probes: alive without an error.
    CAF_CHECK(eventually([&] { return own(n, name).value("last_error", "x").empty(); }, 10s));
  }
}

CAF_TEST(numeric_string_floats_and_voice_all_are_served) {
  auto dir = temp_dir();
  test_backend tts{"tts", dir, {"--only", "tts"}};
  node_process n(node_host, free_port(), dir + "/node.log", node_args("tts/cpu/" + tts.address()));
  CAF_REQUIRE(known_tts(n, 1));
  // SOVA's own web page sends these as strings; the node forwards them unchanged.
  auto r = synthesize(n, R"({"text": "hi", "voice": "Natasha", "rate": "1.2", "pitch": " 0.9 ", "volume": "-1"})");
  CAF_CHECK_EQUAL(r.response.status, 200u);
  CAF_CHECK_EQUAL(response_code(r), 0);
  auto both = synthesize(n, R"({"text": "hi", "voice": "all"})");
  CAF_CHECK_EQUAL(both.response.status, 200u);
  CAF_CHECK_EQUAL(json::parse(both.response.body)["response"].size(), 2u);
  // An unknown voice is the backend's answer about the request: relayed as it is.
  auto unknown = synthesize(n, R"({"text": "hi", "voice": "Nobody"})");
  CAF_CHECK_EQUAL(unknown.response.status, 200u);
  CAF_CHECK_EQUAL(response_code(unknown), 1);
  CAF_CHECK_EQUAL(field(backend_stats(tts), "refused"), 0);
}

CAF_TEST(a_backend_started_after_its_node_is_served_within_seconds) {
  auto dir = temp_dir();
  auto port = static_cast<std::uint16_t>(free_tcp_port({"127.0.0.1"}));
  auto name = "tts/cpu/127.0.0.1:" + std::to_string(port);
  // The node first, with its default intervals (30 s between probe rounds and directory
  // refreshes), as compose or a person typing two commands does.
  node_process n(node_host, free_port(), dir + "/node.log", {"--services", name});
  CAF_REQUIRE(eventually([&] { return own(n, name).value("last_error", "") != ""; }, 30s));
  CAF_CHECK_EQUAL(error_code_of(synthesize(n)), "no_backend");
  std::this_thread::sleep_for(1s);
  test_backend tts{"tts", dir, {"--only", "tts"}, port};
  auto up = std::chrono::steady_clock::now();
  // Served long before the next round at 30 s: the retries run 1, 2, 4, 8 s apart.
  CAF_CHECK(eventually([&] { return synthesize(n).response.status == 200u; }, 20s));
  auto took = std::chrono::duration<double>(std::chrono::steady_clock::now() - up).count();
  CAF_MESSAGE("served " << took << " s after the backend listened");
  // The announcer's own probes (1, 2, 4, 8 s apart) find it too, and announce it.
  CAF_CHECK(eventually([&] { return contains(n.proc->log(), name + " answers for the first time after"); },
                       20s));
}


CAF_TEST(records_naming_the_node_itself_or_an_unspecified_address_are_never_connected_to) {
  // What a hostile peer can announce: 0.0.0.0 reaches this host's services (here the test
  // backend on 127.0.0.1), and the node's own HTTP API made one request 1,024 nested ones.
  // The node runs with --allow-loopback: these are refused whatever the flags.
  auto dir = temp_dir();
  test_backend b("victim", dir, {"--only", "tts"});
  node_process n(node_host, free_port(), dir + "/node.log", {"--directory-refresh", "1"});
  auto itself = "tts/cpu/" + node_host + ":" + std::to_string(n.http_port);
  auto unspecified = "tts/cpu/0.0.0.0:" + std::to_string(b.port);
  dht_put(n, "tts/cpu", itself);
  dht_put(n, "tts/cpu", unspecified);
  CAF_REQUIRE(known_tts(n, 2));
  auto r = synthesize(n);
  CAF_CHECK_NOT_EQUAL(r.response.status, 200u);
  CAF_MESSAGE("reply: " << r.response.status << " " << r.response.body);
  CAF_CHECK(contains(r.response.body, "this node's own HTTP API"));
  CAF_CHECK(contains(r.response.body, "0.0.0.0 is an unspecified address, never a backend"));
  CAF_CHECK_EQUAL(field(backend_stats(b), "requests"), 0);
  // One request came in, and only one: none went round through the node itself.
  std::size_t served = 0;
  for (auto at = n.proc->log().find("POST /synthesize"); at != std::string::npos;
       at = n.proc->log().find("POST /synthesize", at + 1))
    ++served;
  CAF_CHECK_EQUAL(served, 1u);
}
