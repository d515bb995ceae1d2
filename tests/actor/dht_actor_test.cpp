// Deterministic CAF tests of the DHT actors over the in-memory fabric: calls and
// timeouts, put/get across nodes, multi-value merging, caching, expiry, hand-over
// on join, failed contacts, bootstrap retries. Time is simulated.
#define CAF_SUITE dht_actors
#include "caf/test/dsl.hpp"

#include <algorithm>
#include <set>

#include "actors/interfaces.hpp"
#include "sim_network.hpp"

using namespace sova;
using namespace std::chrono_literals;
using actors::contacts;
using actors::strings;

namespace {

struct fixture : test_coordinator_fixture<> {
  sim::sim_network net{sys, 42};

  std::size_t add(actors::dht_config c = {}) { return net.add_node(net.make_config(c)); }

  template <class T>
  T await(const sim::answer<T>& a, caf::timespan limit = 120s) {
    CAF_REQUIRE(sim::drive(sched, [&] { return sim::ready(a); }, limit));
    CAF_REQUIRE(**a);
    return ***a;
  }

  /// n nodes; node i joins through node i-1.
  void chain(std::size_t n, actors::dht_config c = {}) {
    for (std::size_t i = 0; i < n; ++i) {
      add(c);
      if (i == 0) continue;
      std::vector<net::endpoint> via{net.endpoint_of(i - 1)};
      await(sim::ask<std::uint32_t>(sys, net.node(i).dht, actors::bootstrap_atom::value, via));
    }
  }

  strings local(std::size_t i, const net::node_id& key) {
    return await(sim::ask<strings>(sys, net.node(i).transport, actors::local_atom::value, key));
  }

  contacts table(std::size_t i) {
    return await(sim::ask<contacts>(sys, net.node(i).table, actors::table_atom::value));
  }

  bool knows(std::size_t i, std::size_t j) {
    auto t = table(i);
    return std::any_of(t.begin(), t.end(),
                       [&](const auto& c) { return c.id == net.node(j).cfg.self; });
  }

  std::size_t holders(const net::node_id& key) {
    std::size_t n = 0;
    for (std::size_t i = 0; i < net.size(); ++i)
      if (net.alive(i) && !local(i, key).empty()) ++n;
    return n;
  }

  actors::put_result put(std::size_t from, const std::string& key, strings values) {
    return await(sim::ask<actors::put_result>(sys, net.node(from).dht, actors::dht_put_atom::value,
                                              net::node_id::digest(key), values));
  }

  actors::lookup_result get(std::size_t from, const std::string& key) {
    return await(sim::ask<actors::lookup_result>(sys, net.node(from).dht,
                                                 actors::dht_get_atom::value,
                                                 net::node_id::digest(key)));
  }
};

std::set<std::string> as_set(const strings& xs) { return {xs.begin(), xs.end()}; }

}  // namespace

CAF_TEST_FIXTURE_SCOPE(dht_actor_tests, fixture)

CAF_TEST(ping_returns_the_peer_id_and_both_tables_learn) {
  add();
  add();
  auto id = await(sim::ask<net::node_id>(sys, net.node(0).transport, actors::ping_atom::value,
                                         net.endpoint_of(1)));
  CAF_CHECK_EQUAL(id.to_hex(), net.node(1).cfg.self.to_hex());
  CAF_CHECK(knows(0, 1));
  CAF_CHECK(knows(1, 0));
}

CAF_TEST(a_call_to_a_silent_address_times_out_after_the_rpc_timeout) {
  add();
  auto a = sim::ask<net::node_id>(sys, net.node(0).transport, actors::ping_atom::value,
                                  sim::sim_network::address_of(99));
  CAF_CHECK(!sim::drive(sched, [&] { return sim::ready(a); }, 4900ms));
  CAF_REQUIRE(sim::drive(sched, [&] { return sim::ready(a); }, 200ms));
  CAF_REQUIRE(!**a);
  CAF_CHECK_EQUAL((*a)->error(), actors::make_error(actors::dht_errc::timeout));
}

CAF_TEST(a_record_put_through_one_node_is_found_through_another) {
  chain(12);
  auto p = put(2, "asr/cpu", {"asr/cpu/192.0.2.1:8888"});
  CAF_CHECK_EQUAL(p.tried_remote, 11u);
  CAF_CHECK_EQUAL(p.stored_remote, 11u);
  auto r = get(9, "asr/cpu");
  CAF_CHECK(r.found);
  CAF_CHECK_EQUAL(r.values, strings{"asr/cpu/192.0.2.1:8888"});
  auto missing = get(9, "tts/gpu");
  CAF_CHECK(!missing.found);
  CAF_CHECK(missing.values.empty());
}

CAF_TEST(values_stored_from_different_nodes_merge_into_one_set) {
  chain(10);
  put(1, "asr/cpu", {"asr/cpu/192.0.2.1:8888"});
  put(5, "asr/cpu", {"asr/cpu/192.0.2.2:8888", "asr/cpu/192.0.2.3:8888"});
  put(7, "asr/cpu", {"asr/cpu/192.0.2.1:8888"});  // again: a set, no duplicate
  auto r = get(8, "asr/cpu");
  CAF_CHECK_EQUAL(r.values.size(), 3u);
  CAF_CHECK(as_set(r.values) == std::set<std::string>({"asr/cpu/192.0.2.1:8888",
                                                        "asr/cpu/192.0.2.2:8888",
                                                        "asr/cpu/192.0.2.3:8888"}));
}

CAF_TEST(a_lookup_caches_the_merged_set_on_one_peer_that_lacked_it) {
  actors::dht_config c;
  c.k = 3;  // few holders among 30 nodes, so some answering peers lack the record
  chain(30, c);
  auto p = put(0, "tts/gpu", {"tts/gpu/192.0.2.9:8899"});
  CAF_REQUIRE_EQUAL(p.stored_remote, 3u);
  auto key = net::node_id::digest("tts/gpu");
  auto before = holders(key);
  std::size_t getter = 0;
  for (std::size_t i = 0; i < net.size(); ++i)
    if (local(i, key).empty()) getter = i;
  auto r = get(getter, "tts/gpu");
  CAF_CHECK(r.found);
  CAF_CHECK_EQUAL(holders(key), before + 1);
}

CAF_TEST(records_expire_unless_stored_again) {
  actors::dht_config c;
  c.record_ttl = 120s;
  c.tick_interval = 10s;
  chain(6, c);
  put(0, "asr/cpu", {"asr/cpu/192.0.2.1:8888"});
  put(0, "tts/cpu", {"tts/cpu/192.0.2.1:8899"});
  auto asr = net::node_id::digest("asr/cpu");
  CAF_CHECK_EQUAL(holders(asr), 6u);
  // Re-announce tts halfway; let asr lapse.
  sim::drive(sched, [] { return false; }, 70s, 1s);
  put(0, "tts/cpu", {"tts/cpu/192.0.2.1:8899"});
  sim::drive(sched, [] { return false; }, 70s, 1s);
  CAF_CHECK_EQUAL(holders(asr), 0u);
  CAF_CHECK(!get(3, "asr/cpu").found);
  CAF_CHECK(get(3, "tts/cpu").found);
}

CAF_TEST(a_new_closer_node_is_handed_the_keys_it_is_now_responsible_for) {
  add();
  put(0, "asr/cpu", {"asr/cpu/192.0.2.1:8888"});  // alone: held locally only
  auto key = net::node_id::digest("asr/cpu");
  CAF_REQUIRE_EQUAL(local(0, key).size(), 1u);
  actors::dht_config c = net.make_config();
  c.self = key;  // the closest possible id to the key
  net.add_node(c);
  std::vector<net::endpoint> via{net.endpoint_of(0)};
  await(sim::ask<std::uint32_t>(sys, net.node(1).dht, actors::bootstrap_atom::value, via));
  sched.run();
  CAF_CHECK_EQUAL(local(1, key), strings{"asr/cpu/192.0.2.1:8888"});
}

CAF_TEST(a_contact_that_stops_answering_leaves_the_routing_table) {
  chain(4);
  CAF_REQUIRE(knows(0, 3));
  net.kill(3);
  auto r = await(sim::ask<actors::lookup_result>(sys, net.node(0).dht, actors::lookup_atom::value,
                                                 net.node(3).cfg.self));
  CAF_CHECK_GREATER_OR_EQUAL(r.failures, 1u);
  CAF_CHECK(!knows(0, 3));
  CAF_CHECK(knows(0, 1));
}

CAF_TEST(bootstrap_is_retried_while_no_neighbour_has_answered) {
  actors::dht_config c;
  c.tick_interval = 10s;
  add(c);
  std::vector<net::endpoint> via{sim::sim_network::address_of(1)};  // nobody there yet
  auto first = await(sim::ask<std::uint32_t>(sys, net.node(0).dht, actors::bootstrap_atom::value, via));
  CAF_CHECK_EQUAL(first, 0u);
  add(c);  // the neighbour comes up at address_of(1)
  sim::drive(sched, [] { return false; }, 30s, 1s);
  CAF_CHECK(knows(0, 1));
}

CAF_TEST(a_node_joined_by_others_while_its_neighbour_was_down_still_joins_it_later) {
  // B starts with --neighbours A while A is down; C joins through B, so B knows somebody.
  // Then A starts a network of its own with D. The two halves must merge.
  actors::dht_config c;
  c.tick_interval = 10s;
  auto b = add(c);
  std::vector<net::endpoint> via_a{sim::sim_network::address_of(2)};  // nobody there yet
  CAF_CHECK_EQUAL(
      await(sim::ask<std::uint32_t>(sys, net.node(b).dht, actors::bootstrap_atom::value, via_a)),
      0u);
  auto c_node = add(c);
  std::vector<net::endpoint> via_b{net.endpoint_of(b)};
  await(sim::ask<std::uint32_t>(sys, net.node(c_node).dht, actors::bootstrap_atom::value, via_b));
  CAF_REQUIRE(knows(b, c_node));
  auto a = add(c);
  CAF_REQUIRE_EQUAL(net.endpoint_of(a), via_a.front());
  auto d = add(c);
  std::vector<net::endpoint> via_a_now{net.endpoint_of(a)};
  await(sim::ask<std::uint32_t>(sys, net.node(d).dht, actors::bootstrap_atom::value, via_a_now));
  CAF_REQUIRE(!knows(b, a));
  // B retries A on its backoff (10, 20, 40 s ... after the first silence).
  sim::drive(sched, [] { return false; }, 120s, 1s);
  CAF_CHECK(knows(b, a));
  CAF_CHECK(knows(a, b));
  CAF_CHECK(knows(b, d));
  // A record put from D's half is found from C's.
  put(d, "tts/cpu", {"tts/cpu/192.0.2.7:8899"});
  CAF_CHECK_EQUAL(get(c_node, "tts/cpu").values, strings{"tts/cpu/192.0.2.7:8899"});
}

CAF_TEST_FIXTURE_SCOPE_END()
