#define CAF_SUITE lookup_state
#include "caf/test/unit_test.hpp"

#include "test_ids.hpp"

#include <algorithm>
#include <chrono>
#include <deque>
#include <functional>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "net/lookup.hpp"
#include "net/routing_table.hpp"

using namespace sova::net;
using namespace std::chrono_literals;

namespace {

using mode = lookup_state::mode;

using sova::testing::small_id;

contact make_contact(const node_id& id, std::uint32_t n) {
  return contact{id,
                 endpoint{"127.1." + std::to_string(n / 256 % 256) + "." + std::to_string(n % 256),
                          static_cast<std::uint16_t>(2000 + n % 60000)}};
}

/// Contact at distance `n` from the zero target.
contact at(std::uint64_t n) {
  return make_contact(small_id(n), static_cast<std::uint32_t>(n));
}

std::string hex_list(const std::vector<contact>& cs) {
  std::string out;
  for (const auto& c : cs) out += c.id.to_hex().substr(32) + " ";
  return out;
}

std::string joined(const std::vector<std::string>& vs) {
  std::string out;
  for (const auto& v : vs) out += v + ";";
  return out;
}

const node_id zero_target = small_id(0);
const node_id far_self = node_id::from_hex("ffffffffffffffffffffffffffffffffffffffff").value();

/// 500 nodes, each with a routing table that has seen every other node: the
/// answers of a real network, without the network.
struct network {
  std::vector<contact> nodes;
  std::vector<routing_table> tables;

  network() {
    std::mt19937_64 rng{7};
    const auto t0 = steady_time{} + 1000h;
    for (std::uint32_t i = 0; i < 500; ++i) nodes.push_back(make_contact(node_id::random(rng), i));
    for (const auto& me : nodes) {
      routing_table rt{me.id, 20, t0};
      auto order = nodes;
      std::shuffle(order.begin(), order.end(), rng);
      for (const auto& c : order) rt.add(c, t0);
      tables.push_back(std::move(rt));
    }
  }

  std::size_t index_of(const node_id& id) const {
    for (std::size_t i = 0; i < nodes.size(); ++i)
      if (nodes[i].id == id) return i;
    return nodes.size();
  }

  /// The true k closest to `target` among the nodes, leaving out `skip`.
  std::vector<contact> truth(const node_id& target, const std::set<node_id>& skip) const {
    std::vector<contact> live;
    for (const auto& c : nodes)
      if (!skip.count(c.id)) live.push_back(c);
    std::sort(live.begin(), live.end(),
              [&](const contact& a, const contact& b) { return closer_to(target, a.id, b.id); });
    live.resize(std::min<std::size_t>(live.size(), 20));
    return live;
  }
};

const network& the_network() {
  static const network net;
  return net;
}

struct run_stats {
  std::size_t max_in_flight = 0;
};

/// Drives a lookup to its end: queries are answered one at a time in the order
/// they were sent, dead nodes fail; `answer` says what a live node returns.
run_stats drive(lookup_state& ls, const std::set<node_id>& dead,
                const std::function<void(lookup_state&, const contact&)>& answer) {
  run_stats stats;
  std::deque<contact> pending;
  for (int guard = 0; guard < 10000; ++guard) {
    for (const auto& c : ls.next_queries()) pending.push_back(c);
    stats.max_in_flight = std::max(stats.max_in_flight, ls.in_flight());
    if (pending.empty()) break;
    auto c = pending.front();
    pending.pop_front();
    if (dead.count(c.id))
      ls.on_failure(c.id);
    else
      answer(ls, c);
  }
  return stats;
}

/// A node of the network answers find_node from its own table, never naming the caller.
auto network_answer(const network& net, const contact& caller) {
  return [&net, caller](lookup_state& ls, const contact& c) {
    auto i = net.index_of(c.id);
    ls.on_nodes(c.id, net.tables[i].closest(ls.target(), 20, &caller));
  };
}

}  // namespace

CAF_TEST(converges to the true closest in a 500 node network) {
  const auto& net = the_network();
  std::mt19937_64 rng{99};
  const auto& me = net.nodes[0];
  std::size_t multi_hop = 0;
  for (int round = 0; round < 20; ++round) {
    auto target = round == 0 ? net.nodes[123].id : node_id::random(rng);
    lookup_state ls{target, mode::find_node, me.id, 20, 3};
    // Odd rounds start from a poor seed: the 3 contacts farthest from the target.
    auto seed = net.tables[0].closest(target, 500);
    if (round % 2)
      seed.erase(seed.begin(), seed.end() - 3);
    else
      seed.resize(20);
    ls.add_candidates(seed);
    auto stats = drive(ls, {}, network_answer(net, me));
    CAF_CHECK(ls.done());
    CAF_CHECK_LESS_OR_EQUAL(stats.max_in_flight, 3u);
    CAF_CHECK_EQUAL(hex_list(ls.closest_answered()), hex_list(net.truth(target, {me.id})));
    CAF_CHECK_EQUAL(ls.failures(), 0u);
    CAF_CHECK_GREATER_OR_EQUAL(ls.rounds(), 1u);
    CAF_CHECK_LESS_OR_EQUAL(ls.rounds(), 8u);
    CAF_CHECK_LESS(ls.queries_sent(), 120u);
    if (ls.rounds() > 1) ++multi_hop;
  }
  CAF_CHECK_GREATER_OR_EQUAL(multi_hop, 10u);
}

CAF_TEST(dead nodes are skipped and left out of the result) {
  const auto& net = the_network();
  std::mt19937_64 rng{5};
  const auto& me = net.nodes[0];
  for (int round = 0; round < 10; ++round) {
    auto target = node_id::random(rng);
    std::set<node_id> dead;
    for (const auto& c : net.nodes)
      if (c.id != me.id && rng() % 10 == 0) dead.insert(c.id);
    auto closest = net.truth(target, {me.id});
    for (int i = 0; i < 3; ++i) dead.insert(closest[i].id);  // the best ones are gone
    lookup_state ls{target, mode::find_node, me.id, 20, 3};
    ls.add_candidates(net.tables[0].closest(target, 20));
    // Live peers still name the dead they have not noticed yet, but also know
    // 20 live ones (their tables replaced the dead they did notice).
    drive(ls, dead, [&](lookup_state& s, const contact& c) {
      std::vector<contact> reply;
      std::size_t live = 0;
      for (const auto& x : net.tables[net.index_of(c.id)].closest(target, 60, &me)) {
        bool is_dead = dead.count(x.id) > 0;
        if (is_dead ? reply.size() < 20 : live < 20) reply.push_back(x);
        live += is_dead ? 0 : 1;
      }
      s.on_nodes(c.id, reply);
    });
    CAF_CHECK(ls.done());
    auto skip = dead;
    skip.insert(me.id);
    CAF_CHECK_EQUAL(hex_list(ls.closest_answered()), hex_list(net.truth(target, skip)));
    CAF_CHECK_GREATER_OR_EQUAL(ls.failures(), 3u);
    for (const auto& c : ls.closest_answered()) CAF_CHECK(!dead.count(c.id));
  }
}

CAF_TEST(at most alpha queries in flight) {
  lookup_state ls{zero_target, mode::find_node, far_self, 20, 3};
  std::vector<contact> seed;
  for (std::uint64_t n = 1; n <= 10; ++n) seed.push_back(at(n));
  ls.add_candidates(seed);
  CAF_CHECK_EQUAL(hex_list(ls.next_queries()), hex_list({at(1), at(2), at(3)}));
  CAF_CHECK_EQUAL(ls.in_flight(), 3u);
  CAF_CHECK(ls.next_queries().empty());
  ls.on_nodes(at(2).id, {});
  CAF_CHECK_EQUAL(hex_list(ls.next_queries()), hex_list({at(4)}));
  ls.on_failure(at(1).id);
  ls.on_nodes(at(3).id, {});
  CAF_CHECK_EQUAL(hex_list(ls.next_queries()), hex_list({at(5), at(6)}));
  CAF_CHECK_EQUAL(ls.in_flight(), 3u);
  CAF_CHECK_EQUAL(ls.queries_sent(), 6u);
}

CAF_TEST(only the k closest live candidates are queried) {
  lookup_state ls{zero_target, mode::find_node, far_self, 2, 3};
  ls.add_candidates({at(4), at(1), at(3), at(2)});
  CAF_CHECK_EQUAL(hex_list(ls.next_queries()), hex_list({at(1), at(2)}));
  ls.on_nodes(at(1).id, {});
  CAF_CHECK(ls.next_queries().empty());  // 3 and 4 are not among the 2 closest
  ls.on_failure(at(2).id);
  CAF_CHECK_EQUAL(hex_list(ls.next_queries()), hex_list({at(3)}));
  ls.on_nodes(at(3).id, {});
  CAF_CHECK(ls.done());
  CAF_CHECK_EQUAL(hex_list(ls.closest_answered()), hex_list({at(1), at(3)}));
}

CAF_TEST(done transitions) {
  lookup_state ls{zero_target, mode::find_node, far_self, 20, 3};
  CAF_CHECK(ls.done());  // nobody to ask
  ls.add_candidates({at(10)});
  CAF_CHECK(!ls.done());
  CAF_REQUIRE_EQUAL(ls.next_queries().size(), 1u);
  CAF_CHECK(!ls.done());  // in flight
  ls.on_nodes(at(10).id, {at(5)});
  CAF_CHECK(!ls.done());  // something closer to ask
  CAF_REQUIRE_EQUAL(ls.next_queries().size(), 1u);
  ls.on_failure(at(5).id);
  CAF_CHECK(ls.done());
  CAF_CHECK(ls.next_queries().empty());
  CAF_CHECK_EQUAL(hex_list(ls.closest_answered()), hex_list({at(10)}));
}

CAF_TEST(self duplicates and failed contacts are ignored) {
  lookup_state ls{zero_target, mode::find_node, small_id(1), 20, 3};
  ls.add_candidates({at(1), at(2), at(2), at(3)});
  auto q = ls.next_queries();
  CAF_CHECK_EQUAL(hex_list(q), hex_list({at(2), at(3)}));
  ls.on_failure(at(2).id);
  ls.on_nodes(at(3).id, {at(1), at(2), at(3), at(4)});
  CAF_CHECK_EQUAL(hex_list(ls.next_queries()), hex_list({at(4)}));
  ls.on_nodes(at(4).id, {at(2)});
  CAF_CHECK(ls.done());
  CAF_CHECK_EQUAL(ls.queries_sent(), 3u);
  CAF_CHECK_EQUAL(ls.failures(), 1u);
  CAF_CHECK_EQUAL(hex_list(ls.closest_answered()), hex_list({at(3), at(4)}));
}

CAF_TEST(replies from unknown or idle contacts are ignored) {
  lookup_state ls{zero_target, mode::find_value, far_self, 20, 1};
  ls.add_candidates({at(1), at(2)});
  ls.on_nodes(at(99).id, {at(3)});
  ls.on_value(at(98).id, {"x"});
  ls.on_failure(at(97).id);
  ls.on_failure(at(2).id);  // never asked
  CAF_CHECK_EQUAL(ls.failures(), 0u);
  CAF_CHECK(!ls.found_value());
  CAF_CHECK_EQUAL(hex_list(ls.next_queries()), hex_list({at(1)}));
  ls.on_nodes(at(1).id, {});
  ls.on_nodes(at(1).id, {at(0)});  // a second reply adds nothing
  ls.on_failure(at(1).id);
  CAF_CHECK_EQUAL(ls.failures(), 0u);
  CAF_CHECK_EQUAL(hex_list(ls.next_queries()), hex_list({at(2)}));
  ls.on_nodes(at(2).id, {});
  CAF_CHECK(ls.done());
  CAF_CHECK_EQUAL(hex_list(ls.closest_answered()), hex_list({at(1), at(2)}));
}

CAF_TEST(find_value merges value sets and picks the cache target) {
  lookup_state ls{zero_target, mode::find_value, far_self, 20, 3};
  ls.add_candidates({at(1), at(2), at(3), at(4), at(5)});
  CAF_CHECK_EQUAL(hex_list(ls.next_queries()), hex_list({at(1), at(2), at(3)}));
  ls.on_value(at(2).id, {"asr/cpu/b:2", "asr/cpu/a:1"});
  ls.on_value(at(1).id, {"asr/cpu/a:1", "asr/cpu/c:3"});
  CAF_CHECK(ls.found_value());
  CAF_CHECK(!ls.cache_target());  // nobody answered without it yet
  ls.on_nodes(at(3).id, {});
  CAF_CHECK_EQUAL(hex_list(ls.next_queries()), hex_list({at(4), at(5)}));
  ls.on_nodes(at(4).id, {});
  ls.on_value(at(5).id, {"asr/cpu/d:4", "asr/cpu/b:2"});
  CAF_CHECK(ls.done());
  CAF_CHECK_EQUAL(joined(ls.values()), "asr/cpu/b:2;asr/cpu/a:1;asr/cpu/c:3;asr/cpu/d:4;");
  CAF_CHECK_EQUAL(hex_list(ls.holders()), hex_list({at(2), at(1), at(5)}));
  CAF_REQUIRE(ls.cache_target());
  CAF_CHECK_EQUAL(ls.cache_target()->id.to_hex(), at(3).id.to_hex());
  CAF_CHECK_EQUAL(hex_list(ls.closest_answered()), hex_list({at(1), at(2), at(3), at(4), at(5)}));
}

CAF_TEST(no cache target without a value) {
  lookup_state ls{zero_target, mode::find_value, far_self, 20, 3};
  ls.add_candidates({at(1)});
  ls.next_queries();
  ls.on_nodes(at(1).id, {});
  CAF_CHECK(ls.done());
  CAF_CHECK(!ls.found_value());
  CAF_CHECK(!ls.cache_target());
  CAF_CHECK(ls.values().empty());
}

CAF_TEST(find_value in the network collects every holder) {
  const auto& net = the_network();
  const auto& me = net.nodes[0];
  auto key = node_id::digest("asr/cpu");
  auto closest = net.truth(key, {me.id});
  // The 2nd, 5th and 9th closest hold parts of the set.
  std::vector<std::pair<node_id, std::vector<std::string>>> held{
      {closest[1].id, {"asr/cpu/a:1", "asr/cpu/b:2"}},
      {closest[4].id, {"asr/cpu/b:2", "asr/cpu/c:3"}},
      {closest[8].id, {"asr/cpu/d:4"}}};
  lookup_state ls{key, mode::find_value, me.id, 20, 3};
  ls.add_candidates(net.tables[0].closest(key, 20));
  auto nodes = network_answer(net, me);
  drive(ls, {}, [&](lookup_state& s, const contact& c) {
    for (const auto& [id, vs] : held)
      if (id == c.id) return s.on_value(c.id, vs);
    nodes(s, c);
  });
  CAF_CHECK(ls.done());
  CAF_CHECK_EQUAL(ls.holders().size(), 3u);
  auto vs = ls.values();
  std::sort(vs.begin(), vs.end());
  CAF_CHECK_EQUAL(joined(vs), "asr/cpu/a:1;asr/cpu/b:2;asr/cpu/c:3;asr/cpu/d:4;");
  CAF_REQUIRE(ls.cache_target());
  CAF_CHECK_EQUAL(ls.cache_target()->id.to_hex(), closest[0].id.to_hex());
}

CAF_TEST(rounds count the hops) {
  lookup_state ls{zero_target, mode::find_node, far_self, 20, 3};
  ls.add_candidates({at(100)});
  CAF_CHECK_EQUAL(ls.rounds(), 0u);
  ls.next_queries();
  CAF_CHECK_EQUAL(ls.rounds(), 1u);
  ls.on_nodes(at(100).id, {at(50)});
  ls.next_queries();
  CAF_CHECK_EQUAL(ls.rounds(), 2u);
  ls.on_nodes(at(50).id, {at(20), at(30)});
  ls.next_queries();
  CAF_CHECK_EQUAL(ls.rounds(), 3u);
  ls.on_nodes(at(20).id, {});
  ls.on_nodes(at(30).id, {});
  CAF_CHECK(ls.done());
  CAF_CHECK_EQUAL(ls.rounds(), 3u);
  CAF_CHECK_EQUAL(ls.queries_sent(), 4u);
}

CAF_TEST(long answers keep the shortlist useful) {
  // Peers flood the lookup with far contacts; it must still finish with the
  // closest ones and ask only around k + alpha of them.
  lookup_state ls{zero_target, mode::find_node, far_self, 20, 3};
  std::vector<contact> seed;
  for (std::uint64_t n = 1000; n < 1020; ++n) seed.push_back(at(n));
  ls.add_candidates(seed);
  std::uint64_t next_far = 1u << 20;
  drive(ls, {}, [&](lookup_state& s, const contact& c) {
    std::vector<contact> reply;
    for (int i = 0; i < 100; ++i) reply.push_back(at(next_far++));
    if (c.id == small_id(1000)) reply.push_back(at(7));
    s.on_nodes(c.id, reply);
  });
  CAF_CHECK(ls.done());
  auto best = ls.closest_answered();
  CAF_REQUIRE_EQUAL(best.size(), 20u);
  CAF_CHECK_EQUAL(best[0].id.to_hex(), at(7).id.to_hex());
  CAF_CHECK_EQUAL(best[19].id.to_hex(), at(1018).id.to_hex());
  // at(7) arrived with the first answer and pushed at(1019) out of the k closest.
  CAF_CHECK_EQUAL(ls.queries_sent(), 20u);
}
