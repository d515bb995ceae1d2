#define CAF_SUITE record_store_share
#include "caf/test/unit_test.hpp"

// Who may hold a key's values: one address holds a small share, idle values make
// room for new ones, values that keep being refreshed stay (net/record_store.hpp).

#include <chrono>
#include <string>
#include <vector>

#include "net/record_store.hpp"

using namespace sova::net;
using namespace std::chrono_literals;

namespace {

const steady_time t0 = steady_time{} + 1000h;
const node_id tts_cpu = node_id::digest("tts/cpu");

using strings = std::vector<std::string>;

int as_int(store_status s) {
  return static_cast<int>(s);
}

const int stored = as_int(store_status::stored);
const int full = as_int(store_status::too_many_values);
const int over_share = as_int(store_status::too_many_from_source);

/// The address of source i (distinct for every i).
std::string addr(int i) {
  return "10.0." + std::to_string(i / 250) + "." + std::to_string(i % 250 + 1);
}

/// The n-th backend announced from source i.
std::string value_of(int i, int n) {
  return "tts/cpu/" + addr(i) + ":" + std::to_string(8000 + n);
}

struct fixture {
  record_store rs{store_limits{}, 3600s};

  int store(const strings& values, steady_time at, const std::string& source = {}) {
    return as_int(rs.store(tts_cpu, values, at, source));
  }

  /// The source a value is held for, or "<absent>".
  std::string source_of(const std::string& value) const {
    auto rec = rs.records().find(tts_cpu);
    if (rec == rs.records().end()) return "<absent>";
    for (const auto& h : rec->second)
      if (h.value == value) return h.source;
    return "<absent>";
  }

  bool holds(const std::string& value) const { return source_of(value) != "<absent>"; }

  std::size_t held() const {
    auto rec = rs.records().find(tts_cpu);
    return rec == rs.records().end() ? 0 : rec->second.size();
  }

  std::size_t held_from(const std::string& source) const {
    std::size_t n = 0;
    if (auto rec = rs.records().find(tts_cpu); rec != rs.records().end())
      for (const auto& h : rec->second) n += h.source == source ? 1 : 0;
    return n;
  }

  /// Expiry of a held value, as seconds after t0.
  long expires_s(const std::string& value) const {
    for (const auto& h : rs.records().at(tts_cpu))
      if (h.value == value)
        return std::chrono::duration_cast<std::chrono::seconds>(h.expires - t0).count();
    return -1;
  }
};

}  // namespace

CAF_TEST_FIXTURE_SCOPE(record_store_share_tests, fixture)

CAF_TEST(one source cannot squat a key) {
  int accepted = 0;
  for (int n = 0; n < 64; ++n)
    if (store({value_of(1, n)}, t0, addr(1)) == stored) ++accepted;
  CAF_CHECK_EQUAL(accepted, 4);
  CAF_CHECK_EQUAL(store({value_of(1, 99)}, t0, addr(1)), over_share);
  // Its values stay and refreshing them is fine; everybody else still gets in.
  CAF_CHECK_EQUAL(store({value_of(1, 0), value_of(1, 3)}, t0 + 1s, addr(1)), stored);
  CAF_CHECK_EQUAL(store({value_of(2, 0)}, t0 + 1s, addr(2)), stored);
  CAF_CHECK_EQUAL(held(), 5u);
  CAF_CHECK_EQUAL(source_of(value_of(2, 0)), addr(2));
  CAF_CHECK_EQUAL(held_from(addr(1)), 4u);
}

CAF_TEST(a batch over the share is refused as a whole) {
  strings five;
  for (int n = 0; n < 5; ++n) five.push_back(value_of(1, n));
  CAF_CHECK_EQUAL(store(five, t0, addr(1)), over_share);
  CAF_CHECK(!rs.get(tts_cpu, t0));
  CAF_CHECK_EQUAL(store({value_of(1, 0), value_of(1, 1)}, t0, addr(1)), stored);
  // Two held plus three new: refused, and the held one in it is not refreshed.
  CAF_CHECK_EQUAL(store({value_of(1, 0), value_of(1, 2), value_of(1, 3), value_of(1, 4)},
                        t0 + 10s, addr(1)),
                  over_share);
  CAF_CHECK_EQUAL(held(), 2u);
  CAF_CHECK_EQUAL(expires_s(value_of(1, 0)), 3600);
  // Repeats inside a batch count once.
  CAF_CHECK_EQUAL(
      store({value_of(1, 2), value_of(1, 2), value_of(1, 3), value_of(1, 0)}, t0 + 10s, addr(1)),
      stored);
  CAF_CHECK_EQUAL(held(), 4u);
  CAF_CHECK_EQUAL(expires_s(value_of(1, 0)), 3610);
}

CAF_TEST(our own stores are not limited by the share) {
  for (int n = 0; n < 64; ++n)
    if (store({value_of(0, n)}, t0) != stored) CAF_FAIL("own store " << n << " refused");
  CAF_CHECK_EQUAL(source_of(value_of(0, 5)), "");
  CAF_CHECK_EQUAL(store({value_of(0, 0)}, t0 + 500s), stored);  // refreshed
  // A key full of values refreshed within 15 minutes: a newcomer waits.
  CAF_CHECK_EQUAL(store({value_of(1, 0)}, t0 + 899s, addr(1)), full);
  // At 15 minutes (a quarter of the TTL) the least recently refreshed goes first.
  CAF_CHECK_EQUAL(store({value_of(1, 0)}, t0 + 900s, addr(1)), stored);
  CAF_CHECK(!holds(value_of(0, 1)));
  CAF_CHECK(holds(value_of(0, 0)));
  CAF_CHECK(holds(value_of(0, 2)));
  CAF_CHECK_EQUAL(held(), 64u);
  // Our own new values make room the same way, never past the bound.
  CAF_CHECK_EQUAL(store({"own/a", "own/b"}, t0 + 900s), stored);
  CAF_CHECK(!holds(value_of(0, 2)) && !holds(value_of(0, 3)) && holds(value_of(0, 4)));
  CAF_CHECK_EQUAL(held(), 64u);
}

CAF_TEST(a full key replaces the least recently refreshed idle values) {
  // 16 sources hold 4 values each; source s stored at t0 + s seconds.
  for (int s = 0; s < 16; ++s)
    for (int n = 0; n < 4; ++n)
      if (store({value_of(s, n)}, t0 + s * 1s, addr(s)) != stored)
        CAF_FAIL("source " << s << " value " << n << " refused");
  // Sources 0..7 keep announcing every 30 s, 8..15 went quiet.
  auto now = t0 + 30s;
  for (; now <= t0 + 1200s; now += 30s)
    for (int s = 0; s < 8; ++s)
      store({value_of(s, 0), value_of(s, 1), value_of(s, 2), value_of(s, 3)}, now, addr(s));
  CAF_CHECK_EQUAL(store({value_of(100, 0), value_of(100, 1)}, now, addr(100)), stored);
  CAF_CHECK_EQUAL(held(), 64u);
  CAF_CHECK_EQUAL(held_from(addr(8)), 2u);  // the quiet source that stored first
  CAF_CHECK(!holds(value_of(8, 0)) && !holds(value_of(8, 1)));
  for (int s = 0; s < 16; ++s)
    if (s != 8 && held_from(addr(s)) != 4u) CAF_FAIL("source " << s << " lost a value");
  // A value of the store itself is never the one displaced, however idle.
  CAF_CHECK_EQUAL(store({value_of(8, 2), value_of(8, 9)}, now, addr(8)), stored);
  CAF_CHECK(holds(value_of(8, 2)) && holds(value_of(8, 9)) && !holds(value_of(8, 3)));
  CAF_CHECK_EQUAL(held_from(addr(9)), 4u);
  // Newcomers take the next least recently refreshed: source 9's.
  for (int i = 0; i < 4; ++i)
    if (store({value_of(101 + i, 0)}, now, addr(101 + i)) != stored)
      CAF_FAIL("newcomer " << i << " refused");
  CAF_CHECK_EQUAL(held_from(addr(9)), 0u);
  // 24 idle values are left (sources 10..15): 25 new ones are refused, nothing goes.
  strings batch;
  for (int n = 0; n < 25; ++n) batch.push_back("own/" + std::to_string(n));
  CAF_CHECK_EQUAL(store(batch, now), full);
  CAF_CHECK_EQUAL(held_from(addr(10)), 4u);
  batch.pop_back();
  CAF_CHECK_EQUAL(store(batch, now), stored);
  CAF_CHECK_EQUAL(held_from(addr(15)), 0u);
  CAF_CHECK_EQUAL(held_from(addr(0)), 4u);
  CAF_CHECK_EQUAL(held(), 64u);
}

CAF_TEST(a key full of fresh values refuses whole batches) {
  for (int s = 0; s < 16; ++s)
    store({value_of(s, 0), value_of(s, 1), value_of(s, 2), value_of(s, 3)}, t0, addr(s));
  auto before = rs.records().at(tts_cpu);
  CAF_CHECK_EQUAL(store({value_of(0, 0), "new"}, t0 + 100s, addr(200)), full);
  const auto& after = rs.records().at(tts_cpu);
  CAF_REQUIRE_EQUAL(after.size(), before.size());
  for (std::size_t i = 0; i < after.size(); ++i)
    if (after[i].value != before[i].value || after[i].expires != before[i].expires ||
        after[i].source != before[i].source)
      CAF_FAIL("value " << i << " changed");
}

CAF_TEST(a source displaces only its own idle values when over its share) {
  CAF_CHECK_EQUAL(store({value_of(2, 0)}, t0, addr(2)), stored);  // idle later, not addr(1)'s
  CAF_CHECK_EQUAL(store({value_of(1, 0), value_of(1, 1), value_of(1, 2), value_of(1, 3)}, t0,
                        addr(1)),
                  stored);
  CAF_CHECK_EQUAL(store({value_of(1, 0), value_of(1, 1)}, t0 + 600s, addr(1)), stored);
  CAF_CHECK_EQUAL(store({value_of(1, 4)}, t0 + 800s, addr(1)), over_share);
  // Restarted with other backends: the two it stopped announcing make room.
  CAF_CHECK_EQUAL(store({value_of(1, 4), value_of(1, 5)}, t0 + 900s, addr(1)), stored);
  CAF_CHECK_EQUAL(store({value_of(1, 0), value_of(1, 1)}, t0 + 900s, addr(1)), stored);
  CAF_CHECK(!holds(value_of(1, 2)) && !holds(value_of(1, 3)));
  CAF_CHECK(holds(value_of(2, 0)));
  CAF_CHECK_EQUAL(held_from(addr(1)), 4u);
  // Three new with two idle of its own: refused, nothing displaced.
  CAF_CHECK_EQUAL(store({value_of(1, 6), value_of(1, 7), value_of(1, 8)}, t0 + 1600s, addr(1)),
                  over_share);
  CAF_CHECK_EQUAL(held_from(addr(1)), 4u);
  CAF_CHECK_EQUAL(held(), 5u);
}

CAF_TEST(a refresh from another source moves the value when that source has room) {
  const std::string a = addr(1), b = addr(2), c = addr(3), d = addr(4);
  store({"a0", "a1", "a2", "a3"}, t0, a);
  CAF_CHECK_EQUAL(store({"a0"}, t0 + 1s, b), stored);
  CAF_CHECK_EQUAL(source_of("a0"), b);
  CAF_CHECK_EQUAL(store({"a4"}, t0 + 2s, a), stored);  // a0 no longer counts against a
  CAF_CHECK_EQUAL(store({"b1", "b2", "b3"}, t0 + 3s, b), stored);
  // b is at its share: the refresh renews a1 but a keeps it.
  CAF_CHECK_EQUAL(store({"a1"}, t0 + 4s, b), stored);
  CAF_CHECK_EQUAL(source_of("a1"), a);
  CAF_CHECK_EQUAL(expires_s("a1"), 3604);
  // New values take room first, then refreshed ones move while room is left.
  CAF_CHECK_EQUAL(store({"a2", "c1", "c2", "c3"}, t0 + 5s, c), stored);
  CAF_CHECK_EQUAL(source_of("a2"), c);
  CAF_CHECK_EQUAL(store({"a3", "a4", "d1", "d2", "d3"}, t0 + 6s, d), stored);
  CAF_CHECK_EQUAL(source_of("a3"), d);
  CAF_CHECK_EQUAL(source_of("a4"), a);
  CAF_CHECK_EQUAL(held_from(d), 4u);
  // Our own refresh takes any value: b gets room back.
  CAF_CHECK_EQUAL(store({"b1"}, t0 + 7s), stored);
  CAF_CHECK_EQUAL(source_of("b1"), "");
  CAF_CHECK_EQUAL(store({"b4"}, t0 + 8s, b), stored);
}

CAF_TEST(values refreshed every announce interval survive a flood from many addresses) {
  // 10 nodes announce one backend each every 30 s; meanwhile every 30 s, 20 new
  // addresses store 4 values each, for 3 hours.
  int next_flooder = 1000;
  int flood_accepted = 0;
  auto now = t0;
  for (int step = 0; step < 360; ++step, now += 30s) {
    for (int h = 0; h < 10; ++h)
      if (store({value_of(h, 0)}, now, addr(h)) != stored)
        CAF_FAIL("step " << step << ": honest node " << h << " refused");
    for (int j = 0; j < 20; ++j, ++next_flooder) {
      strings four;
      for (int n = 0; n < 4; ++n) four.push_back(value_of(next_flooder, n));
      if (store(four, now, addr(next_flooder)) == stored) ++flood_accepted;
    }
    for (int h = 0; h < 10; ++h)
      if (!holds(value_of(h, 0))) CAF_FAIL("step " << step << ": lost node " << h);
  }
  CAF_CHECK_EQUAL(held(), 64u);
  CAF_MESSAGE("flood batches accepted: " << flood_accepted << " of " << 360 * 20);
  // The flood only ever got the 54 free slots and what went idle: 13 batches of 4 at
  // first, then 13 more each time its own went idle (every 15 minutes, 11 times).
  CAF_CHECK_EQUAL(flood_accepted, 13 * 12);
  // Once the flood stops, a newcomer gets in within 15 minutes.
  for (auto end = now + 900s; now <= end; now += 30s)
    for (int h = 0; h < 10; ++h) store({value_of(h, 0)}, now, addr(h));
  CAF_CHECK_EQUAL(store({value_of(50, 0)}, now, addr(50)), stored);
}

CAF_TEST_FIXTURE_SCOPE_END()
