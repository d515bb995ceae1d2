// A real `sova-dc node` process with test backends that act like real SOVA servers (one
// worker, Flask's answers): the original client's requests (byte for byte as
// python-requests sends them) get the backend's JSON back, as application/json; bad
// requests are answered at once without reaching a backend; failing and hanging
// backends are retried elsewhere; /healthz and /status; bad --services exit 2; SIGTERM
// lets the request in flight finish, refusing new ones, then the node exits 0. With
// --http-threads 2, concurrent ASR and TTS requests each get their own reply byte for
// byte, and /status and /metrics count each once.
#define CAF_SUITE integration_node_http
#include "caf/test/unit_test.hpp"

#include <csignal>
#include <future>
#include <thread>
#include <utility>

#include <nlohmann/json.hpp>

#include "prometheus_text.hpp"
#include "serving_fixture.hpp"

using namespace sova;
using namespace sova::testing;
using namespace std::chrono_literals;
using nlohmann::json;

namespace {

const std::string node_host = "127.0.0.2";

void control(const test_backend& b, const json& what) {
  CAF_REQUIRE(control_backend(b, what.dump()));
}

std::string services_of(const std::vector<const test_backend*>& bs) {
  std::string out;
  for (auto* b : bs) {
    if (!out.empty()) out += ",";
    out += "asr/cpu/" + b->address() + ",tts/cpu/" + b->address();
  }
  return out;
}

struct one_node {
  std::string dir = temp_dir();
  test_backend b1{"b1", dir};
  test_backend b2{"b2", dir};
  node_process node;

  explicit one_node(std::vector<std::string> extra = {})
      : node(node_host, static_cast<std::uint16_t>(free_udp_port({node_host})), dir + "/node.log",
             with_services(extra, services_of({&b1, &b2}))) {
    // One record per service/kind: the node's endpoint stands for both of its backends.
    CAF_REQUIRE(knows_backends(node, 1, 30s));
  }
  static std::vector<std::string> with_services(std::vector<std::string> extra,
                                                const std::string& services) {
    extra.push_back("--services");
    extra.push_back(services);
    extra.push_back("--directory-refresh");
    extra.push_back("1");
    return extra;
  }
  http::client_result post(const std::string& target, const std::string& content_type,
                           const std::string& body) {
    return http_call(node.host, node.http_port, "POST", target, content_type, body);
  }
};

/// The request python-requests makes for `requests.post(url, json=...)`.
std::string requests_json_post(const std::string& host_port, const std::string& path,
                               const std::string& body) {
  return "POST " + path + " HTTP/1.1\r\nHost: " + host_port +
         "\r\nUser-Agent: python-requests/2.28.1\r\nAccept-Encoding: gzip, deflate\r\n"
         "Accept: */*\r\nConnection: keep-alive\r\nContent-Length: " +
         std::to_string(body.size()) + "\r\nContent-Type: application/json\r\n\r\n" + body;
}

const std::string boundary = "5c5b2e0d2b8f4e43a1b3e0e3d7d1f6a2";

std::string requests_form_post(const std::string& host_port, const std::string& path,
                               const std::string& body) {
  return "POST " + path + " HTTP/1.1\r\nHost: " + host_port +
         "\r\nUser-Agent: python-requests/2.28.1\r\nAccept-Encoding: gzip, deflate\r\n"
         "Accept: */*\r\nConnection: keep-alive\r\nContent-Length: " +
         std::to_string(body.size()) + "\r\nContent-Type: multipart/form-data; boundary=" +
         boundary + "\r\n\r\n" + body;
}


}  // namespace

CAF_TEST(the_original_clients_requests_get_the_backends_json_back) {
  one_node n;
  auto node_addr = n.node.host + ":" + std::to_string(n.node.http_port);
  const std::string tts = R"({"text": "Добрый день", "voice": "Natasha"})";
  for (const std::string path : {"/synthesize", "/synthesize/"}) {
    auto via_node = raw_exchange(n.node.host, n.node.http_port,
                                 requests_json_post(node_addr, path, tts));
    CAF_CHECK_EQUAL(via_node.rfind("HTTP/1.1 200", 0), 0u);
    auto body = raw_body(via_node);
    auto reply = json::parse(body);
    CAF_CHECK_EQUAL(reply["response_code"], 0);
    auto served_by = reply["response"][0]["response_audio"].get<std::string>();
    // The same request straight to the backend that served it gives the same bytes
    // (base64 of "b1:" starts "YjE6").
    auto& b = served_by.rfind("YjE6", 0) == 0 ? n.b1 : n.b2;
    auto direct_body = raw_body(raw_exchange(
        "127.0.0.1", b.port, requests_json_post(b.address(), "/synthesize/", tts)));
    CAF_CHECK_EQUAL(body, direct_body);
  }
  const std::string wav = std::string("RIFF\x24\x00\x00\x00WAVEfmt ", 16) + std::string(2000, '\x01');
  for (const std::string path : {"/asr", "/asr/"}) {
    auto via_node = raw_exchange(n.node.host, n.node.http_port,
                                 requests_form_post(node_addr, path, audio_form(boundary, wav)));
    CAF_CHECK_EQUAL(via_node.rfind("HTTP/1.1 200", 0), 0u);
    // SOVA ASR labels its JSON text/html; clients that check the type get JSON.
    CAF_CHECK(contains(via_node, "\r\nContent-Type: application/json; charset=utf-8\r\n"));
    auto body = raw_body(via_node);
    auto reply = json::parse(body);
    // client_user.py reads response["r"][0]["response"].
    auto text = reply["r"][0]["response"][0]["text"].get<std::string>();
    CAF_CHECK_NOT_EQUAL(text.find("heard " + std::to_string(wav.size()) + " bytes"),
                        std::string::npos);
    auto& b = text.rfind("b1", 0) == 0 ? n.b1 : n.b2;
    auto direct = raw_exchange("127.0.0.1", b.port,
                               requests_form_post(b.address(), "/asr", audio_form(boundary, wav)));
    CAF_CHECK(contains(direct, "\r\nContent-Type: text/html; charset=utf-8\r\n"));
    CAF_CHECK_EQUAL(body, raw_body(direct));
  }
}

CAF_TEST(bad_requests_are_answered_at_once_without_reaching_a_backend) {
  one_node n({"--max-body", "64KiB"});
  auto before1 = backend_stats(n.b1), before2 = backend_stats(n.b2);
  struct bad {
    std::string method, target, content_type, body;
    unsigned status;
    std::string code;
  };
  std::vector<bad> cases{
      {"POST", "/synthesize", "application/json", "{\"text\": ", 400, "bad_json"},
      {"POST", "/synthesize", "application/json", "[1, 2]", 400, "bad_json"},
      {"POST", "/synthesize", "application/json", R"({"voice": "Natasha"})", 400, "missing_text"},
      {"POST", "/synthesize/", "application/json", R"({"text": 42})", 400, "missing_text"},
      // What a real SOVA TTS would answer with HTTP 500 (and the node would have retried).
      {"POST", "/synthesize", "application/json", R"({"text": "hi"})", 400, "missing_voice"},
      {"POST", "/synthesize", "application/json", R"({"text": "hi", "voice": "Natasha", "rate": "fast"})",
       400, "bad_request"},
      // A part without a filename is no file to SOVA ASR.
      {"POST", "/asr", "multipart/form-data; boundary=" + boundary,
       "--" + boundary + "\r\nContent-Disposition: form-data; name=\"audio_blob\"\r\n\r\nRIFF\r\n--" +
           boundary + "--\r\n",
       400, "no_audio"},
      {"POST", "/asr", "multipart/form-data; boundary=" + boundary,
       "--" + boundary + "\r\nContent-Disposition: form-data; name=\"other\"\r\n\r\nx\r\n--" +
           boundary + "--\r\n",
       400, "no_audio"},
      {"POST", "/asr", "text/plain", "hello", 400, "bad_request"},
      {"POST", "/asr", "multipart/form-data; boundary=" + boundary, "not a form", 400,
       "bad_request"},
      {"POST", "/nowhere", "application/json", "{}", 404, "not_found"},
      {"GET", "/asr", "", "", 405, "method_not_allowed"},
      {"DELETE", "/synthesize", "", "", 405, "method_not_allowed"},
      {"POST", "/synthesize?backend=tpu", "application/json", R"({"text": "a", "voice": "Natasha"})", 400,
       "bad_request"},
      {"POST", "/synthesize", "application/json",
       R"({"text": ")" + std::string(70000, 'a') + "\"}", 413, "too_large"},
  };
  for (const auto& c : cases) {
    auto r = http_call(n.node.host, n.node.http_port, c.method, c.target, c.content_type, c.body);
    CAF_REQUIRE(r.ok);
    CAF_CHECK_EQUAL(r.response.status, c.status);
    CAF_CHECK_EQUAL(error_code_of(r), c.code);
    if (r.response.status != c.status) CAF_MESSAGE("case: " << c.method << " " << c.target);
  }
  // Garbage on the socket: a 400, and the node serves on.
  auto junk = raw_exchange(n.node.host, n.node.http_port, "\x16\x03\x01 not http at all\r\n\r\n");
  CAF_CHECK_EQUAL(junk.rfind("HTTP/1.1 400", 0), 0u);
  auto health = http_call(n.node.host, n.node.http_port, "GET", "/healthz");
  CAF_CHECK_EQUAL(health.response.status, 200u);
  auto health_body = json::parse(health.response.body);
  CAF_CHECK_EQUAL(health_body["status"], "ok");
  // Neither backend saw any of it (their probes aside).
  auto after1 = backend_stats(n.b1), after2 = backend_stats(n.b2);
  for (const auto* counter : {"asr", "tts", "refused", "faulted"}) {
    CAF_CHECK_EQUAL(after1[counter], before1[counter]);
    CAF_CHECK_EQUAL(after2[counter], before2[counter]);
  }
}

CAF_TEST(bad_openai_requests_are_refused_in_openai_shape_without_reaching_a_backend) {
  one_node n({"--max-body", "64KiB"});
  auto before1 = backend_stats(n.b1), before2 = backend_stats(n.b2);
  const std::string form_type = "multipart/form-data; boundary=" + boundary;
  auto field = [](const std::string& name, const std::string& value, const std::string& file = "") {
    return "--" + boundary + "\r\nContent-Disposition: form-data; name=\"" + name + "\"" +
           (file.empty() ? "" : "; filename=\"" + file + "\"") + "\r\n\r\n" + value + "\r\n";
  };
  auto end = "--" + boundary + "--\r\n";
  auto file = field("file", "RIFF....WAVE", "a.wav");
  struct bad {
    std::string method, target, content_type, body;
    std::string expected;  // "status code param"
  };
  std::vector<bad> cases{
      {"POST", "/v1/audio/speech", "application/json", "{\"input\": ", "400 invalid_json "},
      {"POST", "/v1/audio/speech", "application/json", R"({"input": "hi"})",
       "400 missing_required_parameter voice"},
      {"POST", "/v1/audio/speech", "application/json", R"({"voice": "Natasha"})",
       "400 missing_required_parameter input"},
      {"POST", "/v1/audio/speech", "application/json",
       R"({"input": "hi", "voice": "Natasha", "speed": 9})", "400 invalid_value speed"},
      {"POST", "/v1/audio/speech", "application/json",
       R"({"input": "hi", "voice": "Natasha", "response_format": "aac"})",
       "400 unsupported_value response_format"},
      {"POST", "/v1/audio/speech?backend=tpu", "application/json",
       R"({"input": "hi", "voice": "Natasha"})", "400 bad_request "},
      {"POST", "/v1/audio/speech", "application/json",
       R"({"input": ")" + std::string(70000, 'a') + "\", \"voice\": \"Natasha\"}", "413 too_large "},
      {"POST", "/v1/audio/transcriptions", "text/plain", "hello", "400 invalid_request file"},
      {"POST", "/v1/audio/transcriptions", form_type, field("model", "whisper-1") + end,
       "400 missing_file file"},
      {"POST", "/v1/audio/transcriptions", form_type, field("file", "RIFF") + end,
       "400 invalid_value file"},
      {"POST", "/v1/audio/transcriptions", form_type,
       file + field("response_format", "docx") + end, "400 invalid_value response_format"},
      {"POST", "/v1/audio/transcriptions", form_type, file + field("model", "sova-tts") + end,
       "400 model_not_found model"},
      {"POST", "/v1/audio/transcriptions", form_type,
       field("file", std::string(70000, 'x'), "big.wav") + end, "413 too_large "},
      {"POST", "/v1/audio/nothing", "application/json", "{}", "404 not_found "},
      {"GET", "/v1/audio/speech", "", "", "405 method_not_allowed "},
      {"DELETE", "/v1/models", "", "", "405 method_not_allowed "},
  };
  for (const auto& c : cases) {
    auto r = http_call(n.node.host, n.node.http_port, c.method, c.target, c.content_type, c.body);
    CAF_REQUIRE(r.ok);
    auto body = json::parse(r.response.body, nullptr, false);
    std::string got = "not OpenAI's shape: " + r.response.body.substr(0, 200);
    if (body.is_object() && !body.contains("response_code") && body.contains("error")) {
      const auto& e = body["error"];
      auto type = r.response.status == 429 ? "rate_limit_error" : "invalid_request_error";
      if (e.value("type", "") == type && e["message"].is_string())
        got = std::to_string(r.response.status) + " " + e.value("code", "") + " " +
              (e["param"].is_null() ? "" : e.value("param", ""));
    }
    CAF_CHECK_EQUAL(got, c.expected);
  }
  auto wrong_method = http_call(n.node.host, n.node.http_port, "GET", "/v1/audio/speech");
  CAF_CHECK_EQUAL(wrong_method.response.header("Allow"), "POST");
  // Neither backend saw any of it (their probes aside).
  auto after1 = backend_stats(n.b1), after2 = backend_stats(n.b2);
  for (const auto* counter : {"asr", "tts", "refused", "faulted"}) {
    CAF_CHECK_EQUAL(after1[counter], before1[counter]);
    CAF_CHECK_EQUAL(after2[counter], before2[counter]);
  }
  // And good ones are served by them, translated.
  auto speech = n.post("/v1/audio/speech", "application/json",
                       R"({"input": "hi", "voice": "alloy", "response_format": "wav"})");
  CAF_CHECK_EQUAL(speech.response.status, 200u);
  CAF_CHECK(speech.response.body == "b1:hi" || speech.response.body == "b2:hi");
  auto text = n.post("/v1/audio/transcriptions", form_type, file + field("response_format", "text") + end);
  CAF_CHECK_EQUAL(text.response.status, 200u);
  CAF_CHECK(contains(text.response.body, "heard 12 bytes"));
}

CAF_TEST(without_a_backend_of_that_kind_the_node_answers_503_naming_the_service) {
  auto dir = temp_dir();
  node_process lonely(node_host, static_cast<std::uint16_t>(free_udp_port({node_host})),
                      dir + "/lonely.log", {});
  auto r = http_call(lonely.host, lonely.http_port, "POST", "/synthesize", "application/json",
                     R"({"text": "hello", "voice": "Natasha"})");
  CAF_REQUIRE(r.ok);
  CAF_CHECK_EQUAL(r.response.status, 503u);
  CAF_CHECK_EQUAL(error_code_of(r), "no_backend");
  CAF_CHECK_NOT_EQUAL(r.response.body.find("tts"), std::string::npos);
  // A node with cpu backends asked for a gpu one.
  one_node n;
  auto gpu = n.post("/asr?backend=gpu", "multipart/form-data; boundary=" + boundary,
                    audio_form(boundary, "RIFF"));
  CAF_CHECK_EQUAL(gpu.response.status, 503u);
  CAF_CHECK_NOT_EQUAL(gpu.response.body.find("gpu asr"), std::string::npos);
  auto cpu = n.post("/asr?backend=cpu", "multipart/form-data; boundary=" + boundary,
                    audio_form(boundary, "RIFF"));
  CAF_CHECK_EQUAL(cpu.response.status, 200u);
}

CAF_TEST(failing_hanging_and_garbage_backends_are_retried_on_the_other) {
  one_node n({"--attempt-timeout", "1", "--request-timeout", "10"});
  for (const json& trouble : {json{{"fail_status", 500}}, json{{"hang", true}},
                              json{{"garbage", true}}}) {
    control(n.b1, trouble);
    for (int i = 0; i < 6; ++i) {
      auto r = n.post("/synthesize", "application/json", R"({"text": "retry me", "voice": "Natasha"})");
      CAF_REQUIRE(r.ok);
      CAF_CHECK_EQUAL(r.response.status, 200u);
      auto audio = json::parse(r.response.body)["response"][0]["response_audio"];
      CAF_CHECK_EQUAL(audio, "YjI6cmV0cnkgbWU=");  // base64("b2:retry me"): served by b2
    }
    control(n.b1, {{"fail_status", 0}, {"hang", false}, {"garbage", false}});
  }
  // Both failing: 502 saying what happened.
  control(n.b1, {{"fail_status", 503}});
  control(n.b2, {{"fail_status", 500}});
  auto r = n.post("/synthesize", "application/json", R"({"text": "nobody", "voice": "Natasha"})");
  CAF_CHECK_EQUAL(r.response.status, 502u);
  CAF_CHECK_EQUAL(error_code_of(r), "all_failed");
}

CAF_TEST(a_hanging_only_backend_ends_in_504_at_the_deadline) {
  one_node n({"--attempt-timeout", "5", "--request-timeout", "1.5"});
  control(n.b1, {{"hang", true}});
  control(n.b2, {{"hang", true}});
  auto started = std::chrono::steady_clock::now();
  auto r = n.post("/synthesize", "application/json", R"({"text": "wait", "voice": "Natasha"})");
  auto took = std::chrono::steady_clock::now() - started;
  CAF_CHECK_EQUAL(r.response.status, 504u);
  CAF_CHECK_EQUAL(error_code_of(r), "deadline");
  CAF_CHECK_LESS(took, 5s);
}

CAF_TEST(sigterm_lets_the_request_in_flight_finish_then_the_node_exits_0) {
  one_node n({"--grace-period", "20"});
  control(n.b1, {{"delay_ms", 2000}});
  control(n.b2, {{"delay_ms", 2000}});
  auto slow = std::async(std::launch::async, [&] {
    return n.post("/synthesize", "application/json", R"({"text": "slow", "voice": "Natasha"})");
  });
  CAF_REQUIRE(eventually([&] { return status_of(n.node)["requests_in_flight"] == 1; }, 10s));
  n.node.proc->signal(SIGTERM);
  CAF_REQUIRE(eventually([&] { return contains(n.node.proc->log(), "draining"); }, 5s));
  auto refused = n.post("/synthesize", "application/json", R"({"text": "late", "voice": "Natasha"})");
  CAF_CHECK_EQUAL(refused.response.status, 503u);
  CAF_CHECK_EQUAL(error_code_of(refused), "draining");
  CAF_CHECK_EQUAL(slow.get().response.status, 200u);  // finished, not cut off
  CAF_CHECK_EQUAL(n.node.proc->wait_for(10s).value_or(-1), 0);
  CAF_CHECK(contains(n.node.proc->log(), "every request in flight finished: stopping"));
}

CAF_TEST(healthz_and_status_describe_the_node) {
  one_node n;
  auto h = http_call(n.node.host, n.node.http_port, "GET", "/healthz");
  CAF_CHECK_EQUAL(h.response.status, 200u);
  CAF_CHECK_EQUAL(h.response.body, R"({"status": "ok"})");
  CAF_CHECK_EQUAL(n.post("/synthesize", "application/json", R"({"text": "a", "voice": "Natasha"})").response.status,
                  200u);
  auto s = status_of(n.node);
  CAF_REQUIRE(s.contains("node_id"));
  CAF_CHECK_EQUAL(s["node_id"].get<std::string>().size(), 40u);
  CAF_CHECK_EQUAL(s["udp"], n.node.udp_address());
  CAF_CHECK_EQUAL(s["http"], n.node.host + ":" + std::to_string(n.node.http_port));
  CAF_REQUIRE_EQUAL(s["own_services"].size(), 4u);
  std::size_t owned_served = 0;
  for (const auto& o : s["own_services"]) {
    CAF_CHECK_EQUAL(o["alive"], true);
    CAF_CHECK_GREATER_OR_EQUAL(o["announcements"].get<int>(), 1);
    // The owner's queue on the same entry (--announce node): one slot each, idle again.
    CAF_CHECK_EQUAL(o["capacity"], 1);
    CAF_CHECK_EQUAL(o["running"], 0);
    CAF_CHECK_EQUAL(o["queued"], 0);
    CAF_CHECK_EQUAL(o["up"], true);
    owned_served += o.value("served", 0);
  }
  CAF_CHECK_EQUAL(owned_served, 1u);  // the one TTS request, run by the owner
  std::size_t served = 0;
  for (const auto& b : s["services"]["tts"]) {
    CAF_CHECK_EQUAL(b["kind"], "cpu");
    served += b.value("served", 0);
  }
  CAF_CHECK_EQUAL(served, 1u);
}

CAF_TEST(with_two_http_threads_concurrent_requests_each_get_their_own_reply) {
  one_node n({"--http-threads", "2"});
  // A little service time, so that requests overlap in the node on both threads.
  control(n.b1, {{"delay_ms", 20}});
  control(n.b2, {{"delay_ms", 20}});
  const std::string form_type = "multipart/form-data; boundary=" + boundary;
  struct exchange {
    bool tts = false;
    std::string body;  // what the client sent
    http::client_result via_node;
  };
  constexpr int clients = 8;
  constexpr int each = 6;
  std::vector<exchange> sent(clients * each);
  auto before = status_of(n.node);
  CAF_REQUIRE(before.contains("requests_total"));
  std::vector<std::thread> workers;
  for (int c = 0; c < clients; ++c)
    workers.emplace_back([&, c] {
      for (int i = 0; i < each; ++i) {
        auto& x = sent[std::size_t(c * each + i)];
        // Every request differs (its text, its file's size), and so does its right reply.
        x.tts = (c + i) % 2 == 0;
        if (x.tts) {
          x.body = json{{"text", "request " + std::to_string(c) + "-" + std::to_string(i)},
                        {"voice", "Natasha"}}.dump();
          x.via_node = n.post("/synthesize", "application/json", x.body);
        } else {
          x.body = audio_form(boundary, std::string(std::size_t(1000 + c * each + i), '\x01'));
          x.via_node = n.post("/asr", form_type, x.body);
        }
      }
    });
  for (auto& t : workers) t.join();
  std::size_t tts = 0, asr = 0;
  for (const auto& x : sent) {
    CAF_REQUIRE(x.via_node.ok);
    CAF_REQUIRE_EQUAL(x.via_node.response.status, 200u);
    auto reply = json::parse(x.via_node.response.body, nullptr, false);
    CAF_REQUIRE(reply.is_object());
    // Which backend served it (its name opens the audio, base64("b1:") = "YjE6", or the
    // transcript); the same request sent straight to it gives the same bytes.
    auto named = x.tts ? reply["response"][0]["response_audio"].get<std::string>()
                       : reply["r"][0]["response"][0]["text"].get<std::string>();
    const auto& b = named.rfind(x.tts ? "YjE6" : "b1 ", 0) == 0 ? n.b1 : n.b2;
    auto direct = x.tts ? http_call("127.0.0.1", b.port, "POST", "/synthesize/",
                                    "application/json", x.body)
                        : http_call("127.0.0.1", b.port, "POST", "/asr", form_type, x.body);
    CAF_REQUIRE_EQUAL(direct.response.status, 200u);
    CAF_CHECK_EQUAL(x.via_node.response.body, direct.response.body);
    ++(x.tts ? tts : asr);
  }
  CAF_CHECK_EQUAL(tts + asr, sent.size());
  // The node counted each of them once: every HTTP request (this /status included), and
  // every ASR/TTS request served by a backend, in /status and in /metrics.
  auto after = status_of(n.node);
  CAF_CHECK_EQUAL(after["requests_total"].get<std::uint64_t>(),
                  before["requests_total"].get<std::uint64_t>() + sent.size() + 1);
  CAF_CHECK_EQUAL(after["requests_in_flight"], 0);
  for (const auto& [service, count] : {std::pair{"tts", tts}, std::pair{"asr", asr}}) {
    std::size_t served = 0;
    for (const auto& b : after["services"][service]) served += b.value("served", std::size_t(0));
    CAF_CHECK_EQUAL(served, count);
  }
  auto metrics = http_call(n.node.host, n.node.http_port, "GET", "/metrics");
  CAF_REQUIRE_EQUAL(metrics.response.status, 200u);
  auto doc = test::parse_prometheus(metrics.response.body);
  CAF_CHECK_EQUAL(doc.sum("sova_dc_requests_total", {{"service", "tts"}, {"outcome", "served"}}),
                  double(tts));
  CAF_CHECK_EQUAL(doc.sum("sova_dc_requests_total", {{"service", "asr"}, {"outcome", "served"}}),
                  double(asr));
}

CAF_TEST(bad_services_stop_the_node_at_start_naming_the_entry) {
  auto bad_kind = run({SOVA_DC_BINARY, "node", "--bind", node_host, "--port", "0", "--http-port",
                       "0", "--services", "asr/cpu/192.0.2.1:8888,asr/xpu/192.0.2.1:8888"},
                      30s);
  CAF_CHECK_EQUAL(bad_kind.status, 2);
  CAF_CHECK_NOT_EQUAL(bad_kind.err.find("asr/xpu/192.0.2.1:8888"), std::string::npos);
  auto bad_capacity = run({SOVA_DC_BINARY, "node", "--bind", node_host, "--port", "0",
                           "--http-port", "0", "--services", "asr/cpu/192.0.2.1:8888*65"},
                          30s);
  CAF_CHECK_EQUAL(bad_capacity.status, 2);
  CAF_CHECK_NOT_EQUAL(bad_capacity.err.find("'asr/cpu/192.0.2.1:8888*65': the capacity"),
                      std::string::npos);
  auto loopback = run({SOVA_DC_BINARY, "node", "--bind", node_host, "--port", "0", "--http-port",
                       "0", "--services", "tts/gpu/127.0.0.1:8899", "--announce", "backends"},
                      30s);
  // Announced as it is, a loopback backend is refused; announcing the node, it is fine.
  CAF_CHECK_EQUAL(loopback.status, 2);
  CAF_CHECK_NOT_EQUAL(loopback.err.find("--allow-loopback"), std::string::npos);
  auto help = run({SOVA_DC_BINARY, "node", "--help"}, 30s);
  CAF_CHECK_EQUAL(help.status, 0);
  for (const char* flag : {"--services", "--announce", "--public-address", "--http-port",
                           "--max-body", "--allow-loopback",
                           "--attempts", "--request-timeout", "--attempt-timeout"})
    CAF_CHECK_NOT_EQUAL(help.out.find(flag), std::string::npos);
}

CAF_TEST(records_that_point_nodes_at_each_other_cannot_make_a_request_go_round) {
  auto dir = temp_dir();
  auto udp = static_cast<std::uint16_t>(free_udp_port({"127.0.0.2", "127.0.0.3", "127.0.0.4"}));
  node_process a{"127.0.0.2", udp, dir + "/a.log", {}};
  node_process b{"127.0.0.3", udp, dir + "/b.log", {"--neighbours", a.udp_address()}};
  // Each node's HTTP API announced as a TTS backend: A would forward to B, B to A, ...
  for (const auto* n : {&a, &b}) {
    auto put = run({SOVA_DC_BINARY, "dht", "put", "tts/cpu",
                    "tts/cpu/" + n->host + ":" + std::to_string(n->http_port), "--bind",
                    "127.0.0.4", "--neighbours", a.udp_address(), "--rpc-timeout", "1"},
                   60s);
    CAF_REQUIRE_EQUAL(put.status, 0);
  }
  auto started = std::chrono::steady_clock::now();
  auto r = http_call(a.host, a.http_port, "POST", "/synthesize", "application/json",
                     R"({"text": "hi", "voice": "Natasha"})", 60s);
  auto took = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  CAF_REQUIRE(r.ok);
  CAF_MESSAGE("answered " << r.response.status << " in " << took << " s: " << r.response.body);
  // B, asked by another node for a slot, owns no backend: it refuses at once (503
  // not_owner) and never forwards anything back to A; A has no other owner to ask.
  CAF_CHECK_EQUAL(r.response.status, 503u);
  CAF_CHECK_EQUAL(error_code_of(r), "no_backend");
  CAF_CHECK_LESS(took, 20.0);
  CAF_CHECK(eventually([&] { return contains(b.proc->log(), ": 503 not_owner"); }, 5s));
  CAF_CHECK(!contains(a.proc->log(), ": 508 loop"));
  CAF_CHECK(!contains(b.proc->log(), ": 508 loop"));
  // A request that already names the node in Via is refused at once, before any backend.
  auto id = status_of(a)["node_id"].get<std::string>();
  auto looped = http_call(a.host, a.http_port, "POST", "/synthesize", "application/json",
                          R"({"text": "hi", "voice": "Natasha"})", 10s,
                          {{"Via", "1.1 proxy, 1.1 sova-dc-" + id.substr(0, 16)}});
  CAF_REQUIRE(looped.ok);
  CAF_CHECK_EQUAL(looped.response.status, 508u);
  auto code = error_code_of(looped);
  CAF_CHECK_EQUAL(code, "loop");
}
