// Running a node for real (issue 6): /metrics after real traffic, parsed strictly, with
// counters matching what was sent and what the backends saw; JSON logs that parse line
// by line with one line per request and its X-Request-Id; flag > environment > config
// file through the real binary; a node restarted with the same --state-dir keeps its id
// and rejoins without --neighbours; docs/openapi.json against a running node.
#define CAF_SUITE integration_node_ops
#include "caf/test/unit_test.hpp"

#include <cctype>
#include <csignal>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include <nlohmann/json.hpp>

#include "prometheus_text.hpp"
#include "serving_fixture.hpp"

using namespace sova;
using namespace sova::testing;
using namespace std::chrono_literals;
using nlohmann::json;

namespace {

/// A call with an X-Request-Id (none when `id` is empty); the reply's id in `*echoed`.
http::client_result call_with_id(const node_process& n, const std::string& method,
                                 const std::string& target, const std::string& content_type,
                                 const std::string& body, const std::string& id,
                                 std::string* echoed) {
  std::vector<std::pair<std::string, std::string>> headers;
  if (!id.empty()) headers.emplace_back("X-Request-Id", id);
  auto r = http_call(n.host, n.http_port, method, target, content_type, body,
                     std::chrono::seconds(30), std::move(headers));
  echoed->clear();
  for (const auto& [name, value] : r.response.headers)
    if (name == "X-Request-Id") *echoed = value;
  return r;
}

test::prom_doc scrape(const node_process& n) {
  auto r = http_call(n.host, n.http_port, "GET", "/metrics");
  CAF_REQUIRE(r.ok);
  CAF_CHECK_EQUAL(r.response.status, 200u);
  std::string type;
  for (const auto& [name, value] : r.response.headers)
    if (name == "Content-Type") type = value;
  CAF_CHECK(contains(type, "text/plain; version=0.0.4"));
  try {
    return test::parse_prometheus(r.response.body);
  } catch (const std::exception& e) {
    CAF_FAIL("/metrics does not parse: " << e.what() << "\n" << r.response.body);
  }
  return {};
}

bool is_hex_id(const std::string& s) {
  return s.size() == 32 && s.find_first_not_of("0123456789abcdef") == std::string::npos;
}

std::string tts_body(const std::string& text) {
  return json{{"text", text}, {"voice", "Natasha"}}.dump();
}

}  // namespace

CAF_TEST(metrics_and_json_logs_account_for_every_request) {
  auto dir = temp_dir();
  test_backend b1{"b1", dir};
  test_backend b2{"b2", dir};
  auto services = "asr/cpu/" + b1.address() + ",tts/cpu/" + b1.address() + ",asr/cpu/" +
                  b2.address() + ",tts/cpu/" + b2.address();
  node_process node{"127.0.0.2", static_cast<std::uint16_t>(free_udp_port({"127.0.0.2"})),
                    dir + "/node.log",
                    {"--services", services, "--log-format", "json", "--announce-interval", "60",
                     // the first lookup may see only some announcements: look again soon
                     "--directory-refresh", "1"}};
  // One record per service/kind: the node's endpoint stands for both of its backends.
  CAF_REQUIRE(knows_backends(node, 1, 30s));

  // Traffic: 6 TTS and 3 ASR served, 2 TTS refused as bad, 1 unknown path; then b1 fails
  // every request, so 4 more TTS are served by b2, some after a failed attempt on b1.
  std::string echoed;
  std::set<std::string> made_ids;
  for (int i = 0; i < 6; ++i) {
    auto id = "ops-tts-" + std::to_string(i);
    auto r = call_with_id(node, "POST", "/synthesize", "application/json", tts_body("hello"),
                          id, &echoed);
    CAF_CHECK_EQUAL(r.response.status, 200u);
    CAF_CHECK_EQUAL(echoed, id);  // honoured and returned
  }
  auto form = audio_form("b0undary", "RIFF....WAVE");
  for (int i = 0; i < 3; ++i) {
    auto r = call_with_id(node, "POST", "/asr", "multipart/form-data; boundary=b0undary", form,
                          "", &echoed);
    CAF_CHECK_EQUAL(r.response.status, 200u);
    CAF_CHECK(is_hex_id(echoed));  // none given: the node made one
    made_ids.insert(echoed);
  }
  for (int i = 0; i < 2; ++i) {
    auto r = call_with_id(node, "POST", "/synthesize", "application/json", R"({"voice": "x"})",
                          "bad id with spaces", &echoed);
    CAF_CHECK_EQUAL(r.response.status, 400u);
    CAF_CHECK(is_hex_id(echoed));  // an id unsafe to log is replaced
    made_ids.insert(echoed);
  }
  // A body over --max-body is refused by the HTTP server itself: the id still comes back.
  auto big = raw_exchange(node.host, node.http_port,
                          "POST /synthesize HTTP/1.1\r\nHost: n\r\nX-Request-Id: ops-413\r\n"
                          "Content-Length: 99999999999\r\n\r\n");
  CAF_CHECK(contains(big, " 413 "));
  CAF_CHECK(contains(big, "X-Request-Id: ops-413"));
  auto lost = call_with_id(node, "GET", "/nowhere", "", "", "ops-404", &echoed);
  CAF_CHECK_EQUAL(lost.response.status, 404u);
  CAF_CHECK_EQUAL(echoed, "ops-404");
  CAF_REQUIRE(control_backend(b1, R"({"fail_status": 500})"));
  for (int i = 0; i < 4; ++i) {
    auto r = call_with_id(node, "POST", "/synthesize/", "application/json", tts_body("again"),
                          "ops-retry-" + std::to_string(i), &echoed);
    CAF_CHECK_EQUAL(r.response.status, 200u);
  }
  CAF_CHECK_EQUAL(made_ids.size(), 5u);  // each one new

  auto m = scrape(node);
  CAF_CHECK_EQUAL(m.types["sova_dc_http_requests_total"], "counter");
  CAF_CHECK_EQUAL(m.types["sova_dc_request_duration_seconds"], "histogram");
  CAF_CHECK_EQUAL(m.sum("sova_dc_http_requests_total", {{"route", "tts"}, {"code", "200"}}), 10);
  CAF_CHECK_EQUAL(m.sum("sova_dc_http_requests_total", {{"route", "tts"}, {"code", "400"}}), 2);
  CAF_CHECK_EQUAL(m.sum("sova_dc_http_requests_total", {{"route", "asr"}, {"code", "200"}}), 3);
  CAF_CHECK_EQUAL(m.sum("sova_dc_http_requests_total", {{"route", "none"}, {"code", "404"}}), 1);
  CAF_CHECK_EQUAL(m.sum("sova_dc_requests_total", {{"service", "tts"}, {"outcome", "served"}}), 10);
  CAF_CHECK_EQUAL(m.sum("sova_dc_http_requests_total", {{"route", "tts"}, {"code", "413"}}), 1);
  CAF_CHECK_EQUAL(m.sum("sova_dc_requests_total", {{"service", "tts"}, {"outcome", "rejected"}}), 3);
  CAF_CHECK_EQUAL(m.sum("sova_dc_requests_total", {{"service", "asr"}, {"outcome", "served"}}), 3);
  // Refused requests never reach the network: the histogram counts the served ones.
  CAF_CHECK_EQUAL(m.sum("sova_dc_request_duration_seconds_count", {{"service", "tts"}}), 10);
  CAF_CHECK_EQUAL(m.sum("sova_dc_request_duration_seconds_bucket",
                        {{"service", "asr"}, {"le", "+Inf"}}),
                  3);
  CAF_CHECK_GREATER(m.sum("sova_dc_request_duration_seconds_sum", {{"service", "tts"}}), 0);

  // Per backend: the node's count of answered attempts is what each backend served, and
  // every failed attempt was followed by a retry (all 10 were served in the end).
  for (const auto* b : {&b1, &b2}) {
    auto seen = backend_stats(*b);
    auto name_tts = "tts/cpu/" + b->address();
    auto name_asr = "asr/cpu/" + b->address();
    CAF_CHECK_EQUAL(m.sum("sova_dc_backend_attempts_total",
                          {{"backend", name_tts}, {"result", "ok"}}),
                    seen["tts"].get<double>());
    CAF_CHECK_EQUAL(m.sum("sova_dc_backend_attempts_total",
                          {{"backend", name_asr}, {"result", "ok"}}),
                    seen["asr"].get<double>());
    CAF_CHECK_EQUAL(m.sum("sova_dc_backend_attempt_duration_seconds_count",
                          {{"backend", name_tts}}),
                    m.sum("sova_dc_backend_attempts_total", {{"backend", name_tts}}));
  }
  auto failed = m.sum("sova_dc_backend_attempts_total", {{"service", "tts"}, {"result", "failed"}});
  CAF_CHECK_EQUAL(m.sum("sova_dc_request_retries_total", {{"service", "tts"}}), failed);
  CAF_CHECK_EQUAL(m.sum("sova_dc_backend_attempts_total", {{"service", "tts"}, {"result", "ok"}}), 10);
  // Read at scrape time from the other parts of the node.
  CAF_CHECK_EQUAL(m.sum("sova_dc_requests_in_flight"), 0);
  CAF_CHECK_EQUAL(m.sum("sova_dc_draining"), 0);
  CAF_CHECK_EQUAL(m.find("sova_dc_routing_table_contacts").size(), 1u);
  CAF_CHECK_GREATER(m.sum("sova_dc_dht_stored_values"), 0);  // its own announcements
  CAF_CHECK_EQUAL(m.sum("sova_dc_own_backend_up"), 4);
  // The owner's queue per own backend; a forwarder (and its in-flight gauge) exists for
  // each backend the owner has sent a job to.
  CAF_CHECK_EQUAL(m.find("sova_dc_owned_backend_capacity").size(), 4u);
  CAF_CHECK_EQUAL(m.sum("sova_dc_owned_backend_running"), 0);
  CAF_CHECK_GREATER_OR_EQUAL(m.find("sova_dc_backend_in_flight").size(), 2u);
  for (const auto& s : m.find("sova_dc_scrape_part_up"))
    CAF_CHECK_EQUAL(s.value, 1);
  auto info = m.find("sova_dc_build_info");
  CAF_REQUIRE_EQUAL(info.size(), 1u);
  CAF_CHECK(info[0].labels["node_id"] ==
            status_of(node).value("node_id", "?"));

  // The log: every line one JSON object; one "request" line per request, with its id.
  std::map<std::string, json> by_id;
  std::istringstream lines(node.proc->log());
  std::string line;
  int n = 0;
  while (std::getline(lines, line)) {
    ++n;
    auto j = json::parse(line, nullptr, false);
    if (j.is_discarded() || !j.is_object()) {
      CAF_ERROR("log line " << n << " is not a JSON object: " << line);
      continue;
    }
    CAF_CHECK(j.contains("time") && j.contains("level") && j.contains("msg"));
    if (j["msg"] != "request") continue;
    auto id = j.value("request_id", "");
    CAF_CHECK_EQUAL(by_id.count(id), 0u);  // logged once
    by_id[id] = j;
  }
  CAF_CHECK_GREATER(n, 10);
  for (int i = 0; i < 6; ++i) {
    const auto& j = by_id["ops-tts-" + std::to_string(i)];
    CAF_CHECK_EQUAL(j.value("status", 0), 200);
    CAF_CHECK_EQUAL(j.value("service", ""), "tts");
    CAF_CHECK_EQUAL(j.value("attempts", 0), 1);
    CAF_CHECK_EQUAL(j["backends"].size(), 1u);
    CAF_CHECK_EQUAL(j.value("path", ""), "/synthesize");
    CAF_CHECK(j.contains("duration_ms"));
  }
  for (const auto& id : made_ids) CAF_CHECK_EQUAL(by_id.count(id), 1u);
  CAF_CHECK_EQUAL(by_id["ops-413"].value("status", 0), 413);
  CAF_CHECK_EQUAL(by_id["ops-413"].value("path", ""), "/synthesize");
  CAF_CHECK_EQUAL(by_id["ops-404"].value("status", 0), 404);
  CAF_CHECK_EQUAL(by_id["ops-404"].value("error", ""), "not_found");
  for (int i = 0; i < 4; ++i) {
    const auto& j = by_id["ops-retry-" + std::to_string(i)];
    CAF_CHECK_EQUAL(j.value("status", 0), 200);
    CAF_CHECK_EQUAL(j["backends"].size(), j.value("attempts", 0) + 0u);
    CAF_CHECK(j["backends"].back() == "tts/cpu/" + b2.address());
  }
}

CAF_TEST(the_running_node_answers_what_the_openapi_document_says) {
  auto dir = temp_dir();
  test_backend b1{"b1", dir};
  node_process node{"127.0.0.6", static_cast<std::uint16_t>(free_udp_port({"127.0.0.6"})),
                    dir + "/node.log",
                    {"--services", "asr/cpu/" + b1.address() + ",tts/cpu/" + b1.address(),
                     "--directory-refresh", "1"}};
  CAF_REQUIRE(knows_backends(node, 1, 30s));
  auto doc = json::parse(apps::read_file(SOVA_SOURCE_DIR "/docs/openapi.json"), nullptr, false);
  CAF_REQUIRE(doc.is_object() && doc.contains("paths"));
  // A good and a bad request per operation: each answer's status is one the document
  // lists for it, and the good one is its 200.
  auto form = audio_form("b0undary", "RIFF....WAVE");
  auto openai_form = form;  // OpenAI's field name for the same file
  openai_form.replace(openai_form.find("audio_blob"), 10, "file");
  int operations = 0;
  for (const auto& [path, item] : doc["paths"].items()) {
    for (const auto& [method, op] : item.items()) {
      if (!op.is_object() || !op.contains("responses")) continue;
      ++operations;
      std::string verb = method;
      for (auto& c : verb) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      std::vector<std::pair<std::string, std::string>> bodies;  // content type, body
      if (verb != "POST")
        bodies = {{"", ""}};
      else if (path.rfind("/asr", 0) == 0)
        bodies = {{"multipart/form-data; boundary=b0undary", form}, {"text/plain", "no form"}};
      else if (path == "/v1/audio/transcriptions")
        bodies = {{"multipart/form-data; boundary=b0undary", openai_form}, {"text/plain", "no form"}};
      else if (path == "/v1/reservations")  // a slot for another node: granted, then let go
        bodies = {{"application/json", R"({"id": "ops0000000000001", "service": "tts", "backend": "any", "timeout_ms": 5000})"},
                  {"application/json", "{\"id\": 1}"}};
      else if (path == "/v1/audio/speech")  // wav: the test backend's audio is not a real WAV
        bodies = {{"application/json", R"({"input": "hello", "voice": "Natasha", "response_format": "wav"})"},
                  {"application/json", "{\"voice\": 1}"}};
      else
        bodies = {{"application/json", tts_body("hello")}, {"application/json", "{\"voice\": 1}"}};
      // A templated path: the reservation just granted, then an id that is not one.
      std::vector<std::string> targets{path};
      if (path == "/v1/reservations/{id}")
        targets = {"/v1/reservations/ops0000000000001", "/v1/reservations/not%20an%20id"};
      if (targets.size() > 1) bodies = {{"", ""}, {"", ""}};
      for (std::size_t i = 0; i < bodies.size(); ++i) {
        auto r = http_call(node.host, node.http_port, verb, targets[std::min(i, targets.size() - 1)],
                           bodies[i].first, bodies[i].second);
        CAF_REQUIRE(r.ok);
        auto status = std::to_string(r.response.status);
        if (!op["responses"].contains(status))
          CAF_ERROR(verb << " " << path << " answered " << status
                         << ", which the document does not list");
        if (i == 0) CAF_CHECK_EQUAL(status, verb == "DELETE" ? "204" : "200");
      }
    }
  }
  CAF_CHECK_EQUAL(operations, 24);  // 16 of the API (2 between nodes), 8 of the web page (GET, HEAD of 4 files)
  // And nothing the document leaves out is served.
  CAF_CHECK_EQUAL(http_call(node.host, node.http_port, "GET", "/openapi").response.status, 404u);
  CAF_CHECK_EQUAL(http_call(node.host, node.http_port, "DELETE", "/status").response.status, 405u);
}

CAF_TEST(flags_beat_environment_which_beats_the_config_file) {
  auto dir = temp_dir();
  const std::string host = "127.0.0.3";
  auto file_port = free_tcp_port({host});
  auto env_port = free_tcp_port({host});
  {
    std::ofstream f(dir + "/node.toml");
    f << "# settings of a test node\nbind = \"" << host << "\"\nhttp-port = " << file_port
      << "\nadmin_port = 0\nlog-format = \"json\"\nport = " << free_udp_port({host}) << "\n";
  }
  auto start = [&](std::vector<std::string> env, std::vector<std::string> flags,
                   const std::string& log) {
    std::vector<std::string> argv{"/usr/bin/env"};
    argv.insert(argv.end(), env.begin(), env.end());
    argv.push_back(SOVA_DC_BINARY);
    argv.push_back("node");
    argv.insert(argv.end(), flags.begin(), flags.end());
    return std::make_unique<child_process>(argv, dir + "/" + log);
  };
  auto healthy = [&](std::uint16_t port) {
    return eventually(
        [&] {
          auto r = http_call(host, port, "GET", "/healthz", "", "", 1s);
          return r.ok && r.response.status == 200;
        },
        20s);
  };
  // The file alone: its port, and its JSON log format.
  {
    auto p = start({}, {"--config", dir + "/node.toml"}, "file.log");
    CAF_CHECK(healthy(file_port));
    p->signal(SIGTERM);
    CAF_CHECK_EQUAL(p->wait_for(20s), std::optional<int>{0});
    std::istringstream first(p->log());
    std::string line;
    std::getline(first, line);
    CAF_CHECK(!json::parse(line, nullptr, false).is_discarded());
  }
  // The environment beats the file; the config file itself can come from it.
  {
    auto p = start({"SOVA_DC_CONFIG=" + dir + "/node.toml",
                    "SOVA_DC_HTTP_PORT=" + std::to_string(env_port)},
                   {}, "env.log");
    CAF_CHECK(healthy(env_port));
    p->signal(SIGTERM);
    CAF_CHECK_EQUAL(p->wait_for(20s), std::optional<int>{0});
  }
  // A flag beats both.
  {
    auto flag_port = free_tcp_port({host});
    auto p = start({"SOVA_DC_HTTP_PORT=" + std::to_string(env_port)},
                   {"--config", dir + "/node.toml", "--http-port", std::to_string(flag_port),
                    "--log-format", "text"},
                   "flag.log");
    CAF_CHECK(healthy(flag_port));
    p->signal(SIGTERM);
    CAF_CHECK_EQUAL(p->wait_for(20s), std::optional<int>{0});
    CAF_CHECK(json::parse(p->log().substr(0, p->log().find('\n')), nullptr, false).is_discarded());
  }
  // An unknown key stops the node at once, naming the key and the file.
  {
    std::ofstream(dir + "/bad.toml") << "http-port = 1\nneighbors = \"x:1\"\n";
    auto r = run({SOVA_DC_BINARY, "node", "--config", dir + "/bad.toml"}, 10s);
    CAF_CHECK_EQUAL(r.status, 2);
    CAF_CHECK(contains(r.err, "unknown key 'neighbors'"));
    CAF_CHECK(contains(r.err, dir + "/bad.toml"));
  }
}

CAF_TEST(a_restarted_node_keeps_its_id_and_rejoins_without_neighbours) {
  auto dir = temp_dir();
  auto state_dir = dir + "/state";
  node_process seed{"127.0.0.4", static_cast<std::uint16_t>(free_udp_port({"127.0.0.4"})),
                    dir + "/seed.log", {}};
  auto udp = static_cast<std::uint16_t>(free_udp_port({"127.0.0.5"}));
  std::string id;
  {
    node_process b{"127.0.0.5", udp, dir + "/b1.log",
                   {"--neighbours", seed.udp_address(), "--state-dir", state_dir,
                    "--state-interval", "1"}};
    id = status_of(b).value("node_id", "");
    CAF_REQUIRE_EQUAL(id.size(), 40u);
    // The periodic snapshot holds the seed once the node has joined.
    auto seed_id = status_of(seed).value("node_id", "");
    CAF_CHECK(eventually(
        [&] { return contains(apps::read_file(state_dir + "/node-state.json"), seed_id); }, 20s));
    b.proc->signal(SIGTERM);
    CAF_CHECK_EQUAL(b.proc->wait_for(20s), std::optional<int>{0});
    CAF_CHECK(contains(b.proc->log(), "node state saved in " + state_dir));
  }
  auto saved = json::parse(apps::read_file(state_dir + "/node-state.json"), nullptr, false);
  CAF_REQUIRE(!saved.is_discarded());
  CAF_CHECK_EQUAL(saved.value("node_id", ""), id);
  CAF_CHECK_EQUAL(saved["contacts"].size(), 1u);

  // Restarted with the same directory and no --neighbours: the same id, and back in the
  // network through the saved contact (its table fills only from live exchanges).
  node_process again{"127.0.0.5", udp, dir + "/b2.log", {"--state-dir", state_dir}};
  CAF_CHECK_EQUAL(status_of(again).value("node_id", ""), id);
  CAF_CHECK(contains(again.proc->log(), "rejoining through the 1 contact(s)"));
  CAF_CHECK(eventually(
      [&] { return status_of(again).value("routing_table_size", 0) >= 1; },
      20s));
  // A damaged state file costs the id, not the start.
  again.proc->signal(SIGTERM);
  CAF_CHECK_EQUAL(again.proc->wait_for(20s), std::optional<int>{0});
  std::ofstream(state_dir + "/node-state.json") << "{not json";
  node_process fresh{"127.0.0.5", udp, dir + "/b3.log", {"--state-dir", state_dir}};
  CAF_CHECK_NOT_EQUAL(status_of(fresh).value("node_id", ""), id);
  CAF_CHECK(contains(fresh.proc->log(), "is damaged"));
}
