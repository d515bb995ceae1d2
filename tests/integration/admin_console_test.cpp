// `sova-dc admin` as a real process against real nodes: every command in text and JSON,
// put through one node and get through another, drain refusing new work while the
// request in flight finishes, scripts from -c, --script and standard input stopping at
// the first failure (or not, with --keep-going), and the messages and exit statuses for
// a wrong address, an unknown command and bad arguments; the admin port's bounds against
// a client that announces a huge message, and its refusal of browsers' requests.
#define CAF_SUITE integration_admin
#include "caf/test/unit_test.hpp"

#include <cstdlib>
#include <fstream>
#include <future>
#include <sstream>

#include <nlohmann/json.hpp>

#include "serving_fixture.hpp"

using namespace sova;
using namespace sova::testing;
using namespace std::chrono_literals;
using nlohmann::json;

namespace {

// JSON values are compared with CAF_CHECK(a == b): CAF_CHECK_EQUAL prints its operands with
// deep_to_string, which walks a json value as a container and reads freed temporaries.

/// Every line of `out` as JSON (a line that does not parse fails the test).
std::vector<json> json_lines(const std::string& out) {
  std::vector<json> lines;
  std::istringstream in(out);
  for (std::string line; std::getline(in, line);) {
    auto j = json::parse(line, nullptr, false);
    CAF_CHECK(!j.is_discarded());
    if (!j.is_discarded()) lines.push_back(std::move(j));
  }
  return lines;
}

// Two nodes and a TTS test backend announced by node A: started once for every test.
struct network {
  std::string dir = temp_dir();
  test_backend tts{"b1", dir};
  std::uint16_t udp = free_udp_port({"127.0.0.2", "127.0.0.3"});
  node_process a{"127.0.0.2", udp, dir + "/a.log",
                 {"--services", "tts/cpu/" + tts.address(), "--announce-interval", "1",
                  "--directory-refresh", "1"}};
  node_process b{"127.0.0.3", udp, dir + "/b.log",
                 {"--neighbours", a.udp_address(), "--directory-refresh", "1"}};
  network() {
    if (!knows_backends_of(a, "tts", 1) || !knows_backends_of(b, "tts", 1))
      throw std::runtime_error("the nodes did not find the TTS backend in time; logs in " + dir);
  }

  /// The network offers `count` backends of `service`, seen from `n` (its /status
  /// shows only what requests made it look up).
  static bool knows_backends_of(const node_process& n, const std::string& service,
                                std::size_t count) {
    return eventually([&] { return offered_backends(n, service) >= count; }, 60s);
  }
};

network& shared_network() {
  static network n;
  return n;
}

struct fixture {
  network& net = shared_network();

  std::string admin_of(const node_process& n) const {
    return n.host + ":" + std::to_string(n.admin_port);
  }

  run_result admin(const node_process& n, std::vector<std::string> args) {
    std::vector<std::string> argv{SOVA_DC_BINARY, "admin", "--connect", admin_of(n)};
    argv.insert(argv.end(), args.begin(), args.end());
    return run(argv, 60s);
  }

  /// The result of one command in --json mode (which must succeed).
  json result(const node_process& n, const std::string& command) {
    auto r = admin(n, {"--json", "-c", command});
    CAF_CHECK_EQUAL(r.status, 0);
    auto lines = json_lines(r.out);
    CAF_REQUIRE_EQUAL(lines.size(), 1u);
    CAF_CHECK(lines[0]["ok"] == true);
    return lines[0]["result"];
  }

  json status(const node_process& n) {
    auto r = http_call(n.host, n.http_port, "GET", "/status");
    CAF_REQUIRE(r.ok);
    return json::parse(r.response.body);
  }

  http::client_result synthesize(const node_process& n) {
    return http_call(n.host, n.http_port, "POST", "/synthesize", "application/json",
                     R"({"text": "hello", "voice": "Natasha"})");
  }
};

}  // namespace

CAF_TEST_FIXTURE_SCOPE(admin_console_tests, fixture)

CAF_TEST(info_in_text_and_json) {
  auto st = status(net.a);
  auto j = result(net.a, "info");
  CAF_CHECK(j["id"] == st["node_id"]);
  CAF_CHECK(j["udp"] == st["udp"]);
  CAF_CHECK(j["http"] == "127.0.0.2:" + std::to_string(net.a.http_port));
  CAF_CHECK(j["admin"] == admin_of(net.a));
  CAF_CHECK(j["pid"] == net.a.proc->pid());
  CAF_CHECK(j["draining"] == false);
  CAF_CHECK(j["uptime_s"].get<double>() > 0);
  auto text = admin(net.a, {"-c", "info"});
  CAF_CHECK_EQUAL(text.status, 0);
  CAF_CHECK(contains(text.out, "id        " + st["node_id"].get<std::string>() + "\n"));
  CAF_CHECK(contains(text.out, "draining  no\n"));
  CAF_CHECK(text.err.empty());
}

CAF_TEST(peers_table_and_ping_see_the_other_node) {
  auto b_id = status(net.b)["node_id"].get<std::string>();
  auto peers = result(net.a, "peers");
  CAF_CHECK(peers["count"] == 1);
  CAF_CHECK(peers["peers"][0]["id"] == b_id);
  CAF_CHECK(peers["peers"][0]["address"] == net.b.udp_address());
  auto table = result(net.a, "table");
  CAF_CHECK(table["size"] == 1);
  CAF_CHECK(table["contacts"][0]["id"] == b_id);
  auto text = admin(net.a, {"-c", "table"});
  CAF_CHECK(contains(text.out, "buckets:\n  bucket  prefix  contacts  replacements  idle_s\n"));
  auto ping = result(net.a, "ping " + net.b.udp_address());
  CAF_CHECK(ping["id"] == b_id);
  CAF_CHECK(ping["rtt_ms"].get<double>() < 5000);
  auto boot = result(net.b, "bootstrap " + net.a.udp_address());
  CAF_CHECK(boot["contacts"].get<int>() >= 1);
}

CAF_TEST(put_through_one_node_get_through_the_other) {
  auto put = result(net.a, "put 'admin test key' 'first value' second");
  CAF_CHECK(put["stored_remote"].get<int>() + put["stored_local"].get<int>() >= 1);
  auto got = result(net.b, "get 'admin test key'");
  CAF_CHECK(got["values"] == (json{"first value", "second"}));
  auto recs = result(net.a, "records 'admin test key'");
  CAF_CHECK(recs["values"] == 2);
  CAF_CHECK(recs["records"][0]["value"] == "first value");
  auto lk = result(net.b, "lookup 'admin test key'");
  CAF_CHECK_EQUAL(lk["closest"].size(), 1u);
  auto missing = admin(net.b, {"-c", "get 'never stored'"});
  CAF_CHECK_EQUAL(missing.status, 1);
  CAF_CHECK(contains(missing.err, "error: nothing is stored under 'never stored'"));
}

CAF_TEST(services_and_stats_after_traffic) {
  auto before = result(net.a, "stats")["http"]["requests"].get<int>();
  for (int i = 0; i < 3; ++i) CAF_CHECK_EQUAL(synthesize(net.a).response.status, 200u);
  auto stats = result(net.a, "stats");
  CAF_CHECK(stats["http"]["requests"].get<int>() == before + 3);
  CAF_CHECK(stats["dht"]["datagrams_in"].get<int>() > 0);
  CAF_CHECK(stats["backends"]["served"].get<int>() >= 3);
  auto svc = result(net.a, "services tts");
  CAF_REQUIRE_EQUAL(svc["tts"].size(), 1u);
  CAF_CHECK(svc["tts"][0]["address"] == net.tts.address());
  CAF_CHECK(svc["tts"][0]["breaker"] == "closed");
  CAF_CHECK(svc["tts"][0]["served"].get<int>() >= 3);
  CAF_CHECK(svc["own"][0]["alive"] == true);
  auto text = admin(net.a, {"-c", "services"});
  CAF_CHECK(contains(text.out, "tts:\n  backend "));
  CAF_CHECK(contains(text.out, "asr  (none)\n"));
}

CAF_TEST(log_level_changes_what_the_node_logs) {
  auto j = result(net.a, "log-level warn");
  CAF_CHECK(j["was"] == "debug");
  CAF_CHECK(result(net.a, "log-level")["level"] == "warn");
  CAF_CHECK(result(net.a, "log-level debug")["level"] == "debug");
  CAF_CHECK(contains(net.a.proc->log(), "log level set to debug by the admin console (was warn)"));
}

CAF_TEST(drain_refuses_new_work_while_work_in_flight_finishes) {
  CAF_REQUIRE(control_backend(net.tts, R"({"delay_ms": 3000})"));
  auto slow = std::async(std::launch::async, [&] { return synthesize(net.a); });
  CAF_REQUIRE(eventually([&] { return status(net.a)["requests_in_flight"] == 1; }, 10s));
  auto d = result(net.a, "drain");
  CAF_CHECK(d["draining"] == true);
  CAF_CHECK(d["in_flight"] == 1);
  auto refused = synthesize(net.a);
  CAF_CHECK_EQUAL(refused.response.status, 503u);
  CAF_CHECK(contains(refused.response.body, "\"draining\""));
  auto health = http_call(net.a.host, net.a.http_port, "GET", "/healthz");
  CAF_CHECK_EQUAL(health.response.status, 503u);
  // A owns the backend: draining, it refuses the requests B forwards too (its backends
  // leave the network with it), and B has no other owner to try.
  auto via_b = synthesize(net.b);
  CAF_CHECK_NOT_EQUAL(via_b.response.status, 200u);
  CAF_CHECK(contains(via_b.response.body, "draining"));
  auto finished = slow.get();
  CAF_CHECK_EQUAL(finished.response.status, 200u);  // the request in flight finished
  CAF_CHECK(status(net.a)["draining"] == true);
  CAF_CHECK(result(net.a, "undrain")["draining"] == false);
  CAF_CHECK_EQUAL(synthesize(net.a).response.status, 200u);
  CAF_CHECK(control_backend(net.tts, R"({"delay_ms": 0})"));
}

CAF_TEST(json_mode_prints_one_object_per_command) {
  auto r = admin(net.a, {"--json", "-c", "info; peers; stats; help get; nonsense"});
  CAF_CHECK_EQUAL(r.status, 2);
  auto lines = json_lines(r.out);
  CAF_REQUIRE_EQUAL(lines.size(), 5u);
  CAF_CHECK(lines[0]["command"] == "info");
  CAF_CHECK(lines[1]["command"] == "peers");
  CAF_CHECK(lines[2]["result"]["http"].is_object() == true);
  CAF_CHECK(contains(lines[3]["result"]["text"].get<std::string>(), "get KEY"));
  CAF_CHECK(lines[4]["ok"] == false);
  CAF_CHECK(lines[4]["error"]["code"] == "unknown_command");
}

CAF_TEST(a_script_stops_at_the_first_failure_unless_keep_going) {
  auto stop = admin(net.a, {"-c", "info; get 'never stored'; peers"});
  CAF_CHECK_EQUAL(stop.status, 1);
  CAF_CHECK(contains(stop.out, "uptime_s"));
  CAF_CHECK(!contains(stop.out, "peers:"));
  auto go = admin(net.a, {"--keep-going", "-c", "info; get 'never stored'; peers"});
  CAF_CHECK_EQUAL(go.status, 1);
  CAF_CHECK(contains(go.out, "peers:"));
  auto path = net.dir + "/checks.txt";
  std::ofstream(path) << "# a check script\ninfo\n\nget 'never stored'  # fails\npeers\n";
  auto file = admin(net.a, {"--script", path});
  CAF_CHECK_EQUAL(file.status, 1);
  CAF_CHECK(contains(file.err, "error: line 4: nothing is stored"));
  auto piped = run({"/bin/sh", "-c",
                    "printf 'info\\npeers\\n' | " + std::string(SOVA_DC_BINARY) +
                        " admin --connect " + admin_of(net.a)},
                   60s);
  CAF_CHECK_EQUAL(piped.status, 0);
  CAF_CHECK(contains(piped.out, "uptime_s") && contains(piped.out, "peers:"));
}

CAF_TEST(on_a_terminal_the_console_edits_completes_and_keeps_history) {
  // script(1) gives the console a pseudo-terminal; Tab completes "inf" and "pe".
  auto home = temp_dir();
  auto typed = "(printf 'inf\\t\\n'; sleep 0.5; printf 'pe\\t\\n'; sleep 0.5; printf 'quit\\n')";
  auto r = run({"/bin/sh", "-c",
                std::string(typed) + " | HOME=" + home + " TERM=xterm script -qfec '" +
                    SOVA_DC_BINARY + " admin --connect " + admin_of(net.a) + "' /dev/null"},
               60s);
  CAF_CHECK_EQUAL(r.status, 0);
  CAF_CHECK(contains(r.out, "connected to the node's admin port at " + admin_of(net.a)));
  CAF_CHECK(contains(r.out, "sova-dc " + admin_of(net.a) + "> "));
  CAF_CHECK(contains(r.out, "uptime_s"));  // info ran
  CAF_CHECK(contains(r.out, "count  1"));  // peers ran
  auto history = apps::read_file(home + "/.sova_dc_admin_history");
  CAF_CHECK(contains(history, "info"));
  CAF_CHECK(contains(history, "peers"));
}

CAF_TEST(wrong_address_bad_command_and_bad_arguments) {
  auto port = free_tcp_port({"127.0.0.1"});
  auto nobody = run({SOVA_DC_BINARY, "admin", "--connect", "127.0.0.1:" + std::to_string(port),
                     "-c", "info"},
                    60s);
  CAF_CHECK_EQUAL(nobody.status, 1);
  CAF_CHECK(contains(nobody.err, "no node is listening for admin connections at 127.0.0.1:"));
  auto nobody_json = run({SOVA_DC_BINARY, "admin", "--connect",
                          "127.0.0.1:" + std::to_string(port), "--json", "-c", "info"},
                         60s);
  CAF_CHECK_EQUAL(nobody_json.status, 1);
  CAF_CHECK(contains(nobody_json.out, R"("code":"connection")"));
  // Checked before any connection: no node needed.
  auto typo = run({SOVA_DC_BINARY, "admin", "--connect", "127.0.0.1:" + std::to_string(port),
                   "-c", "peer"},
                  60s);
  CAF_CHECK_EQUAL(typo.status, 2);
  CAF_CHECK(contains(typo.err, "unknown command 'peer'; did you mean 'peers'?"));
  auto help = run({SOVA_DC_BINARY, "admin", "--connect", "127.0.0.1:" + std::to_string(port),
                   "-c", "help"},
                  60s);
  CAF_CHECK_EQUAL(help.status, 0);
  CAF_CHECK(contains(help.out, "drain"));
  auto arity = admin(net.a, {"-c", "get"});
  CAF_CHECK_EQUAL(arity.status, 2);
  CAF_CHECK(contains(arity.err, "usage: get KEY"));
  auto bad_key = admin(net.a, {"-c", "records 0xabc"});
  CAF_CHECK_EQUAL(bad_key.status, 2);
  CAF_CHECK(contains(bad_key.err, "bad KEY '0xabc'"));
  auto bad_quote = admin(net.a, {"-c", "get 'open"});
  CAF_CHECK_EQUAL(bad_quote.status, 2);
  CAF_CHECK(contains(bad_quote.err, "unterminated"));
  auto bad_connect = run({SOVA_DC_BINARY, "admin", "--connect", "127.0.0.1", "-c", "info"}, 60s);
  CAF_CHECK_EQUAL(bad_connect.status, 2);
  CAF_CHECK(contains(bad_connect.err, "--connect needs HOST:PORT"));
  auto bad_flag = run({SOVA_DC_BINARY, "admin", "--bogus"}, 60s);
  CAF_CHECK_EQUAL(bad_flag.status, 2);
}

CAF_TEST(the_admin_port_allocates_nothing_a_client_announces_and_refuses_browsers) {
  auto rss_kib = [&] {
    std::ifstream in("/proc/" + std::to_string(net.a.proc->pid()) + "/status");
    for (std::string line; std::getline(in, line);)
      if (line.rfind("VmRSS:", 0) == 0) return std::atol(line.c_str() + 6);
    return 0L;
  };
  auto before = rss_kib();
  // What made CAF's middleman allocate 1 GiB: a 32-byte header announcing that payload.
  std::string announce(32, '\0');
  announce[4] = '\x40';  // payload_len (bytes 4-7, big-endian): 0x40000000
  auto reply = raw_exchange(net.a.host, net.a.admin_port, announce + "more bytes", 5s);
  CAF_CHECK(contains(reply, "HTTP/1.1 400"));
  auto huge = raw_exchange(net.a.host, net.a.admin_port,
                           "POST /command HTTP/1.1\r\nHost: " + admin_of(net.a) +
                               "\r\nContent-Type: application/json\r\n"
                               "Content-Length: 1073741824\r\n\r\n{",
                           5s);
  CAF_CHECK(contains(huge, "HTTP/1.1 413"));
  auto grown = rss_kib() - before;
  CAF_MESSAGE("RSS grew by " << grown << " KiB");
  CAF_CHECK_LESS(grown, 16 * 1024L);

  auto call = [&](std::vector<std::pair<std::string, std::string>> headers,
                  const std::string& type) {
    return http_call(net.a.host, net.a.admin_port, "POST", "/command", type,
                     R"({"command": "drain", "args": []})", 10s, std::move(headers));
  };
  auto from_page = call({{"Origin", "http://example.org"}}, "application/json");
  CAF_CHECK_EQUAL(from_page.response.status, 403u);
  // A page whose name was rebound to the node's address sends that name as Host.
  auto rebound = raw_exchange(net.a.host, net.a.admin_port,
                              "POST /command HTTP/1.1\r\nHost: attacker.example:" +
                                  std::to_string(net.a.admin_port) +
                                  "\r\nContent-Type: application/json\r\nContent-Length: 19"
                                  "\r\nConnection: close\r\n\r\n{\"command\":\"drain\"}",
                              5s);
  CAF_CHECK(contains(rebound, "HTTP/1.1 403"));
  auto form = call({}, "text/plain");
  CAF_CHECK_EQUAL(form.response.status, 415u);
  // None of them drained the node.
  auto served = synthesize(net.a);
  CAF_CHECK_EQUAL(served.response.status, 200u);
}

CAF_TEST(an_admin_port_in_use_stops_the_node_with_a_message) {
  auto clash = run({SOVA_DC_BINARY, "node", "--bind", "127.0.0.2", "--port", "0", "--http-port",
                    "0", "--admin-port", std::to_string(net.a.admin_port)},
                   60s);
  CAF_CHECK_EQUAL(clash.status, 1);
  CAF_CHECK(contains(clash.err, "cannot open the admin port 127.0.0.2:" +
                               std::to_string(net.a.admin_port)));
}

CAF_TEST_FIXTURE_SCOPE_END()
