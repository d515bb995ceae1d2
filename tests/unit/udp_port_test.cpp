// The real UDP port on loopback: datagrams both ways, bind errors that name the
// address, and --neighbours resolution (names, IPs, bad entries).
#define CAF_SUITE udp_port
#include "caf/test/unit_test.hpp"

#include <condition_variable>
#include <mutex>

#include "net/udp_port.hpp"

using namespace sova::net;

namespace {

/// Collects what a port receives, for the test thread to wait on.
struct inbox {
  std::mutex m;
  std::condition_variable cv;
  std::vector<std::pair<endpoint, std::string>> got;

  udp_port::receive_handler handler() {
    return [this](const endpoint& from, std::string d) {
      std::lock_guard<std::mutex> lock(m);
      got.emplace_back(from, std::move(d));
      cv.notify_all();
    };
  }
  bool wait_for(std::size_t n) {
    std::unique_lock<std::mutex> lock(m);
    return cv.wait_for(lock, std::chrono::seconds(5), [&] { return got.size() >= n; });
  }
};

}  // namespace

CAF_TEST(datagrams_travel_both_ways_with_the_sender_address) {
  inbox a_in, b_in;
  auto a = udp_port::bind("127.0.0.1", 0);
  auto b = udp_port::bind("127.0.0.1", 0);
  CAF_REQUIRE_NOT_EQUAL(a->local_endpoint().port, 0);
  a->start(a_in.handler());
  b->start(b_in.handler());
  std::string binary("\x00\x01\xff payload", 11);
  a->send(b->local_endpoint(), binary);
  CAF_REQUIRE(b_in.wait_for(1));
  CAF_CHECK_EQUAL(b_in.got[0].second, binary);
  CAF_CHECK_EQUAL(b_in.got[0].first.to_string(), a->local_endpoint().to_string());
  b->send(b_in.got[0].first, "reply");
  CAF_REQUIRE(a_in.wait_for(1));
  CAF_CHECK_EQUAL(a_in.got[0].second, "reply");
  a->stop();
  a->stop();  // idempotent
  b->stop();
}

CAF_TEST(a_port_in_use_or_a_bad_address_is_an_error_naming_it) {
  auto a = udp_port::bind("127.0.0.1", 0);
  auto port = a->local_endpoint().port;
  std::string what;
  try {
    udp_port::bind("127.0.0.1", port);
  } catch (const std::runtime_error& e) {
    what = e.what();
  }
  CAF_CHECK(what.find("cannot bind UDP 127.0.0.1:" + std::to_string(port)) != std::string::npos);
  what.clear();
  try {
    udp_port::bind("not-an-ip", 0);
  } catch (const std::runtime_error& e) {
    what = e.what();
  }
  CAF_CHECK(what.find("bad bind address 'not-an-ip'") != std::string::npos);
}

CAF_TEST(neighbours_resolve_names_and_ips_and_report_bad_entries) {
  std::vector<std::string> bad;
  auto eps = resolve_endpoints({"127.0.0.2:5678", "localhost:7001", "[::1]:5678", "x", "h:0"},
                               &bad);
  CAF_REQUIRE_EQUAL(eps.size(), 3u);
  CAF_CHECK_EQUAL(eps[0].to_string(), "127.0.0.2:5678");
  CAF_CHECK_EQUAL(eps[1].to_string(), "127.0.0.1:7001");  // IPv4 preferred
  CAF_CHECK_EQUAL(eps[2].to_string(), "[::1]:5678");
  CAF_CHECK_EQUAL(bad, (std::vector<std::string>{"x", "h:0"}));
}
