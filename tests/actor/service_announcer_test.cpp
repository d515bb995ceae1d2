// The service announcer. Deterministic part: over a simulated network with a scripted
// probe, live backends become findable from other nodes, dead ones never are, records are
// refreshed every interval, a backend that dies expires from the network and one that
// comes back returns, a probe still out is not started twice, and a backend busy serving
// the node's requests stays announced while its probe times out. Real-HTTP part: the
// probe's requests and what counts as alive, against an http::server on 127.0.0.1, and a
// closed port. With an owner (node mode), the announcer asks it and never probes.
#define CAF_SUITE service_announcer
#include "caf/test/dsl.hpp"

#include <algorithm>
#include <future>
#include <map>
#include <mutex>
#include <set>

#include <caf/send.hpp>
#include <nlohmann/json.hpp>

#include "actors/owner_actor.hpp"
#include "actors/service_announcer.hpp"
#include "actors/service_directory.hpp"
#include "http/multipart.hpp"
#include "http/server.hpp"
#include "sim_network.hpp"

using namespace sova;
using namespace std::chrono_literals;
using actors::own_services;
using actors::strings;

namespace {

using done_fn = std::function<void(actors::probe_verdict)>;

/// Backends whose answers the test scripts. All calls happen on the test thread.
struct fake_backends {
  std::set<std::string> alive;  // by record text; others answer dead
  std::set<std::string> held;   // these do not answer until released
  std::set<std::string> slow;   // these time out
  std::vector<std::pair<std::string, done_fn>> waiting;
  std::map<std::string, int> probes;  // probes started, by record text

  static inline const std::string refused = "connect_failed: connection refused (fake)";
  static inline const std::string too_slow = "timeout: no response within 5000 ms (fake)";

  void answer(const std::string& name, const done_fn& done) {
    actors::probe_verdict v;
    v.timed_out = slow.count(name) > 0;
    v.alive = !v.timed_out && alive.count(name) > 0;
    if (!v.alive) v.error = v.timed_out ? too_slow : refused;
    done(std::move(v));
  }

  /// Answers the held-back probes of `name` with its current state.
  void release(const std::string& name) {
    held.erase(name);
    auto still = decltype(waiting){};
    for (auto& [n, done] : waiting)
      if (n == name)
        answer(n, done);
      else
        still.emplace_back(n, std::move(done));
    waiting = std::move(still);
  }
};

actors::backend_probe fake_probe(std::shared_ptr<fake_backends> fake) {
  return [fake](const net::service_record& rec, done_fn done) {
    auto name = rec.to_string();
    ++fake->probes[name];
    if (fake->held.count(name) > 0)
      fake->waiting.emplace_back(name, std::move(done));
    else
      fake->answer(name, done);
  };
}

net::service_record record(const std::string& text) {
  auto r = net::parse_service_record(text);
  CAF_REQUIRE(r);
  return *r;
}

const std::string asr_a = "asr/cpu/192.0.2.10:8888";
const std::string asr_b = "asr/cpu/192.0.2.20:8888";
const std::string tts_a = "tts/gpu/192.0.2.11:8899";

/// Stands in for the backend pool: answers `health` with readings the test sets.
using healths_ptr = std::shared_ptr<serving::backend_readings>;
actors::backend_pool_actor::behavior_type scripted_pool(actors::backend_pool_actor::pointer,
                                                       healths_ptr healths) {
  return {
      [](actors::forwarders_atom, const actors::service_records&) {
        return actors::backend_links{};
      },
      [healths](actors::health_atom) { return *healths; },
      [](actors::tick_atom) {},
  };
}

struct fixture : test_coordinator_fixture<> {
  sim::sim_network net{sys, 11};
  healths_ptr healths = std::make_shared<serving::backend_readings>();
  actors::backend_pool_actor pool;  // none unless a test sets it up: no busy rule
  std::shared_ptr<fake_backends> fake = std::make_shared<fake_backends>();
  actors::announcer_config cfg;
  actors::service_announcer_actor ann;

  fixture() { cfg.interval = 30s; }

  ~fixture() {
    if (ann) caf::anon_send_exit(ann, caf::exit_reason::user_shutdown);
    if (owner) caf::anon_send_exit(owner, caf::exit_reason::user_shutdown);
    fake->waiting.clear();  // they hold the announcer
  }

  template <class T>
  T await(const sim::answer<T>& a, caf::timespan limit = 120s) {
    CAF_REQUIRE(sim::drive(sched, [&] { return sim::ready(a); }, limit));
    CAF_REQUIRE(**a);
    return ***a;
  }

  /// Six nodes in a chain; the announcer of `own` sits on node 0.
  void start(const std::vector<std::string>& own, actors::dht_config base = {}) {
    for (std::size_t i = 0; i < 6; ++i) {
      net.add_node(net.make_config(base));
      if (i == 0) continue;
      std::vector<net::endpoint> via{net.endpoint_of(i - 1)};
      await(sim::ask<std::uint32_t>(sys, net.node(i).dht, actors::bootstrap_atom::value, via));
    }
    std::vector<net::service_record> recs;
    for (const auto& s : own) recs.push_back(record(s));
    if (cfg.announce == actors::announcer_config::what::node) {
      actors::directory_config dc;
      dc.allow_loopback = true;  // the sim's addresses are 127.1.x.y: only the own rule drops ours
      dir = actors::spawn_service_directory(sys, dc, net.node(0).dht);
    }
    ann = actors::spawn_service_announcer(sys, cfg, recs, net.node(0).dht, fake_probe(fake),
                                          pool,
                                          {net.node(0).table, net.node(0).transport, dir, owner});
    sched.run();
  }

  actors::service_directory_actor dir;  // node mode: told the endpoints announced
  actors::owner_actor owner;            // none unless a test sets one up: probes go straight

  actors::announce_view announced() {
    auto a = sim::ask<actors::announce_view>(sys, ann, actors::announced_atom::value);
    sched.run();
    CAF_REQUIRE(sim::ready(a) && *a);
    return ***a;
  }

  /// What the pool says of `name`: requests of this node in flight, served so far, breaker.
  void pool_says(const std::string& name, std::uint32_t in_flight, std::uint64_t served,
                 serving::breaker_state breaker = serving::breaker_state::closed) {
    if (!pool) pool = sys.spawn(scripted_pool, healths);
    for (auto& h : *healths)
      if (h.backend.to_string() == name) {
        h.in_flight = in_flight;
        h.served = served;
        h.breaker = breaker;
        return;
      }
    serving::backend_reading h;
    h.backend = record(name);
    h.in_flight = in_flight;
    h.served = served;
    h.breaker = breaker;
    healths->push_back(h);
  }

  /// Lets `d` pass in steps of 100 ms, running what each step brings (a single jump
  /// would process every timer at the end, and what they schedule would start from there).
  void advance(caf::timespan d) {
    for (caf::timespan t{0}; t < d; t += 100ms) {
      sched.advance_time(std::min<caf::timespan>(100ms, d - t));
      sched.run();
    }
  }

  /// One probe round, announcements included.
  void round() {
    sched.advance_time(cfg.interval);
    sched.run();
  }

  /// The announcer answers at once: no simulated time passes (safe inside a drive predicate).
  own_services services() {
    auto a = sim::ask<own_services>(sys, ann, actors::services_atom::value);
    sched.run();
    CAF_REQUIRE(sim::ready(a) && *a);
    return ***a;
  }

  actors::own_service service(const std::string& name) {
    for (auto& s : services())
      if (s.backend.to_string() == name) return s;
    CAF_FAIL("no own service " << name);
  }

  /// What a dht get from node `from` finds under `key_text`, sorted.
  strings get(std::size_t from, const std::string& key_text) {
    auto r = await(sim::ask<actors::lookup_result>(sys, net.node(from).dht,
                                                   actors::dht_get_atom::value,
                                                   net::node_id::digest(key_text)));
    std::sort(r.values.begin(), r.values.end());
    return r.values;
  }

  /// Lets `d` of simulated time pass, firing every timer on the way.
  void pass(caf::timespan d) { sim::drive(sched, [] { return false; }, d); }

  /// Runs announcement rounds until `name` has been announced `n` times in all.
  void until_announced(const std::string& name, std::uint64_t n) {
    CAF_REQUIRE(sim::drive(sched, [&] { return service(name).announcements >= n; },
                           cfg.interval * 4));
  }
};

}  // namespace

CAF_TEST_FIXTURE_SCOPE(service_announcer_tests, fixture)

CAF_TEST(node_mode_announces_the_nodes_endpoint_once_per_live_service_and_kind) {
  cfg.announce = actors::announcer_config::what::node;
  cfg.bind_host = "0.0.0.0";  // nothing to announce until a peer says how it sees the node
  cfg.http_port = 5600;
  fake->alive = {asr_a, asr_b};  // two backends of asr/cpu; the tts/gpu one is dead
  start({asr_a, asr_b, tts_a});
  pass(cfg.interval * 2);
  auto node0 = net.endpoint_of(0).host + ":5600";
  CAF_CHECK_EQUAL(get(5, "asr/cpu"), strings{"asr/cpu/" + node0});  // one record, not two
  CAF_CHECK(get(4, "tts/gpu").empty());  // no live backend of the pair
  auto a = announced();
  CAF_CHECK_EQUAL(a.mode, "node");
  CAF_CHECK_EQUAL(a.endpoint, node0);
  CAF_CHECK_EQUAL(a.source, "stun");  // every peer is on loopback here, as in tests and demos
  CAF_CHECK_EQUAL(a.records, strings{"asr/cpu/" + node0});
  CAF_CHECK_GREATER_OR_EQUAL(service(asr_a).announcements, 2u);
  CAF_CHECK_EQUAL(service(tts_a).announcements, 0u);
  // The node's directory offers its own backends for that record, never the record itself.
  auto offered = sim::ask<actors::service_records>(sys, dir, actors::backends_atom::value,
                                                   net::service::asr, net::wanted_kind::cpu);
  CAF_REQUIRE(sim::drive(sched, [&] { return sim::ready(offered); }, 60s));
  CAF_REQUIRE(*offered);
  strings names;
  for (const auto& r : ***offered) names.push_back(r.to_string());
  CAF_CHECK_EQUAL(names, (strings{asr_a, asr_b}));
  // The tts backend comes up: its pair is announced within seconds.
  fake->alive.insert(tts_a);
  pass(cfg.first_retry * 8);
  CAF_CHECK_EQUAL(get(4, "tts/gpu"), strings{"tts/gpu/" + node0});
}

CAF_TEST(with_an_owner_the_announcer_asks_it_and_never_probes_a_backend_itself) {
  cfg.announce = actors::announcer_config::what::node;
  cfg.bind_host = "0.0.0.0";
  cfg.http_port = 5600;
  // The owner's probes see asr_a alive; a probe of the announcer's own would see it dead.
  auto owners_view = std::make_shared<fake_backends>();
  owners_view->alive = {asr_a};
  pool = sys.spawn(scripted_pool, healths);
  std::vector<net::owned_backend> own{*net::parse_owned_backend(asr_a)};
  owner = actors::spawn_owner(sys, {}, own, pool, fake_probe(owners_view));
  start({asr_a});
  pass(cfg.interval * 2);
  CAF_CHECK_EQUAL(fake->probes[asr_a], 0);
  // The owner probed it at start and at each of the announcer's checks (idle: on a slot).
  CAF_CHECK_GREATER_OR_EQUAL(owners_view->probes[asr_a], 3);
  CAF_CHECK(service(asr_a).alive);
  CAF_CHECK_EQUAL(get(5, "asr/cpu"), strings{"asr/cpu/" + net.endpoint_of(0).host + ":5600"});
  // It stops answering the owner's probes: the owner marks it down, the announcer follows.
  owners_view->alive.clear();
  round();
  auto s = service(asr_a);
  CAF_CHECK(!s.alive);
  CAF_CHECK_EQUAL(s.last_error, fake_backends::refused);
  round();
  CAF_CHECK(!service(asr_a).alive);
  auto why = service(asr_a).last_error;
  CAF_CHECK_NOT_EQUAL(why.find("down (its probe failed: "), std::string::npos);
  CAF_CHECK_EQUAL(fake->probes[asr_a], 0);
}

CAF_TEST(node_mode_announces_nothing_where_peers_could_not_reach_it_and_says_why) {
  cfg.announce = actors::announcer_config::what::node;
  cfg.bind_host = "0.0.0.0";
  cfg.public_host = "0.0.0.0";  // given on purpose, and unusable
  cfg.http_port = 5600;
  fake->alive = {asr_a};
  start({asr_a});
  pass(cfg.interval * 2);
  CAF_CHECK(get(5, "asr/cpu").empty());
  auto a = announced();
  CAF_CHECK_EQUAL(a.endpoint, "");
  CAF_CHECK(a.records.empty());
  CAF_MESSAGE(a.why_none);
  CAF_CHECK_NOT_EQUAL(a.why_none.find("--public-address 0.0.0.0 is an unspecified address"),
                      std::string::npos);
  CAF_CHECK(service(asr_a).alive);  // probed as ever
}

CAF_TEST(node_mode_asks_again_until_a_peer_says_how_it_sees_the_node) {
  cfg.announce = actors::announcer_config::what::node;
  cfg.bind_host = "0.0.0.0";
  cfg.http_port = 5600;
  fake->alive = {asr_a};
  start({});  // the network (its announcer, with no backend, is not this test's)
  caf::anon_send_exit(ann, caf::exit_reason::user_shutdown);
  // A first node alone: nobody to ask at start.
  auto lone = net.add_node(net.make_config());
  std::vector<net::service_record> recs{record(asr_a)};
  ann = actors::spawn_service_announcer(sys, cfg, recs, net.node(lone).dht, fake_probe(fake), pool,
                                        {net.node(lone).table, net.node(lone).transport, {}, {}});
  pass(5s);
  CAF_CHECK_EQUAL(announced().endpoint, "");
  CAF_CHECK_NOT_EQUAL(announced().why_none.find("no peer has told"), std::string::npos);
  // Another node joins through it: the address is known within seconds, not an interval.
  std::vector<net::endpoint> via{net.endpoint_of(lone)};
  await(sim::ask<std::uint32_t>(sys, net.node(0).dht, actors::bootstrap_atom::value, via));
  pass(10s);
  auto a = announced();
  CAF_CHECK_EQUAL(a.endpoint, net.endpoint_of(lone).host + ":5600");
  CAF_CHECK_EQUAL(a.source, "stun");
  CAF_CHECK_EQUAL(get(3, "asr/cpu"), strings{"asr/cpu/" + a.endpoint});
}

CAF_TEST(node_mode_waits_for_the_http_port) {
  cfg.announce = actors::announcer_config::what::node;
  cfg.bind_host = "127.1.0.1";
  cfg.http_port = 0;  // --http-port 0: known once bound
  fake->alive = {asr_a};
  start({asr_a});
  pass(cfg.interval);
  CAF_CHECK(get(5, "asr/cpu").empty());
  CAF_CHECK_EQUAL(announced().why_none, "the HTTP port is not bound yet");
  caf::anon_send(ann, actors::http_port_atom::value, std::uint16_t{40123});
  sched.run();
  pass(1s);
  auto node0 = announced().endpoint;
  CAF_CHECK_EQUAL(node0.substr(node0.size() - 6), ":40123");
  CAF_CHECK_EQUAL(get(5, "asr/cpu"), strings{"asr/cpu/" + node0});
}

CAF_TEST(live_backends_are_found_from_another_node) {
  fake->alive = {asr_a, tts_a};
  start({asr_a, tts_a});
  until_announced(asr_a, 1);
  until_announced(tts_a, 1);
  CAF_CHECK_EQUAL(get(5, "asr/cpu"), strings{asr_a});
  CAF_CHECK_EQUAL(get(3, "tts/gpu"), strings{tts_a});
  CAF_CHECK(get(5, "asr/gpu").empty());
}

CAF_TEST(a_dead_backend_is_never_stored) {
  fake->alive = {asr_a};
  start({asr_a, asr_b});
  pass(cfg.interval * 3);
  CAF_CHECK_EQUAL(get(4, "asr/cpu"), strings{asr_a});
  auto dead = service(asr_b);
  CAF_CHECK(!dead.alive);
  CAF_CHECK_EQUAL(dead.announcements, 0u);
  CAF_CHECK_EQUAL(dead.last_error, fake_backends::refused);
  CAF_CHECK_GREATER_OR_EQUAL(fake->probes[asr_b], 3);  // it is asked again every round
}

CAF_TEST(records_are_refreshed_every_interval) {
  fake->alive = {asr_a};
  start({asr_a});
  CAF_CHECK_EQUAL(service(asr_a).announcements, 1u);  // at start, no time passed
  for (std::uint64_t round = 2; round <= 5; ++round) {
    sched.advance_time(cfg.interval);
    sched.run();
    CAF_CHECK_EQUAL(service(asr_a).announcements, round);
    CAF_CHECK_EQUAL(fake->probes[asr_a], static_cast<int>(round));
  }
}

CAF_TEST(a_backend_that_stops_answering_expires_from_the_network) {
  actors::dht_config base;
  base.record_ttl = 60s;
  base.tick_interval = 10s;
  cfg.interval = 20s;
  fake->alive = {asr_a, asr_b};
  start({asr_a, asr_b}, base);
  until_announced(asr_b, 1);
  CAF_CHECK_EQUAL(get(5, "asr/cpu"), (strings{asr_a, asr_b}));
  fake->alive = {asr_a};  // asr_b dies
  CAF_REQUIRE(sim::drive(sched, [&] { return !service(asr_b).alive; }, cfg.interval * 2));
  auto announced = service(asr_b).announcements;
  CAF_CHECK_EQUAL(service(asr_b).last_error, fake_backends::refused);
  CAF_CHECK_EQUAL(get(5, "asr/cpu"), (strings{asr_a, asr_b}));  // its record outlives it ...
  pass(base.record_ttl + 2 * base.tick_interval);
  CAF_CHECK_EQUAL(get(5, "asr/cpu"), strings{asr_a});  // ... until the TTL
  CAF_CHECK_EQUAL(get(0, "asr/cpu"), strings{asr_a});  // the announcer's node too
  CAF_CHECK_EQUAL(service(asr_b).announcements, announced);
  CAF_CHECK_GREATER(service(asr_a).announcements, announced);  // the live one goes on
}

CAF_TEST(a_backend_that_comes_back_is_announced_again) {
  fake->alive = {asr_a};
  start({asr_a});
  fake->alive.clear();
  CAF_REQUIRE(sim::drive(sched, [&] { return !service(asr_a).alive; }, cfg.interval * 2));
  auto before = service(asr_a).announcements;
  pass(cfg.interval * 2);
  CAF_CHECK_EQUAL(service(asr_a).announcements, before);  // not announced while dead
  fake->alive = {asr_a};
  until_announced(asr_a, before + 1);
  auto back = service(asr_a);
  CAF_CHECK(back.alive);
  CAF_CHECK(back.last_error.empty());
  CAF_CHECK_EQUAL(get(2, "asr/cpu"), strings{asr_a});
}

CAF_TEST(a_probe_still_out_is_not_started_again) {
  fake->alive = {asr_a, tts_a};
  fake->held = {asr_a};
  start({asr_a, tts_a});
  pass(cfg.interval * 3 + 1s);  // three more rounds
  CAF_CHECK_EQUAL(fake->probes[asr_a], 1);
  CAF_CHECK_EQUAL(fake->probes[tts_a], 4);
  CAF_CHECK_EQUAL(service(asr_a).announcements, 0u);
  fake->release(asr_a);  // the late answer: alive
  sched.run();
  CAF_CHECK_EQUAL(service(asr_a).announcements, 1u);
  CAF_CHECK_EQUAL(get(4, "asr/cpu"), strings{asr_a});
  pass(cfg.interval);
  CAF_CHECK_EQUAL(fake->probes[asr_a], 2);  // probed again once it answered
}

CAF_TEST(services_reports_each_backend_in_services_order) {
  fake->alive = {tts_a, asr_b};
  start({tts_a, asr_a, asr_b});
  pass(cfg.interval);  // two rounds
  auto all = services();
  CAF_REQUIRE_EQUAL(all.size(), 3u);
  CAF_CHECK_EQUAL(all[0].backend, record(tts_a));
  CAF_CHECK_EQUAL(all[1].backend, record(asr_a));
  CAF_CHECK_EQUAL(all[2].backend, record(asr_b));
  CAF_CHECK(all[0].alive && all[2].alive && !all[1].alive);
  CAF_CHECK(all[0].last_error.empty());
  CAF_CHECK_EQUAL(all[1].last_error, fake_backends::refused);
  CAF_CHECK_EQUAL(all[0].announcements, 2u);
  CAF_CHECK_EQUAL(all[1].announcements, 0u);
  CAF_CHECK_EQUAL(all[2].announcements, 2u);
}

CAF_TEST(a_lone_node_stores_its_own_records) {
  fake->alive = {asr_a};
  net.add_node(net.make_config());
  ann = actors::spawn_service_announcer(sys, cfg, {record(asr_a)}, net.node(0).dht,
                                        fake_probe(fake));  // no pool
  sched.run();
  CAF_CHECK_EQUAL(service(asr_a).announcements, 1u);  // stored_local counts
  CAF_CHECK_EQUAL(get(0, "asr/cpu"), strings{asr_a});
}

CAF_TEST(a_backend_that_does_not_answer_is_probed_again_on_a_doubling_backoff) {
  cfg.interval = 30s;
  cfg.first_retry = 1s;
  start({asr_a, tts_a});  // neither answers
  CAF_CHECK_EQUAL(fake->probes[asr_a], 1);
  // Retries 1, 2, 4 and 8 s after each failed probe: at 1, 3, 7 and 15 s.
  std::vector<std::pair<caf::timespan, int>> schedule{
      {999ms, 1}, {1ms, 2}, {1999ms, 2}, {1ms, 3}, {4s, 4}, {8s, 5}, {14s, 5}};
  for (const auto& [step, probes] : schedule) {
    sched.advance_time(step);
    sched.run();
    CAF_CHECK_EQUAL(fake->probes[asr_a], probes);
  }
  // At 30 s the round probes it; the retry due at 31 s (16 s after 15) comes too; then
  // the delay stays at the interval: one retry between two rounds.
  sched.advance_time(1s);
  sched.run();
  CAF_CHECK_EQUAL(fake->probes[asr_a], 6);
  sched.advance_time(1s);
  sched.run();
  CAF_CHECK_EQUAL(fake->probes[asr_a], 7);
  pass(60s);
  CAF_CHECK_EQUAL(fake->probes[asr_a], 11);
  CAF_CHECK_EQUAL(fake->probes[tts_a], fake->probes[asr_a]);  // each backend its own schedule
  CAF_CHECK_EQUAL(service(asr_a).announcements, 0u);
}

CAF_TEST(a_backend_coming_up_after_its_node_is_announced_within_seconds) {
  cfg.interval = 30s;
  cfg.first_retry = 1s;
  start({asr_a});  // the backend is not up yet
  advance(4s);  // retries at 1 and 3 s failed
  CAF_CHECK_EQUAL(fake->probes[asr_a], 3);
  CAF_CHECK_EQUAL(service(asr_a).announcements, 0u);
  fake->alive = {asr_a};  // it comes up at 4 s
  advance(3100ms);  // the retry at 7 s finds it
  auto s = service(asr_a);
  CAF_CHECK(s.alive);
  CAF_CHECK_EQUAL(s.announcements, 1u);
  CAF_CHECK_EQUAL(get(4, "asr/cpu"), strings{asr_a});
  // Announced, it is probed at the interval again, not on the backoff.
  auto probes = fake->probes[asr_a];
  advance(22s);
  CAF_CHECK_EQUAL(fake->probes[asr_a], probes);
}

CAF_TEST(a_withdrawn_backend_that_comes_back_is_announced_within_seconds) {
  cfg.interval = 30s;
  cfg.first_retry = 1s;
  fake->alive = {asr_a};
  start({asr_a});
  fake->alive.clear();  // it dies; the round at 30 s withdraws it
  advance(30s);
  CAF_REQUIRE(!service(asr_a).alive);
  auto announced = service(asr_a).announcements;
  advance(1500ms);  // the retry at 31 s fails too
  CAF_CHECK(!service(asr_a).alive);
  fake->alive = {asr_a};  // back at 31.5 s: the retry at 33 s finds it
  advance(1600ms);
  CAF_CHECK(service(asr_a).alive);
  CAF_CHECK_EQUAL(service(asr_a).announcements, announced + 1);
  // The next time it goes, the backoff starts again from the first retry.
  fake->alive.clear();
  advance(26900ms);  // to the round at 60 s
  CAF_REQUIRE(!service(asr_a).alive);
  auto probes = fake->probes[asr_a];
  advance(1100ms);
  CAF_CHECK_EQUAL(fake->probes[asr_a], probes + 1);
}

CAF_TEST(a_retry_never_stacks_a_second_probe_on_one_still_out) {
  cfg.interval = 30s;
  cfg.first_retry = 1s;
  fake->held = {asr_a};  // its probes go unanswered for now
  start({asr_a});
  pass(20s);  // retries would come, but the first probe has not answered
  CAF_CHECK_EQUAL(fake->probes[asr_a], 1);
  fake->release(asr_a);  // it answers: dead
  sched.run();
  advance(1100ms);  // the first retry
  CAF_CHECK_EQUAL(fake->probes[asr_a], 2);
}

CAF_TEST(a_busy_backend_whose_probe_times_out_stays_announced) {
  fake->alive = {asr_a};
  pool_says(asr_a, 0, 0);
  start({asr_a});
  CAF_CHECK_EQUAL(service(asr_a).announcements, 1u);
  // A one-worker backend now works on long requests of this node: probes wait past their
  // timeout behind them, round after round.
  fake->slow = {asr_a};
  for (std::uint64_t r = 1; r <= 4; ++r) {
    pool_says(asr_a, 1, r);  // one in flight, and it served one since the last probe
    round();
    auto s = service(asr_a);
    CAF_CHECK(s.alive);
    CAF_CHECK_EQUAL(s.announcements, 1u + r);
    CAF_CHECK_EQUAL(s.last_error.rfind("busy: the probe timeout", 0), 0u);
  }
  CAF_CHECK_EQUAL(get(4, "asr/cpu"), strings{asr_a});
  // Served since the last probe, nothing in flight now: still busy enough.
  pool_says(asr_a, 0, 6);
  round();
  CAF_CHECK(service(asr_a).alive);
  // Silent while idle: nothing in flight, nothing served since the last probe: withdrawn.
  round();
  CAF_CHECK(!service(asr_a).alive);
  CAF_CHECK_EQUAL(service(asr_a).last_error, fake_backends::too_slow);
  // It answers again: announced, the error gone.
  fake->slow.clear();
  round();
  CAF_CHECK(service(asr_a).alive);
  CAF_CHECK(service(asr_a).last_error.empty());
}

CAF_TEST(a_backend_that_fails_requests_or_refuses_connections_is_not_kept_as_busy) {
  fake->alive = {asr_a, asr_b};
  pool_says(asr_a, 0, 0);
  pool_says(asr_b, 0, 0);
  start({asr_a, asr_b});
  fake->slow = {asr_a};
  fake->alive = {asr_a};  // asr_b now refuses connections
  pool_says(asr_a, 2, 3, serving::breaker_state::open);  // its requests fail too
  pool_says(asr_b, 2, 3);  // in flight, but its port is closed: not busy, gone
  round();
  CAF_CHECK(!service(asr_a).alive);
  CAF_CHECK_EQUAL(service(asr_a).last_error, fake_backends::too_slow);
  CAF_CHECK(!service(asr_b).alive);
  CAF_CHECK_EQUAL(service(asr_b).last_error, fake_backends::refused);
}

CAF_TEST(without_the_pools_word_a_timed_out_probe_is_dead) {
  fake->alive = {asr_a};
  start({asr_a});  // no pool
  fake->slow = {asr_a};
  round();
  CAF_CHECK(!service(asr_a).alive);
}

CAF_TEST_FIXTURE_SCOPE_END()

// -- the real probe over HTTP (127.0.0.1 only) ---------------------------------

namespace {

/// A server on 127.0.0.1 that records every request and answers with `status`,
/// `content_type` and `body`.
struct recording_backend {
  std::mutex mtx;
  std::vector<http::request> seen;
  std::vector<http::responder> unanswered;  // kept when `answer` is false
  unsigned status = 200;
  std::string content_type = "text/html; charset=utf-8";  // as SOVA ASR labels its JSON
  std::string body = R"({"r": []})";
  bool answer = true;
  std::shared_ptr<http::server> srv;

  recording_backend() {
    srv = http::server::start("127.0.0.1", 0, {}, [this](http::request req, http::responder r) {
      std::lock_guard<std::mutex> guard{mtx};
      seen.push_back(std::move(req));
      if (!answer) {
        unanswered.push_back(std::move(r));
        return;
      }
      http::response resp;
      resp.status = status;
      resp.content_type = content_type;
      resp.body = body;
      r(std::move(resp));
    });
  }
  ~recording_backend() { srv->stop(); }

  std::vector<http::request> requests() {
    std::lock_guard<std::mutex> guard{mtx};
    return seen;
  }
};

/// Runs one probe and waits for it, at most 10 s of real time.
actors::probe_verdict run_probe(const std::string& service, std::uint16_t port,
                                std::chrono::milliseconds timeout = 2000ms) {
  auto client = http::client::create({});
  auto probe = actors::http_probe_over(client, timeout);
  net::service_record rec{*net::parse_service(service), net::kind::cpu, "127.0.0.1", port};
  auto result = std::make_shared<std::promise<actors::probe_verdict>>();
  auto fut = result->get_future();
  probe(rec, [result](actors::probe_verdict v) { result->set_value(std::move(v)); });
  CAF_REQUIRE(fut.wait_for(10s) == std::future_status::ready);
  auto out = fut.get();
  client->stop();
  return out;
}

}  // namespace

CAF_TEST(http_probe_of_asr_posts_an_empty_form) {
  recording_backend be;
  auto out = run_probe("asr", be.srv->port());
  CAF_CHECK(out.alive);
  CAF_CHECK(out.error.empty());
  auto reqs = be.requests();
  CAF_REQUIRE_EQUAL(reqs.size(), 1u);
  CAF_CHECK_EQUAL(reqs[0].method, "POST");
  CAF_CHECK_EQUAL(reqs[0].target, "/asr");
  auto ct = reqs[0].header("Content-Type");
  CAF_CHECK_EQUAL(ct.rfind("multipart/form-data", 0), 0u);
  auto boundary = http::multipart_boundary(ct);
  CAF_REQUIRE(boundary);
  CAF_CHECK_EQUAL(reqs[0].body, "--" + *boundary + "--\r\n");  // just the closing boundary
  auto parts = http::parse_multipart(reqs[0].body, *boundary);
  CAF_REQUIRE(parts);
  CAF_CHECK(parts->empty());
}

CAF_TEST(http_probe_of_tts_posts_empty_text_with_a_voice) {
  recording_backend be;
  be.content_type = "application/json";
  be.body = R"({"response": "empty text", "response_code": 1})";  // how SOVA TTS answers it
  auto out = run_probe("tts", be.srv->port());
  CAF_CHECK(out.alive);
  CAF_CHECK(out.error.empty());
  auto reqs = be.requests();
  CAF_REQUIRE_EQUAL(reqs.size(), 1u);
  CAF_CHECK_EQUAL(reqs[0].method, "POST");
  CAF_CHECK_EQUAL(reqs[0].target, "/synthesize/");
  CAF_CHECK_EQUAL(reqs[0].header("Content-Type"), "application/json");
  auto body = nlohmann::json::parse(reqs[0].body, nullptr, false);
  CAF_REQUIRE(!body.is_discarded());
  // A real SOVA TTS answers a body without voice with HTTP 500 and a stack trace.
  CAF_CHECK(body == nlohmann::json({{"text", ""}, {"voice", "Natasha"}}));
}

CAF_TEST(http_probe_counts_only_a_reply_of_the_service_as_alive) {
  struct answer {
    std::string service;
    unsigned status;
    std::string content_type, body, error_part;
  };
  std::vector<answer> answers{
      {"tts", 500, "text/html", "<title>500 Internal Server Error</title>", "answered 500"},
      {"asr", 503, "application/json", R"({"response_code": 1})", "answered 503"},
      {"asr", 200, "application/json", R"({"status": "ok"})", "JSON that is not a SOVA ASR reply"},
      {"asr", 200, "text/html", "<html>welcome</html>", "answered 200 (text/html) \"<html>"},
      // A TTS backend entered at the ASR server's port: Flask answers 404 there.
      {"tts", 404, "text/html", "<!doctype html><title>404 Not Found</title>",
       "SOVA TTS serves POST /synthesize/: is that the ASR port?"},
      {"asr", 200, "application/json", R"({"response": [], "response_code": 0})",
       "is that the TTS port?"},
  };
  for (const auto& a : answers) {
    recording_backend be;
    be.status = a.status;
    be.content_type = a.content_type;
    be.body = a.body;
    auto out = run_probe(a.service, be.srv->port());
    CAF_MESSAGE(out.error);
    CAF_CHECK(!out.alive);
    CAF_CHECK(!out.timed_out);
    CAF_CHECK_NOT_EQUAL(out.error.find(a.error_part), std::string::npos);
  }
}

CAF_TEST(http_probe_of_a_backend_that_does_not_answer_in_time_is_dead) {
  recording_backend be;
  be.answer = false;
  auto out = run_probe("asr", be.srv->port(), 300ms);
  CAF_CHECK(!out.alive);
  CAF_CHECK(out.timed_out);
  CAF_CHECK_EQUAL(out.error.rfind("timeout: ", 0), 0u);
  CAF_CHECK_EQUAL(be.requests().size(), 1u);
}

CAF_TEST(http_probe_of_a_closed_port_is_dead) {
  std::uint16_t port = 0;
  {
    recording_backend gone;  // a port that was just free, closed again
    port = gone.srv->port();
  }
  auto out = run_probe("asr", port);
  CAF_CHECK(!out.alive);
  CAF_CHECK(!out.timed_out);
  CAF_CHECK_EQUAL(out.error.rfind("connect_failed: ", 0), 0u);
  CAF_CHECK_NOT_EQUAL(out.error.find("127.0.0.1"), std::string::npos);
}
