// Deterministic tests of the service directory over a simulated network: cold misses
// run one shared lookup, a warm cache answers without the network, stale entries are
// refreshed in the background, and only well-formed values for the key are kept. Over a
// fake DHT that counts gets: viewing what it knows starts no lookup and keeps no key.
#define CAF_SUITE service_directory
#include "caf/test/dsl.hpp"

#include "actors/service_directory.hpp"
#include "sim_network.hpp"

using namespace sova;
using namespace std::chrono_literals;
using actors::service_records;
using actors::strings;

namespace {

struct fixture : test_coordinator_fixture<> {
  sim::sim_network net{sys, 7};
  actors::service_directory_actor dir;

  template <class T>
  T await(const sim::answer<T>& a, caf::timespan limit = 120s) {
    CAF_REQUIRE(sim::drive(sched, [&] { return sim::ready(a); }, limit));
    CAF_REQUIRE(**a);
    return ***a;
  }

  /// Six nodes in a chain; the directory sits on node 0.
  void start(actors::directory_config cfg = {}) {
    for (std::size_t i = 0; i < 6; ++i) {
      net.add_node(net.make_config());
      if (i == 0) continue;
      std::vector<net::endpoint> via{net.endpoint_of(i - 1)};
      await(sim::ask<std::uint32_t>(sys, net.node(i).dht, actors::bootstrap_atom::value, via));
    }
    dir = actors::spawn_service_directory(sys, cfg, net.node(0).dht);
  }

  void put(std::size_t from, const std::string& key, strings values) {
    await(sim::ask<actors::put_result>(sys, net.node(from).dht, actors::dht_put_atom::value,
                                       net::node_id::digest(key), values));
  }

  sim::answer<service_records> ask_backends(const std::string& service, const std::string& kind) {
    auto s = net::parse_service(service);  // a service that is not one is refused at the edges
    auto w = net::parse_wanted_kind(kind);
    CAF_REQUIRE(s && w);
    return sim::ask<service_records>(sys, dir, actors::backends_atom::value, *s, *w);
  }

  strings names(const service_records& rs) {
    strings out;
    for (const auto& r : rs) out.push_back(r.to_string());
    std::sort(out.begin(), out.end());
    return out;
  }

  actors::directory_stats stats() {
    return await(sim::ask<actors::directory_stats>(sys, dir, actors::stats_atom::value));
  }
};

}  // namespace

CAF_TEST_FIXTURE_SCOPE(service_directory_tests, fixture)

CAF_TEST(concurrent_misses_for_one_key_share_one_lookup) {
  start();
  put(3, "asr/cpu", {"asr/cpu/192.0.2.1:8888", "asr/cpu/192.0.2.2:8888"});
  std::vector<sim::answer<service_records>> asks;
  for (int i = 0; i < 10; ++i) asks.push_back(ask_backends("asr", "cpu"));
  for (auto& a : asks)
    CAF_CHECK_EQUAL(names(await(a)), (strings{"asr/cpu/192.0.2.1:8888", "asr/cpu/192.0.2.2:8888"}));
  auto s = stats();
  CAF_CHECK_EQUAL(s.requests, 10u);
  CAF_CHECK_EQUAL(s.lookups_started, 1u);
}

CAF_TEST(a_warm_cache_answers_without_touching_the_network) {
  start();
  put(2, "tts/gpu", {"tts/gpu/192.0.2.9:8899"});
  CAF_CHECK_EQUAL(await(ask_backends("tts", "gpu")).size(), 1u);
  for (std::size_t i = 1; i < net.size(); ++i) net.kill(i);  // the network is gone ...
  auto a = ask_backends("tts", "gpu");
  sched.run();  // ... yet the answer comes with no simulated time passing
  CAF_REQUIRE(sim::ready(a));
  CAF_CHECK_EQUAL(names(***a), strings{"tts/gpu/192.0.2.9:8899"});
  CAF_CHECK_EQUAL(stats().answered_from_cache, 1u);
}

CAF_TEST(stale_entries_are_refreshed_in_the_background) {
  actors::directory_config cfg;
  cfg.refresh_interval = 30s;
  start(cfg);
  put(1, "asr/gpu", {"asr/gpu/192.0.2.1:8888"});
  CAF_CHECK_EQUAL(await(ask_backends("asr", "gpu")).size(), 1u);
  put(4, "asr/gpu", {"asr/gpu/192.0.2.2:8888"});  // a backend appears
  // The directory's owner ticks it; after the refresh interval a tick refreshes.
  for (int i = 0; i < 4; ++i) {
    sim::drive(sched, [] { return false; }, 10s, 1s);
    caf::anon_send(dir, actors::tick_atom::value);
  }
  sched.run();
  auto a = ask_backends("asr", "gpu");
  sched.run();
  CAF_REQUIRE(sim::ready(a));  // from the cache, already refreshed
  CAF_CHECK_EQUAL(names(***a), (strings{"asr/gpu/192.0.2.1:8888", "asr/gpu/192.0.2.2:8888"}));
  CAF_CHECK_EQUAL(stats().lookups_started, 2u);
}

CAF_TEST(a_key_without_backends_is_looked_up_again_after_a_few_seconds) {
  actors::directory_config cfg;
  cfg.refresh_interval = 30s;
  cfg.empty_refresh = 2s;
  start(cfg);
  CAF_CHECK(await(ask_backends("tts", "cpu")).empty());  // nobody announced one yet
  put(3, "tts/cpu", {"tts/cpu/192.0.2.7:8899"});          // a backend comes up
  // Within empty_refresh the empty answer is the cache's: no lookup.
  auto soon = ask_backends("tts", "cpu");
  sched.run();
  CAF_REQUIRE(sim::ready(soon));
  CAF_CHECK((***soon).empty());
  CAF_CHECK_EQUAL(stats().lookups_started, 1u);
  // Past it, the next request waits for a lookup and finds the backend, long before the
  // 30 s refresh.
  sim::drive(sched, [] { return false; }, 2s);
  CAF_CHECK_EQUAL(names(await(ask_backends("tts", "cpu"))), strings{"tts/cpu/192.0.2.7:8899"});
  CAF_CHECK_EQUAL(stats().lookups_started, 2u);
  // A key with backends is not looked up again before the refresh interval.
  sim::drive(sched, [] { return false; }, 5s);
  CAF_CHECK_EQUAL(await(ask_backends("tts", "cpu")).size(), 1u);
  CAF_CHECK_EQUAL(stats().lookups_started, 2u);
}

CAF_TEST(any_merges_cpu_and_gpu_and_bad_values_are_ignored) {
  start();
  put(1, "asr/cpu", {"asr/cpu/192.0.2.1:8888", "garbage", "tts/cpu/192.0.2.5:8899",
                     "asr/cpu/127.0.0.1:8888", "asr/cpu/localhost:8888"});
  put(2, "asr/gpu", {"asr/gpu/192.0.2.3:8888"});
  CAF_CHECK_EQUAL(names(await(ask_backends("asr", "any"))),
                  (strings{"asr/cpu/192.0.2.1:8888", "asr/gpu/192.0.2.3:8888"}));
  CAF_CHECK_EQUAL(stats().values_ignored, 4u);
  CAF_CHECK(await(ask_backends("tts", "any")).empty());
}

CAF_TEST(loopback_backends_are_kept_when_allowed) {
  actors::directory_config cfg;
  cfg.allow_loopback = true;
  start(cfg);
  put(1, "tts/cpu", {"tts/cpu/127.0.0.9:8899"});
  CAF_CHECK_EQUAL(names(await(ask_backends("tts", "cpu"))), strings{"tts/cpu/127.0.0.9:8899"});
}

CAF_TEST(own_backends_stand_for_the_records_naming_this_node) {
  actors::directory_config cfg;
  service_records own{*net::parse_service_record("tts/cpu/127.0.0.1:8899"),
                      *net::parse_service_record("asr/cpu/127.0.0.1:8888")};
  cfg.board = std::make_shared<serving::backend_board>();
  start(cfg);
  // The network holds this node's endpoint (as it announced it), another node's, and a
  // raw backend announced by an original node.
  put(1, "tts/cpu", {"tts/cpu/192.0.2.7:5600", "tts/cpu/192.0.2.8:5600", "tts/cpu/192.0.2.9:8899"});
  caf::anon_send(dir, actors::own_atom::value, strings{"192.0.2.7:5600"}, own);
  sched.run();
  // Own loopback backends are listed though loopback records from others are not.
  auto expected = strings{"tts/cpu/127.0.0.1:8899", "tts/cpu/192.0.2.8:5600", "tts/cpu/192.0.2.9:8899"};
  CAF_CHECK_EQUAL(names(await(ask_backends("tts", "any"))), expected);
  CAF_CHECK_EQUAL(names(cfg.board->snapshot()->keys.at("tts/cpu").records), expected);
  // The node's own backends come first (a request of kind any lists cpu, then gpu).
  CAF_CHECK_EQUAL(await(ask_backends("tts", "cpu")).front().to_string(), "tts/cpu/127.0.0.1:8899");
  // Announced under a new address later: the board follows at once.
  caf::anon_send(dir, actors::own_atom::value, strings{"192.0.2.7:5600", "192.0.2.8:5600"}, own);
  sched.run();
  CAF_CHECK_EQUAL(names(cfg.board->snapshot()->keys.at("tts/cpu").records),
                  (strings{"tts/cpu/127.0.0.1:8899", "tts/cpu/192.0.2.9:8899"}));
  // A key with nothing in the network still offers the own backend, while it is alive.
  CAF_CHECK_EQUAL(names(await(ask_backends("asr", "cpu"))), strings{"asr/cpu/127.0.0.1:8888"});
  caf::anon_send(dir, actors::own_atom::value, strings{"192.0.2.7:5600"}, service_records{own[0]});
  sched.run();
  CAF_CHECK(await(ask_backends("asr", "cpu")).empty());
}

CAF_TEST(every_lookup_is_posted_on_the_board_and_fast_lane_uses_keep_a_key) {
  actors::directory_config cfg;
  cfg.refresh_interval = 30s;
  cfg.forget_after = 60s;
  cfg.board = std::make_shared<serving::backend_board>();
  start(cfg);
  auto on_board = [&](const std::string& key) {
    auto s = cfg.board->snapshot();
    auto it = s->keys.find(key);
    return it == s->keys.end() ? strings{"(absent)"} : names(it->second.records);
  };
  CAF_CHECK_EQUAL(on_board("tts/cpu"), strings{"(absent)"});
  put(1, "tts/cpu", {"tts/cpu/192.0.2.1:8899"});
  await(ask_backends("tts", "any"));
  CAF_CHECK_EQUAL(on_board("tts/cpu"), strings{"tts/cpu/192.0.2.1:8899"});
  CAF_CHECK_EQUAL(on_board("tts/gpu"), strings{});  // known to be empty: not absent
  put(3, "tts/cpu", {"tts/cpu/192.0.2.2:8899"});
  // Nobody asks the directory any more; the fast lane uses tts/cpu (not tts/gpu) between
  // ticks: the background refresh reaches the board, and only tts/gpu is forgotten.
  for (int i = 0; i < 8; ++i) {
    sim::drive(sched, [] { return false; }, 10s, 1s);
    cfg.board->snapshot()->keys.at("tts/cpu").uses->fetch_add(1);
    caf::anon_send(dir, actors::tick_atom::value);
  }
  sched.run();
  CAF_CHECK_EQUAL(on_board("tts/cpu"),
                  (strings{"tts/cpu/192.0.2.1:8899", "tts/cpu/192.0.2.2:8899"}));
  CAF_CHECK_EQUAL(on_board("tts/gpu"), strings{"(absent)"});
  CAF_CHECK_EQUAL(stats().keys_cached, 1u);
}

CAF_TEST_FIXTURE_SCOPE_END()

namespace {

/// A DHT that answers every get at once with one TTS backend, and counts the gets.
actors::dht_actor::behavior_type counting_dht(actors::dht_actor::pointer,
                                              std::shared_ptr<int> gets) {
  return {
      [](actors::bootstrap_atom, const std::vector<net::endpoint>&) { return std::uint32_t{0}; },
      [](actors::lookup_atom, const net::node_id& key) {
        actors::lookup_result r;
        r.target = key;
        return r;
      },
      [gets](actors::dht_get_atom, const net::node_id& key) {
        ++*gets;
        actors::lookup_result r;
        r.target = key;
        r.found = true;
        r.values = {"tts/cpu/192.0.2.1:8899"};
        return r;
      },
      [](actors::dht_put_atom, const net::node_id&, const strings&) {
        return actors::put_result{};
      },
      [](actors::tick_atom) {},
  };
}

struct view_fixture : test_coordinator_fixture<> {
  std::shared_ptr<int> gets = std::make_shared<int>(0);
  actors::service_directory_actor dir;

  view_fixture() {
    actors::directory_config cfg;
    cfg.refresh_interval = std::chrono::hours(24);  // no background refresh in these tests
    cfg.forget_after = 60s;
    dir = actors::spawn_service_directory(sys, cfg, sys.spawn(counting_dht, gets));
    sched.run();
  }

  template <class T, class... Ts>
  T ask(Ts... xs) {
    auto a = sim::ask<T>(sys, dir, xs...);
    sched.run();
    CAF_REQUIRE(sim::ready(a) && **a);
    return ***a;
  }

  actors::directory_view view() {
    return ask<actors::directory_view>(actors::known_backends_atom::value);
  }

  strings keys(const actors::directory_view& v) {
    strings out;
    for (const auto& k : v.keys) out.push_back(k.key);
    return out;
  }

  /// `rounds` times: 10 s pass, then the directory ticks; `between` runs before each tick.
  void pass_time(int rounds, const std::function<void()>& between) {
    for (int i = 0; i < rounds; ++i) {
      sched.advance_time(10s);
      sched.run();
      between();
      caf::anon_send(dir, actors::tick_atom::value);
      sched.run();
    }
  }
};

}  // namespace

CAF_TEST_FIXTURE_SCOPE(directory_view_tests, view_fixture)

CAF_TEST(viewing_the_directory_starts_no_lookup) {
  auto empty = view();
  CAF_CHECK(empty.keys.empty());
  CAF_CHECK_EQUAL(*gets, 0);  // a key nobody asked for is not looked up by a view
  CAF_CHECK_EQUAL(ask<service_records>(actors::backends_atom::value, net::service::tts,
                                       net::wanted_kind::cpu).size(), 1u);
  CAF_CHECK_EQUAL(*gets, 1);
  for (int i = 0; i < 5; ++i) view();
  auto v = view();
  CAF_CHECK_EQUAL(*gets, 1);
  CAF_CHECK_EQUAL(keys(v), strings{"tts/cpu"});
  CAF_REQUIRE_EQUAL(v.keys.at(0).backends.size(), 1u);
  CAF_CHECK_EQUAL(v.keys.at(0).backends.at(0).to_string(), "tts/cpu/192.0.2.1:8899");
  CAF_CHECK_EQUAL(v.stats.requests, 1u);  // views are not requests
  CAF_CHECK_EQUAL(v.stats.lookups_started, 1u);
}

CAF_TEST(viewing_the_directory_keeps_no_key_from_being_forgotten) {
  ask<service_records>(actors::backends_atom::value, net::service::tts, net::wanted_kind::cpu);
  // A use every 10 s keeps the key past forget_after (60 s) ...
  pass_time(8, [&] {
    ask<service_records>(actors::backends_atom::value, net::service::tts, net::wanted_kind::cpu);
  });
  auto used = view();
  CAF_CHECK_EQUAL(keys(used), strings{"tts/cpu"});
  // ... a view every 10 s does not: the key goes once it is 60 s unused.
  pass_time(8, [&] { view(); });
  auto after = view();
  CAF_CHECK(after.keys.empty());
  CAF_CHECK_EQUAL(after.stats.keys_cached, 0u);
  CAF_CHECK_EQUAL(*gets, 1);  // and no lookup all along
}

CAF_TEST_FIXTURE_SCOPE_END()
