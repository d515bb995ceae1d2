// Five real `sova-dc node` processes on 127.0.0.2-127.0.0.6 (one port, free at start):
// records stored through one node are found through another; bad input to the
// command line gives exit 2; SIGTERM stops every node with status 0.
#define CAF_SUITE integration_five_nodes
#include "caf/test/unit_test.hpp"

#include <csignal>
#include <memory>

#include "process.hpp"

using namespace sova::testing;
using namespace std::chrono_literals;

namespace {

const std::string binary = SOVA_DC_BINARY;

std::string host(int i) { return "127.0.0." + std::to_string(i + 2); }  // node i: 127.0.0.(i+2)

struct network {
  unsigned short port;
  std::string dir = temp_dir();
  std::vector<std::unique_ptr<child_process>> nodes;

  network() : port(free_udp_port({host(0), host(1), host(2), host(3), host(4), host(5), host(6)})) {}

  std::string addr(int i) const { return host(i) + ":" + std::to_string(port); }

  void start(int n) {
    for (int i = 0; i < n; ++i) {
      std::vector<std::string> argv{binary, "node", "--bind", host(i), "--port",
                                    std::to_string(port), "--http-port", "0", "--admin-port", "0",
                                    "--log-level", "debug"};
      if (i > 0) {
        argv.push_back("--neighbours");
        argv.push_back(addr(i - 1));  // a chain: each joins through the one before
      }
      nodes.push_back(std::make_unique<child_process>(argv, dir + "/node" + std::to_string(i) + ".log"));
      // Wait until it is up (and, after the first, joined) before the next starts.
      const char* ready = i == 0 ? "listening on udp" : "bootstrap done";
      CAF_REQUIRE(eventually([&] { return nodes.back()->log().find(ready) != std::string::npos; }, 20s));
    }
  }

  /// A short-lived client node on `client_host`, joining through node `via`.
  run_result dht(const std::string& action, int via, const std::string& client_host,
                 std::vector<std::string> args) {
    std::vector<std::string> argv{binary, "dht", action};
    argv.insert(argv.end(), args.begin(), args.end());
    for (std::string a : {"--bind", client_host.c_str(), "--neighbours"}) argv.push_back(a);
    argv.push_back(addr(via));
    argv.push_back("--rpc-timeout");
    argv.push_back("1");
    return run(argv, 60s);
  }
};

}  // namespace

CAF_TEST(records_stored_through_one_node_are_found_through_another) {
  network net;
  net.start(5);
  auto put = net.dht("put", 0, host(5), {"asr/cpu", "asr/cpu/192.0.2.10:8888"});
  CAF_CHECK_EQUAL(put.status, 0);
  CAF_CHECK(put.out.find("stored on 5 of 5 peer(s)") != std::string::npos);

  auto get = net.dht("get", 4, host(6), {"asr/cpu"});
  CAF_CHECK_EQUAL(get.status, 0);
  CAF_CHECK_EQUAL(get.out, "asr/cpu/192.0.2.10:8888\n");

  // A second value through another node joins the set.
  auto put2 = net.dht("put", 2, host(5), {"asr/cpu", "asr/cpu/192.0.2.11:8888"});
  CAF_CHECK_EQUAL(put2.status, 0);
  auto both = net.dht("get", 1, host(6), {"asr/cpu"});
  CAF_CHECK_EQUAL(both.status, 0);
  CAF_CHECK(both.out.find("asr/cpu/192.0.2.10:8888\n") != std::string::npos);
  CAF_CHECK(both.out.find("asr/cpu/192.0.2.11:8888\n") != std::string::npos);

  auto missing = net.dht("get", 3, host(6), {"tts/gpu"});
  CAF_CHECK_EQUAL(missing.status, 1);
  CAF_CHECK(missing.err.find("not found") != std::string::npos);

  for (auto& n : net.nodes) n->signal(SIGTERM);
  for (auto& n : net.nodes) {
    auto status = n->wait_for(10s);
    CAF_REQUIRE(status.has_value());
    CAF_CHECK_EQUAL(*status, 0);
    CAF_CHECK(n->log().find("SIGTERM received: stopping") != std::string::npos);
  }
}

CAF_TEST(a_client_with_nobody_to_join_fails_with_a_clear_message) {
  auto port = free_udp_port({host(0)});
  auto r = run({binary, "dht", "get", "asr/cpu", "--bind", host(5), "--neighbours",
                host(0) + ":" + std::to_string(port), "--rpc-timeout", "0.5"},
               30s);
  CAF_CHECK_EQUAL(r.status, 1);
  CAF_CHECK(r.err.find("no neighbour answered") != std::string::npos);
}

CAF_TEST(bad_command_lines_exit_with_status_2) {
  auto bad_neighbour = run({binary, "node", "--bind", host(0), "--neighbours", "nonsense"}, 30s);
  CAF_CHECK_EQUAL(bad_neighbour.status, 2);
  CAF_CHECK(bad_neighbour.err.find("'nonsense' is not HOST:PORT with a port 1-65535") != std::string::npos);
  auto bad_port = run({binary, "node", "--port", "70000"}, 30s);
  CAF_CHECK_EQUAL(bad_port.status, 2);
  auto bad_level = run({binary, "node", "--log-level", "chatty"}, 30s);
  CAF_CHECK_EQUAL(bad_level.status, 2);
  auto no_command = run({binary}, 30s);
  CAF_CHECK_EQUAL(no_command.status, 2);
  auto help = run({binary, "node", "--help"}, 30s);
  CAF_CHECK_EQUAL(help.status, 0);
  CAF_CHECK(help.out.find("--neighbours") != std::string::npos);
}

CAF_TEST(a_port_in_use_is_reported_and_the_node_exits_1) {
  auto port = free_udp_port({host(0)});
  child_process first({binary, "node", "--bind", host(0), "--port", std::to_string(port), "--http-port", "0", "--admin-port", "0"},
                      temp_dir() + "/first.log");
  CAF_REQUIRE(eventually([&] { return first.log().find("listening on udp") != std::string::npos; }, 20s));
  auto second = run({binary, "node", "--bind", host(0), "--port", std::to_string(port), "--http-port", "0", "--admin-port", "0"}, 30s);
  CAF_CHECK_EQUAL(second.status, 1);
  CAF_CHECK(second.err.find("cannot bind UDP") != std::string::npos);
  first.signal(SIGINT);
  CAF_CHECK_EQUAL(first.wait_for(10s).value_or(-1), 0);
}
