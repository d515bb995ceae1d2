#define CAF_SUITE routing_table
#include "caf/test/unit_test.hpp"

#include "test_ids.hpp"

#include <algorithm>
#include <chrono>
#include <random>
#include <string>
#include <vector>

#include "net/routing_table.hpp"

using namespace sova::net;
using namespace std::chrono_literals;

namespace {

const steady_time t0 = steady_time{} + 1000h;

/// A random id whose leading bits are the '0'/'1' characters of `bits`.
node_id id_with_prefix(const std::string& bits, std::mt19937_64& rng) {
  node_id id = node_id::random(rng);
  for (std::size_t i = 0; i < bits.size(); ++i) id.set_bit(i, bits[i] == '1');
  return id;
}

using sova::testing::small_id;

contact make_contact(const node_id& id, std::uint16_t n) {
  return contact{id, endpoint{"127.0." + std::to_string(n / 256) + "." + std::to_string(n % 256),
                              static_cast<std::uint16_t>(1000 + n)}};
}

std::string hex_list(const std::vector<contact>& cs) {
  std::string out;
  for (const auto& c : cs) out += c.id.to_hex() + " ";
  return out;
}

struct fixture {
  std::mt19937_64 rng{42};
  node_id self = id_with_prefix("0", rng);
  std::uint16_t next_port = 0;

  contact fresh(const std::string& prefix) {
    return make_contact(id_with_prefix(prefix, rng), ++next_port);
  }

  /// Twenty contacts sharing exactly `depth` leading bits, all starting with "1",
  /// put in a table of self "0...": after one more add the "1" bucket is full.
  std::vector<contact> fill_far_bucket(routing_table& rt, std::size_t depth) {
    std::string shared = "1" + std::string(depth - 1, '0');
    std::vector<contact> cs;
    for (int i = 0; i < 20; ++i) {
      cs.push_back(fresh(shared + (i % 2 ? "1" : "0")));
      rt.add(cs.back(), t0);
    }
    return cs;
  }
};

}  // namespace

CAF_TEST_FIXTURE_SCOPE(routing_table_tests, fixture)

CAF_TEST(first bucket fills to k) {
  routing_table rt{self, 20, t0};
  for (int i = 0; i < 20; ++i) {
    auto r = rt.add(make_contact(node_id::random(rng), ++next_port), t0);
    CAF_CHECK(r.is_new);
    CAF_CHECK(!r.ping_candidate);
  }
  CAF_CHECK_EQUAL(rt.buckets().size(), 1u);
  CAF_CHECK_EQUAL(rt.size(), 20u);
  CAF_CHECK_EQUAL(rt.all().size(), 20u);
}

CAF_TEST(own id is never added) {
  routing_table rt{self, 20, t0};
  auto r = rt.add(make_contact(self, 1), t0);
  CAF_CHECK(!r.is_new);
  CAF_CHECK(!r.ping_candidate);
  CAF_CHECK_EQUAL(rt.size(), 0u);
  CAF_CHECK(!rt.contains(self));
  CAF_CHECK(!rt.is_new(self));
  CAF_CHECK(rt.is_new(node_id::random(rng)));
}

CAF_TEST(full bucket covering own id splits) {
  routing_table rt{self, 20, t0};
  for (int i = 0; i < 10; ++i) rt.add(fresh("0"), t0);
  for (int i = 0; i < 10; ++i) rt.add(fresh("1"), t0);
  auto r = rt.add(fresh("1"), t0);
  CAF_CHECK(r.is_new);
  CAF_CHECK(!r.ping_candidate);
  CAF_REQUIRE_EQUAL(rt.buckets().size(), 2u);
  const auto& low = rt.buckets()[0];
  const auto& high = rt.buckets()[1];
  CAF_CHECK_EQUAL(low.prefix_len, 1u);
  CAF_CHECK_EQUAL(high.prefix_len, 1u);
  CAF_CHECK_EQUAL(low.contacts.size(), 10u);
  CAF_CHECK_EQUAL(high.contacts.size(), 11u);
  CAF_CHECK(low.covers(self));
  for (const auto& b : rt.buckets())
    for (const auto& c : b.contacts) CAF_CHECK(b.covers(c.id));
}

CAF_TEST(full far bucket with depth multiple of 5 caches and pings head) {
  routing_table rt{self, 20, t0};
  auto cs = fill_far_bucket(rt, 5);
  CAF_CHECK_EQUAL(rt.buckets()[0].depth(), 5u);
  auto newcomer = fresh("10000");
  auto r = rt.add(newcomer, t0);  // splits the root (holds self), then "1" is full
  CAF_CHECK(r.is_new);
  CAF_REQUIRE(r.ping_candidate.has_value());
  CAF_CHECK_EQUAL(r.ping_candidate->id.to_hex(), cs.front().id.to_hex());
  CAF_REQUIRE_EQUAL(rt.buckets().size(), 2u);
  const auto& far = rt.buckets()[1];
  CAF_CHECK(!far.covers(self));
  CAF_CHECK_EQUAL(far.contacts.size(), 20u);
  CAF_REQUIRE_EQUAL(far.replacements.size(), 1u);
  CAF_CHECK_EQUAL(far.replacements[0].id.to_hex(), newcomer.id.to_hex());
  CAF_CHECK(!rt.contains(newcomer.id));
  CAF_CHECK(rt.add(newcomer, t0).is_new);  // replacements are not "in the table"
}

CAF_TEST(full far bucket with depth not multiple of 5 splits) {
  routing_table rt{self, 20, t0};
  fill_far_bucket(rt, 4);
  auto r = rt.add(fresh("1000"), t0);
  CAF_CHECK(!r.ping_candidate);
  CAF_CHECK_EQUAL(rt.size(), 21u);
  // Split down to the depth: "0" | "10000" | "10001" | "1001" | "101" | "11".
  CAF_REQUIRE_EQUAL(rt.buckets().size(), 6u);
  std::vector<std::size_t> lens;
  for (const auto& b : rt.buckets()) {
    lens.push_back(b.prefix_len);
    CAF_CHECK(b.replacements.empty());
    for (const auto& c : b.contacts) CAF_CHECK(b.covers(c.id));
  }
  CAF_CHECK(lens == (std::vector<std::size_t>{1, 5, 5, 4, 3, 2}));
  CAF_CHECK_EQUAL(rt.buckets()[1].contacts.size() + rt.buckets()[2].contacts.size(), 21u);
}

CAF_TEST(buckets tile the id space in order) {
  routing_table rt{self, 20, t0};
  for (int i = 0; i < 2000; ++i) rt.add(make_contact(node_id::random(rng), ++next_port), t0);
  const auto& bs = rt.buckets();
  CAF_CHECK_GREATER(bs.size(), 5u);
  for (std::size_t i = 0; i + 1 < bs.size(); ++i) CAF_CHECK(bs[i].prefix < bs[i + 1].prefix);
  // Exactly one bucket covers any id.
  for (int i = 0; i < 100; ++i) {
    auto id = node_id::random(rng);
    auto n = std::count_if(bs.begin(), bs.end(), [&](const k_bucket& b) { return b.covers(id); });
    CAF_CHECK_EQUAL(n, 1);
  }
  for (const auto& b : bs) {
    CAF_CHECK_LESS_OR_EQUAL(b.contacts.size(), 20u);
    CAF_CHECK_LESS_OR_EQUAL(b.replacements.size(), 100u);
  }
}

CAF_TEST(known contact moves to tail) {
  routing_table rt{self, 20, t0};
  auto a = fresh(""), b = fresh(""), c = fresh("");
  rt.add(a, t0);
  rt.add(b, t0);
  rt.add(c, t0);
  auto r = rt.add(a, t0 + 1s);
  CAF_CHECK(!r.is_new);
  CAF_CHECK_EQUAL(rt.size(), 3u);
  CAF_CHECK_EQUAL(hex_list(rt.buckets()[0].contacts), hex_list({b, c, a}));
}

CAF_TEST(known contact gets its new endpoint) {
  routing_table rt{self, 20, t0};
  auto a = fresh("");
  rt.add(a, t0);
  auto moved = a;
  moved.ep = endpoint{"192.168.1.7", 4242};
  CAF_CHECK(!rt.add(moved, t0).is_new);
  CAF_CHECK_EQUAL(rt.size(), 1u);
  CAF_REQUIRE(rt.find(a.id).has_value());
  CAF_CHECK_EQUAL(rt.find(a.id)->ep.to_string(), "192.168.1.7:4242");
}

CAF_TEST(replacement cache holds 5k and drops the oldest) {
  routing_table rt{self, 20, t0};
  fill_far_bucket(rt, 5);
  std::vector<contact> extra;
  for (int i = 0; i < 101; ++i) {
    extra.push_back(fresh("10000"));
    rt.add(extra.back(), t0);
  }
  const auto& far = rt.buckets()[1];
  CAF_REQUIRE_EQUAL(far.replacements.size(), 100u);
  CAF_CHECK_EQUAL(far.replacements.front().id.to_hex(), extra[1].id.to_hex());
  CAF_CHECK_EQUAL(far.replacements.back().id.to_hex(), extra[100].id.to_hex());
  // Seeing a cached one again makes it the most recent.
  rt.add(extra[5], t0);
  CAF_CHECK_EQUAL(far.replacements.size(), 100u);
  CAF_CHECK_EQUAL(far.replacements.back().id.to_hex(), extra[5].id.to_hex());
}

CAF_TEST(remove promotes the newest replacement) {
  routing_table rt{self, 20, t0};
  auto cs = fill_far_bucket(rt, 5);
  auto r1 = fresh("10000"), r2 = fresh("10000"), r3 = fresh("10000");
  for (const auto& r : {r1, r2, r3}) rt.add(r, t0);
  rt.remove(cs.front().id);
  const auto& far = rt.buckets()[1];
  CAF_CHECK(!rt.contains(cs.front().id));
  CAF_CHECK_EQUAL(far.contacts.size(), 20u);
  CAF_CHECK_EQUAL(far.contacts.back().id.to_hex(), r3.id.to_hex());
  CAF_CHECK_EQUAL(hex_list(far.replacements), hex_list({r1, r2}));
  // A replacement that fails just leaves the cache.
  rt.remove(r1.id);
  CAF_CHECK_EQUAL(hex_list(far.replacements), hex_list({r2}));
  CAF_CHECK_EQUAL(far.contacts.size(), 20u);
  // Unknown ids change nothing.
  rt.remove(node_id::random(rng));
  CAF_CHECK_EQUAL(rt.size(), 20u);
  CAF_CHECK_EQUAL(far.replacements.size(), 1u);
}

CAF_TEST(remove without replacements just shrinks) {
  routing_table rt{self, 20, t0};
  auto a = fresh(""), b = fresh("");
  rt.add(a, t0);
  rt.add(b, t0);
  rt.remove(a.id);
  CAF_CHECK_EQUAL(hex_list(rt.all()), hex_list({b}));
}

CAF_TEST(closest matches brute force over 1000 contacts) {
  routing_table rt{self, 20, t0};
  for (int i = 0; i < 1000; ++i) rt.add(make_contact(node_id::random(rng), ++next_port), t0);
  auto everyone = rt.all();
  CAF_CHECK_GREATER(everyone.size(), 100u);
  for (int round = 0; round < 10; ++round) {
    auto key = round == 0 ? self : node_id::random(rng);
    auto expected = everyone;
    std::sort(expected.begin(), expected.end(),
              [&](const contact& a, const contact& b) { return closer_to(key, a.id, b.id); });
    auto all_sorted = rt.closest(key, everyone.size() + 5);
    CAF_CHECK_EQUAL(hex_list(all_sorted), hex_list(expected));
    expected.resize(20);
    CAF_CHECK_EQUAL(hex_list(rt.closest(key, 20)), hex_list(expected));
    for (const auto& c : all_sorted) CAF_CHECK(c.id != self);
  }
}

CAF_TEST(closest leaves out the caller by id and by endpoint) {
  routing_table rt{self, 20, t0};
  for (int i = 0; i < 300; ++i) rt.add(make_contact(node_id::random(rng), ++next_port), t0);
  auto key = node_id::random(rng);
  auto top = rt.closest(key, 20);
  CAF_REQUIRE_EQUAL(top.size(), 20u);
  // By id: the caller is the closest one, even with another endpoint.
  contact caller{top[0].id, endpoint{"172.16.0.1", 9}};
  auto without = rt.closest(key, 20, &caller);
  CAF_CHECK_EQUAL(without.size(), 20u);
  for (const auto& c : without) CAF_CHECK(c.id != caller.id);
  CAF_CHECK_EQUAL(without[0].id.to_hex(), top[1].id.to_hex());
  // By endpoint: a restarted peer with a new id at the same address.
  contact restarted{node_id::random(rng), top[2].ep};
  without = rt.closest(key, 20, &restarted);
  for (const auto& c : without) CAF_CHECK(c.ep != top[2].ep);
  CAF_CHECK_EQUAL(without.size(), 20u);
}

CAF_TEST(stale buckets yield ids in their range only) {
  routing_table rt{self, 20, t0};
  for (int i = 0; i < 10; ++i) rt.add(fresh("0"), t0);
  for (int i = 0; i < 11; ++i) rt.add(fresh("1"), t0);
  CAF_REQUIRE_EQUAL(rt.buckets().size(), 2u);
  auto t1 = t0 + 2h;
  CAF_CHECK(rt.stale_bucket_ids(t0 + 30min, 1h, rng).empty());
  rt.add(fresh("1"), t1);
  for (int i = 0; i < 20; ++i) {
    auto ids = rt.stale_bucket_ids(t1, 1h, rng);
    CAF_REQUIRE_EQUAL(ids.size(), 1u);
    CAF_CHECK(rt.buckets()[0].covers(ids[0]));
  }
  rt.touch(id_with_prefix("0", rng), t1);
  CAF_CHECK(rt.stale_bucket_ids(t1, 1h, rng).empty());
  auto both = rt.stale_bucket_ids(t1 + 2h, 1h, rng);
  CAF_REQUIRE_EQUAL(both.size(), 2u);
  CAF_CHECK(rt.buckets()[0].covers(both[0]));
  CAF_CHECK(rt.buckets()[1].covers(both[1]));
}

CAF_TEST(hand over on join) {
  auto key = small_id(0);  // distance to the key is the id's value
  auto nb = [](std::vector<std::uint64_t> ns) {
    std::vector<contact> out;
    for (auto n : ns) out.push_back(make_contact(small_id(n), static_cast<std::uint16_t>(n)));
    return out;
  };
  CAF_CHECK(should_hand_over(small_id(50), small_id(60), key, {}));
  CAF_CHECK(should_hand_over(small_id(2), small_id(7), key, nb({5, 9})));
  CAF_CHECK(!should_hand_over(small_id(2), small_id(10), key, nb({5, 9})));  // newcomer too far
  CAF_CHECK(!should_hand_over(small_id(2), small_id(9), key, nb({5, 9})));   // not strictly closer
  CAF_CHECK(
      !should_hand_over(small_id(6), small_id(7), key, nb({5, 9})));  // someone else is closer
  CAF_CHECK(should_hand_over(small_id(1), small_id(3), key, nb({4})));
}

CAF_TEST_FIXTURE_SCOPE_END()

CAF_TEST_FIXTURE_SCOPE(per_host_tests, fixture)

CAF_TEST(one address holds at most max_per_host entries however many ids it makes up) {
  routing_table rt(self, 20, t0, 5, 4);
  std::vector<contact> forged;
  // 2,000 made-up ids from one address, spread over the id space (a flood of new ids).
  for (int i = 0; i < 2000; ++i) {
    contact c{node_id::random(rng), endpoint{"198.51.100.7", static_cast<std::uint16_t>(1 + i)}};
    auto r = rt.add(c, t0);
    if (i < 4) {
      CAF_CHECK(r.is_new);
      CAF_CHECK(!r.refused);
    } else {
      CAF_CHECK(r.refused);
      CAF_CHECK(!r.is_new);
    }
  }
  std::size_t held = 0;
  for (const auto& b : rt.buckets()) held += b.contacts.size() + b.replacements.size();
  CAF_CHECK_EQUAL(held, 4u);
  // Other addresses are not affected, and a known contact is still refreshed.
  auto other = fresh("1");
  CAF_CHECK(rt.add(other, t0).is_new);
  auto first = rt.all();
  CAF_REQUIRE(!first.empty());
  CAF_CHECK(!rt.add(first.front(), t0 + 1s).refused);
  // A contact that leaves frees its address's slot.
  auto gone = std::find_if(first.begin(), first.end(),
                           [](const contact& c) { return c.ep.host == "198.51.100.7"; });
  CAF_REQUIRE(gone != first.end());
  rt.remove(gone->id);
  contact again{node_id::random(rng), endpoint{"198.51.100.7", 9}};
  CAF_CHECK(rt.add(again, t0).is_new);
  contact one_more{node_id::random(rng), endpoint{"198.51.100.7", 10}};
  CAF_CHECK(rt.add(one_more, t0).refused);
}

CAF_TEST(the per_host count follows splits and the replacement cache) {
  // Many hosts, each with up to 3 ids: splits and cache trimming must keep the counts
  // exact, so every host can always add up to the limit again after its entries go.
  routing_table rt(self, 2, t0, 1, 3);
  std::vector<contact> all;
  for (int h = 0; h < 300; ++h)
    for (int j = 0; j < 3; ++j) {
      contact c{node_id::random(rng),
                endpoint{"10.0." + std::to_string(h / 250) + "." + std::to_string(h % 250),
                         static_cast<std::uint16_t>(100 + j)}};
      CAF_CHECK(!rt.add(c, t0).refused);
      all.push_back(c);
    }
  for (const auto& c : all) rt.remove(c.id);
  for (const auto& b : rt.buckets()) {
    CAF_CHECK(b.contacts.empty());
    CAF_CHECK(b.replacements.empty());
  }
  for (int j = 0; j < 3; ++j)
    CAF_CHECK(!rt.add(contact{node_id::random(rng), endpoint{"10.0.0.5", 7}}, t0).refused);
}

CAF_TEST_FIXTURE_SCOPE_END()
