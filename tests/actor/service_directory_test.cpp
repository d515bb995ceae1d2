// Deterministic tests of the service directory over a simulated network: cold misses
// run one shared lookup, a warm cache answers without the network, stale entries are
// refreshed in the background, and only well-formed values for the key are kept.
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
    return sim::ask<service_records>(sys, dir, actors::backends_atom::value, service, kind);
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
  CAF_CHECK(await(ask_backends("stt", "cpu")).empty());  // not a service: nothing
}

CAF_TEST(loopback_backends_are_kept_when_allowed) {
  actors::directory_config cfg;
  cfg.allow_loopback = true;
  start(cfg);
  put(1, "tts/cpu", {"tts/cpu/127.0.0.9:8899"});
  CAF_CHECK_EQUAL(names(await(ask_backends("tts", "cpu"))), strings{"tts/cpu/127.0.0.9:8899"});
}

CAF_TEST(every_lookup_is_posted_on_the_board_and_fast_lane_uses_keep_a_key) {
  actors::directory_config cfg;
  cfg.refresh_interval = 30s;
  cfg.forget_after = 60s;
  cfg.board = std::make_shared<actors::backend_board>();
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
