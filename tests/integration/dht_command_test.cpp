// `sova-dc dht get|put --timeout N` through the real binary: it always exits by its
// timeout (plus a little) with a message that says what happened: nobody answered,
// neighbours answered but the lookup did not finish, not found, stored.
#define CAF_SUITE integration_dht_command
#include "caf/test/unit_test.hpp"

#include <csignal>
#include <memory>

#include "process.hpp"

using namespace sova::testing;
using namespace std::chrono_literals;

namespace {

const std::string binary = SOVA_DC_BINARY;

std::string host(int i) { return "127.0.0." + std::to_string(40 + i); }

/// How long past its --timeout the command may take, in ms: its own grace (1 s) plus
/// the start of a sanitizer build on a busy machine.
constexpr long slack = 3000;

struct timed_run {
  run_result r;
  long took;  // ms
};

/// `sova-dc dht ARGS --bind <client host>` with a generous kill limit; how long it took.
timed_run dht(std::vector<std::string> args, const std::string& client_host = host(9)) {
  std::vector<std::string> argv{binary, "dht"};
  argv.insert(argv.end(), args.begin(), args.end());
  argv.push_back("--bind");
  argv.push_back(client_host);
  auto start = std::chrono::steady_clock::now();
  auto r = run(argv, 60s);
  auto took = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::steady_clock::now() - start);
  return {std::move(r), static_cast<long>(took.count())};
}

/// A `sova-dc node` on `h`, up (and joined, with neighbours) before this returns.
std::unique_ptr<child_process> start_node(const std::string& h, unsigned short port,
                                          const std::string& dir,
                                          const std::string& neighbour = {}) {
  std::vector<std::string> argv{binary,        "node", "--bind", h,   "--port", std::to_string(port),
                                "--http-port", "0",    "--admin-port", "0", "--log-level", "debug"};
  if (!neighbour.empty()) {
    argv.push_back("--neighbours");
    argv.push_back(neighbour);
  }
  auto n = std::make_unique<child_process>(argv, dir + "/" + h + ".log");
  const char* ready = neighbour.empty() ? "listening on udp" : "bootstrap done";
  CAF_REQUIRE(eventually([&] { return contains(n->log(), ready); }, 30s));
  return n;
}

}  // namespace

CAF_TEST(nobody_listening_fails_by_the_timeout) {
  auto port = free_udp_port({host(0)});
  auto nobody = host(0) + ":" + std::to_string(port);
  for (int i = 0; i < 3; ++i) {
    auto get = dht({"get", "asr/cpu", "--neighbours", nobody, "--timeout", "2"});
    CAF_CHECK_EQUAL(get.r.status, 1);
    CAF_CHECK(contains(get.r.err, "no neighbour answered within 2s"));
    CAF_CHECK(contains(get.r.err, nobody));
    CAF_CHECK_LESS(get.took, 2000 + slack);
    CAF_MESSAGE("nobody: exited after " << get.took << " ms");
  }
  // Every ping failed before the deadline: said so at once.
  auto early = dht({"put", "asr/cpu", "asr/cpu/192.0.2.1:8888", "--neighbours", nobody,
                    "--timeout", "20", "--rpc-timeout", "0.5"});
  CAF_CHECK_EQUAL(early.r.status, 1);
  CAF_CHECK(contains(early.r.err, "no neighbour answered within 0.5s"));
  CAF_CHECK_LESS(early.took, 500 + slack);
}

CAF_TEST(a_real_node_answers_gets_and_puts_by_the_timeout) {
  auto dir = temp_dir();
  auto port = free_udp_port({host(0)});
  auto a = start_node(host(0), port, dir);
  auto via = host(0) + ":" + std::to_string(port);
  // Each run leaves its short-lived node in a's table; later lookups ask it in vain.
  for (int i = 0; i < 4; ++i) {
    auto missing = dht({"get", "test/missing", "--neighbours", via, "--timeout", "8",
                        "--rpc-timeout", "1"});
    CAF_CHECK_EQUAL(missing.r.status, 1);
    CAF_CHECK(contains(missing.r.err, "not found: no value under"));
    CAF_CHECK(!contains(missing.r.err, "no neighbour answered"));
    CAF_CHECK_LESS(missing.took, 8000 + slack);
    CAF_MESSAGE("not found: exited after " << missing.took << " ms");
  }
  auto put = dht({"put", "tts/cpu", "tts/cpu/192.0.2.1:8080", "--neighbours", via, "--timeout",
                  "8", "--rpc-timeout", "1"});
  CAF_CHECK_EQUAL(put.r.status, 0);
  CAF_CHECK(contains(put.r.out, "stored on 1 of 1 peer(s)"));
  CAF_CHECK_LESS(put.took, 8000 + slack);
  auto get = dht({"get", "tts/cpu", "--neighbours", via, "--timeout", "8", "--rpc-timeout", "1"});
  CAF_CHECK_EQUAL(get.r.status, 0);
  CAF_CHECK_EQUAL(get.r.out, "tts/cpu/192.0.2.1:8080\n");
  CAF_CHECK_LESS(get.took, 8000 + slack);
  // One address holds at most 4 values of a key on a peer: 1 + 4 more is refused whole.
  std::vector<std::string> more{"put", "tts/cpu"};
  for (int i = 2; i <= 5; ++i) more.push_back("tts/cpu/192.0.2." + std::to_string(i) + ":8080");
  for (std::string a : {"--neighbours", via.c_str(), "--timeout", "8", "--rpc-timeout", "1"})
    more.push_back(a);
  auto over = dht(more);
  CAF_CHECK_EQUAL(over.r.status, 1);
  CAF_CHECK(contains(over.r.out, "stored on 0 of 1 peer(s)"));
  CAF_CHECK(contains(over.r.err, "no peer stored it"));
  more.erase(more.begin() + 5);  // 1 + 3: within the share
  auto within = dht(more);
  CAF_CHECK_EQUAL(within.r.status, 0);
  CAF_CHECK(contains(within.r.out, "stored on 1 of 1 peer(s)"));
  a->signal(SIGTERM);
  CAF_CHECK_EQUAL(a->wait_for(10s).value_or(-1), 0);
}

CAF_TEST(neighbours_answered_but_the_lookup_did_not_finish) {
  // b joined through a, then died: a still names it, and asking it takes the whole
  // --rpc-timeout (5 s), longer than the command's --timeout.
  auto dir = temp_dir();
  auto port = free_udp_port({host(0), host(1)});
  auto a = start_node(host(0), port, dir);
  auto via = host(0) + ":" + std::to_string(port);
  auto b = start_node(host(1), port, dir, via);
  b->signal(SIGKILL);
  CAF_REQUIRE(b->wait_for(10s).has_value());
  for (int i = 0; i < 3; ++i) {
    auto get = dht({"get", "test/slow", "--neighbours", via, "--timeout", "2"});
    CAF_CHECK_EQUAL(get.r.status, 1);
    CAF_CHECK(contains(get.r.err, "answered but the lookup of test/slow did not finish within 2s"));
    CAF_CHECK(!contains(get.r.err, "no neighbour answered"));
    CAF_CHECK_LESS(get.took, 2000 + slack);
    CAF_MESSAGE("slow lookup: exited after " << get.took << " ms");
  }
  auto put = dht({"put", "test/slow", "v", "--neighbours", via, "--timeout", "2"});
  CAF_CHECK_EQUAL(put.r.status, 1);
  CAF_CHECK(contains(put.r.err, "answered but storing under test/slow did not finish within 2s"));
  CAF_CHECK_LESS(put.took, 2000 + slack);
  a->signal(SIGTERM);
  CAF_CHECK_EQUAL(a->wait_for(10s).value_or(-1), 0);
}
