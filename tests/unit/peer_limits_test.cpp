// The pure bounds a node puts on what peers can make it do: token buckets by address,
// remembered sets with a lifetime and a size, and the inbound gate in front of the
// transport (per-address request rate, bounded backlog).
#define CAF_SUITE peer_limits
#include "caf/test/unit_test.hpp"

#include <chrono>
#include <string>

#include "net/inbound_gate.hpp"
#include "net/rate_limiter.hpp"
#include "net/recent_set.hpp"

using namespace sova::net;
using namespace std::chrono_literals;

namespace {

const steady_time t0 = steady_time{} + 1000h;

std::string request(std::size_t size) { return std::string(1, '\0') + std::string(size - 1, 'x'); }
std::string reply(std::size_t size) { return std::string(1, '\1') + std::string(size - 1, 'x'); }

}  // namespace

CAF_TEST(a_key_spends_its_burst_then_its_rate) {
  rate_limiter limit({10, 20}, 100);
  int taken = 0;
  for (int i = 0; i < 100; ++i) taken += limit.take("a", t0);
  CAF_CHECK_EQUAL(taken, 20);
  CAF_CHECK(!limit.take("a", t0 + 50ms));   // half a token back
  CAF_CHECK(limit.take("a", t0 + 150ms));   // one and a half
  CAF_CHECK(limit.take("b", t0));           // other keys keep their own bucket
  taken = 0;
  for (int i = 0; i < 100; ++i) taken += limit.take("a", t0 + 10s);
  CAF_CHECK_EQUAL(taken, 20);  // never more than the burst, however long it waited
}

CAF_TEST(the_limiter_remembers_a_bounded_number_of_keys) {
  rate_limiter limit({1, 2}, 50);
  for (int i = 0; i < 10000; ++i) limit.take("host" + std::to_string(i), t0);
  CAF_CHECK_LESS_OR_EQUAL(limit.tracked(), 50u);
  // When every bucket is in use, the least recently seen key goes: a flooding address
  // is the most recently seen one, so it keeps its empty bucket.
  rate_limiter busy({1, 2}, 2);
  busy.take("quiet", t0);
  for (int i = 0; i < 10; ++i) busy.take("flood", t0 + 1ms);
  CAF_CHECK(busy.take("new", t0 + 2ms));
  CAF_CHECK_EQUAL(busy.tracked(), 2u);
  CAF_CHECK(!busy.take("flood", t0 + 3ms));
}

CAF_TEST(a_recent_set_forgets_after_its_lifetime_and_keeps_at_most_its_size) {
  recent_set<std::string> seen(10s, 3);
  seen.insert("a", t0);
  CAF_CHECK(seen.contains("a", t0 + 9s));
  CAF_CHECK(!seen.contains("a", t0 + 10s));
  seen.insert("a", t0 + 5s);  // inserting again renews it
  CAF_CHECK(seen.contains("a", t0 + 14s));
  seen.insert("b", t0 + 6s);
  seen.insert("c", t0 + 7s);
  seen.insert("d", t0 + 8s);  // full: the oldest ("a") goes
  CAF_CHECK_EQUAL(seen.size(), 3u);
  CAF_CHECK(!seen.contains("a", t0 + 8s));
  CAF_CHECK(seen.contains("b", t0 + 8s));
  CAF_CHECK(seen.contains("d", t0 + 8s));
  for (int i = 0; i < 1000; ++i) seen.insert("k" + std::to_string(i), t0 + 9s);
  CAF_CHECK_EQUAL(seen.size(), 3u);
  seen.erase("k999");
  CAF_CHECK(!seen.contains("k999", t0 + 9s));
  CAF_CHECK_EQUAL(seen.size(), 2u);
}

CAF_TEST(the_gate_rate_limits_requests_per_address_but_not_replies) {
  inbound_limits l;
  l.requests_per_host = {100, 400};
  inbound_gate gate(l);
  int admitted = 0;
  for (int i = 0; i < 1000; ++i) {
    if (gate.admit("198.51.100.1", request(60), t0) == inbound_verdict::admit) {
      ++admitted;
      gate.handled("198.51.100.1", 60);
    }
  }
  CAF_CHECK_EQUAL(admitted, 400);
  CAF_CHECK_EQUAL(gate.rate_limited(), 600u);
  // Another address is served; replies from the flooding one still pass (they answer
  // our own calls, which we bound ourselves).
  CAF_CHECK(gate.admit("198.51.100.2", request(60), t0) == inbound_verdict::admit);
  CAF_CHECK(gate.admit("198.51.100.1", reply(60), t0) == inbound_verdict::admit);
  gate.handled("198.51.100.2", 60);
  gate.handled("198.51.100.1", 60);
  // A second later the address has 100 more.
  admitted = 0;
  for (int i = 0; i < 1000; ++i)
    if (gate.admit("198.51.100.1", request(60), t0 + 1s) == inbound_verdict::admit) {
      ++admitted;
      gate.handled("198.51.100.1", 60);
    }
  CAF_CHECK_EQUAL(admitted, 100);
  CAF_CHECK_EQUAL(gate.backlog_bytes(), 0u);
}

CAF_TEST(the_gate_holds_a_bounded_backlog_and_frees_it_as_datagrams_are_handled) {
  inbound_limits l;
  l.requests_per_host = {1e9, 1e9};
  l.max_backlog_bytes = 64 * 1024;
  l.max_backlog_per_host = 64 * 1024;
  l.min_charge = 512;
  inbound_gate gate(l);
  // Tiny datagrams count as min_charge: 128 fit.
  int admitted = 0;
  for (int i = 0; i < 10000; ++i)
    admitted += gate.admit("h" + std::to_string(i % 200), request(22), t0) == inbound_verdict::admit;
  CAF_CHECK_EQUAL(admitted, 128);
  CAF_CHECK_EQUAL(gate.backlog_full(), 10000u - 128u);
  CAF_CHECK_EQUAL(gate.backlog_bytes(), 64u * 1024u);
  for (int i = 0; i < 28; ++i) gate.handled("h" + std::to_string(i), 22);
  // Large ones count as their size.
  CAF_CHECK(gate.admit("x", reply(8192), t0) == inbound_verdict::admit);
  CAF_CHECK(gate.admit("x", reply(8192), t0) == inbound_verdict::backlog_full);
  for (int i = 28; i < 128; ++i) gate.handled("h" + std::to_string(i), 22);
  gate.handled("x", 8192);
  CAF_CHECK_EQUAL(gate.backlog_bytes(), 0u);
  // Giving back what was never admitted changes nothing.
  gate.handled("nobody", 8192);
  CAF_CHECK_EQUAL(gate.backlog_bytes(), 0u);
}

CAF_TEST(one_address_holds_only_its_share_of_the_backlog) {
  inbound_limits l;
  l.requests_per_host = {1e9, 1e9};
  l.max_backlog_bytes = 64 * 1024;
  l.max_backlog_per_host = 8 * 1024;
  l.min_charge = 512;
  inbound_gate gate(l);
  int admitted = 0;
  for (int i = 0; i < 1000; ++i)
    admitted += gate.admit("flood", reply(100), t0) == inbound_verdict::admit;
  CAF_CHECK_EQUAL(admitted, 16);  // 8 KiB of 512-byte charges
  // Everybody else still gets in.
  CAF_CHECK(gate.admit("honest", request(60), t0) == inbound_verdict::admit);
  gate.handled("flood", 100);
  CAF_CHECK(gate.admit("flood", reply(100), t0) == inbound_verdict::admit);
}
