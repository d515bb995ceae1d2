// Deterministic tests of the admin actor over a simulated network: every command's JSON
// answer against what the node's actors hold, errors for unknown commands and bad
// arguments, and drain stopping the HTTP side and the announcements; `services` and
// `stats` read the node without changing it; `services` shows the owner's queue.
#define CAF_SUITE admin_actor
#include "caf/test/dsl.hpp"

#include <spdlog/spdlog.h>

#include <nlohmann/json.hpp>

#include "actors/admin_actor.hpp"
#include "actors/backend_pool.hpp"
#include "actors/owner_actor.hpp"
#include "actors/service_announcer.hpp"
#include "actors/service_directory.hpp"
#include "sim_network.hpp"

using namespace sova;
using namespace std::chrono_literals;
using actors::strings;
using json = nlohmann::ordered_json;

namespace {

const std::string own_asr = "asr/cpu/192.0.2.10:8888";

/// The HTTP front end as the admin actor sees it: counters and the draining flag.
actors::http_frontend_actor::behavior_type
fake_frontend(actors::http_frontend_actor::pointer, std::shared_ptr<actors::http_counters> c) {
  return {
      [=](actors::drain_atom, bool on) { return std::exchange(c->draining, on); },
      [=](actors::stats_atom) { return *c; },
      [=](actors::read_atom, const actors::frontend_exchange_ptr&) {},
      [=](actors::answer_atom, const actors::frontend_exchange_ptr&) {},
      [=](actors::refused_atom) {},
  };
}

struct fixture : test_coordinator_fixture<> {
  sim::sim_network net{sys, 5};
  std::shared_ptr<actors::http_counters> frontend = std::make_shared<actors::http_counters>();
  std::shared_ptr<std::atomic<std::uint16_t>> admin_port =
      std::make_shared<std::atomic<std::uint16_t>>(5700);
  std::shared_ptr<int> probes = std::make_shared<int>(0);
  actors::service_directory_actor dir;
  actors::backend_pool_actor pool;
  actors::service_announcer_actor ann;
  actors::owner_actor owner;
  actors::admin_actor admin;

  /// Five nodes in a chain; the admin actor sits on node 0, which owns one ASR backend
  /// that runs two jobs at once.
  fixture() {
    for (std::size_t i = 0; i < 5; ++i) {
      net.add_node(net.make_config());
      if (i == 0) continue;
      std::vector<net::endpoint> via{net.endpoint_of(i - 1)};
      wait_for(sim::ask<std::uint32_t>(sys, net.node(i).dht, actors::bootstrap_atom::value, via));
    }
    auto& n0 = net.node(0);
    dir = actors::spawn_service_directory(sys, {}, n0.dht);
    pool = actors::spawn_backend_pool(sys, {}, [](const net::service_record&,
                                                  http::client_request, http::client_callback) {
      CAF_FAIL("no request may reach a backend in these tests");
    });
    actors::announcer_config acfg;
    acfg.interval = 30s;
    auto rec = net::parse_service_record(own_asr);
    auto counter = probes;
    ann = actors::spawn_service_announcer(
        sys, acfg, {*rec}, n0.dht,
        [counter](const net::service_record&, std::function<void(actors::probe_verdict)> done) {
          ++*counter;
          actors::probe_verdict alive;
          alive.alive = true;
          done(alive);
        });
    owner = actors::spawn_owner(
        sys, {}, {net::owned_backend{*rec, 2, true}}, pool,
        [](const net::service_record&, std::function<void(actors::probe_verdict)> done) {
          actors::probe_verdict alive;
          alive.alive = true;
          done(alive);
        });
    actors::admin_sources src;
    src.node = actors::node_handles{n0.cfg.self.to_hex(), net.endpoint_of(0).to_string(),
                                      "127.0.0.2:5600", "9.9.9", n0.table, dir, pool, ann,
                                      n0.transport, owner};
    src.dht = n0.dht;
    src.frontend = sys.spawn(fake_frontend, frontend);
    src.admin_host = "127.0.0.2";
    src.admin_port = admin_port;
    src.k = static_cast<std::uint32_t>(n0.cfg.k);
    admin = actors::spawn_admin(sys, src);
    sched.run();
  }

  ~fixture() {
    for (auto a : {caf::actor_cast<caf::actor>(admin), caf::actor_cast<caf::actor>(ann),
                   caf::actor_cast<caf::actor>(owner), caf::actor_cast<caf::actor>(pool),
                   caf::actor_cast<caf::actor>(dir)})
      caf::anon_send_exit(a, caf::exit_reason::user_shutdown);
    sched.run();
  }

  template <class T>
  T wait_for(const sim::answer<T>& a, caf::timespan limit = 120s) {
    CAF_REQUIRE(sim::drive(sched, [&] { return sim::ready(a); }, limit));
    CAF_REQUIRE(**a);
    return ***a;
  }

  /// The answer of a command (an error fails the test).
  json ok(const std::string& name, strings args = {}) {
    auto text = wait_for(sim::ask<std::string>(sys, admin, actors::admin_atom::value, name, args));
    auto j = json::parse(text, nullptr, false);
    CAF_REQUIRE(!j.is_discarded());
    return j;
  }

  /// The error of a command that must fail: its code and message.
  std::pair<actors::admin_errc, std::string> fails(const std::string& name, strings args = {}) {
    auto a = sim::ask<std::string>(sys, admin, actors::admin_atom::value, name, args);
    CAF_REQUIRE(sim::drive(sched, [&] { return sim::ready(a); }, 120s));
    CAF_REQUIRE(!**a);
    auto err = (*a)->error();
    CAF_REQUIRE_EQUAL(err.category(), caf::atom("admin"));
    return {static_cast<actors::admin_errc>(err.code()), actors::describe(err)};
  }

  bool contains(const std::string& text, const std::string& part) {
    return text.find(part) != std::string::npos;
  }
};

}  // namespace

CAF_TEST_FIXTURE_SCOPE(admin_actor_tests, fixture)

CAF_TEST(info_names_the_node_and_its_endpoints) {
  sched.advance_time(90s);
  auto j = ok("info");
  CAF_CHECK_EQUAL(j["id"].get<std::string>(), net.node(0).cfg.self.to_hex());
  CAF_CHECK_EQUAL(j["version"].get<std::string>(), "9.9.9");
  CAF_CHECK_EQUAL(j["udp"].get<std::string>(), net.endpoint_of(0).to_string());
  CAF_CHECK_EQUAL(j["http"].get<std::string>(), "127.0.0.2:5600");
  CAF_CHECK_EQUAL(j["admin"].get<std::string>(), "127.0.0.2:5700");
  CAF_CHECK_GREATER_OR_EQUAL(j["uptime_s"].get<double>(), 90.0);
  CAF_CHECK_EQUAL(j["draining"].get<bool>(), false);
}

CAF_TEST(unknown_commands_and_bad_arguments_are_refused_with_help) {
  auto [code, msg] = fails("peer");
  CAF_CHECK(code == actors::admin_errc::unknown_command);
  CAF_CHECK(contains(msg, "peers"));
  std::tie(code, msg) = fails("get");
  CAF_CHECK(code == actors::admin_errc::bad_arguments);
  CAF_CHECK(contains(msg, "get KEY"));
  std::tie(code, msg) = fails("help");
  CAF_CHECK(code == actors::admin_errc::unknown_command);
  CAF_CHECK(contains(msg, "console"));
  std::tie(code, msg) = fails("get", {"0x1234"});
  CAF_CHECK(code == actors::admin_errc::bad_arguments);
  CAF_CHECK(contains(msg, "40 hex"));
  std::tie(code, msg) = fails("ping", {"localhost:5678"});
  CAF_CHECK(code == actors::admin_errc::bad_arguments);
  CAF_CHECK(contains(msg, "numeric"));
  std::tie(code, msg) = fails("services", {"stt"});
  CAF_CHECK(code == actors::admin_errc::bad_arguments);
  std::tie(code, msg) = fails("log-level", {"loud"});
  CAF_CHECK(code == actors::admin_errc::bad_arguments);
}

CAF_TEST(peers_and_table_show_the_routing_table) {
  auto table = wait_for(sim::ask<actors::contacts>(sys, net.node(0).table, actors::table_atom::value));
  auto peers = ok("peers");
  CAF_CHECK_EQUAL(peers["count"].get<std::size_t>(), table.size());
  CAF_REQUIRE_EQUAL(peers["peers"].size(), table.size());
  CAF_CHECK_EQUAL(peers["peers"][0]["id"].get<std::string>(), table[0].id.to_hex());
  CAF_CHECK_EQUAL(peers["peers"][0]["address"].get<std::string>(), table[0].ep.to_string());
  auto t = ok("table");
  CAF_CHECK_EQUAL(t["self"].get<std::string>(), net.node(0).cfg.self.to_hex());
  CAF_CHECK_EQUAL(t["size"].get<std::size_t>(), table.size());
  std::size_t in_buckets = 0;
  for (const auto& b : t["buckets"]) in_buckets += b["contacts"].get<std::size_t>();
  CAF_CHECK_EQUAL(in_buckets, table.size());
  CAF_CHECK_EQUAL(t["buckets"][0]["prefix"].get<std::string>(), "*");  // one bucket: all ids
  CAF_CHECK_EQUAL(t["contacts"].size(), table.size());
}

CAF_TEST(put_get_records_and_lookup_go_through_the_dht) {
  auto stored = ok("put", {"greeting", "hello", "salut"});
  CAF_CHECK_EQUAL(stored["key"].get<std::string>(), net::node_id::digest("greeting").to_hex());
  CAF_CHECK_GREATER(stored["stored_remote"].get<int>(), 0);
  auto got = ok("get", {"greeting"});
  CAF_CHECK_EQUAL(got["values"].get<strings>(), (strings{"hello", "salut"}));
  // Five nodes, k = 20: every node holds it, node 0 included.
  auto recs = ok("records", {"greeting"});
  CAF_CHECK_EQUAL(recs["keys"].get<int>(), 1);
  CAF_REQUIRE_EQUAL(recs["records"].size(), 2u);
  CAF_CHECK_EQUAL(recs["records"][0]["value"].get<std::string>(), "hello");
  auto expires = recs["records"][0]["expires_in_s"].get<double>();
  CAF_CHECK_GREATER(expires, 0.0);
  CAF_CHECK_LESS_OR_EQUAL(expires, 3600.0);
  auto raw = ok("get", {"0x" + net::node_id::digest("greeting").to_hex()});
  CAF_CHECK_EQUAL(raw["values"].size(), 2u);
  auto all = ok("records");
  CAF_CHECK_GREATER_OR_EQUAL(all["values"].get<int>(), 3);  // the announced ASR record too
  auto [code, msg] = fails("get", {"no such key"});
  CAF_CHECK_EQUAL(static_cast<int>(code), static_cast<int>(actors::admin_errc::failed));
  CAF_CHECK(contains(msg, "nothing is stored under 'no such key'"));
  auto lk = ok("lookup", {"greeting"});
  CAF_CHECK_EQUAL(lk["closest"].size(), 4u);  // the four others
  CAF_CHECK_GREATER_OR_EQUAL(lk["rounds"].get<int>(), 1);
}

CAF_TEST(ping_and_bootstrap_reach_other_nodes) {
  auto p = ok("ping", {net.endpoint_of(3).to_string()});
  CAF_CHECK_EQUAL(p["id"].get<std::string>(), net.node(3).cfg.self.to_hex());
  CAF_CHECK_GREATER_OR_EQUAL(p["rtt_ms"].get<double>(), 0.0);
  auto b = ok("bootstrap", {net.endpoint_of(4).to_string()});
  CAF_CHECK_EQUAL(b["contacts"].get<int>(), 4);
  net.kill(2);
  auto [code, msg] = fails("ping", {net.endpoint_of(2).to_string()});
  CAF_CHECK_EQUAL(static_cast<int>(code), static_cast<int>(actors::admin_errc::failed));
  CAF_CHECK(contains(msg, "no answer from " + net.endpoint_of(2).to_string()));
}

CAF_TEST(stats_count_the_node_traffic) {
  frontend->requests = 7;
  frontend->rejected = 2;
  ok("get", {"asr/cpu"});  // some DHT traffic
  auto s = ok("stats");
  CAF_CHECK_GREATER(s["dht"]["datagrams_in"].get<std::uint64_t>(), 0u);
  CAF_CHECK_GREATER(s["dht"]["calls_sent"].get<std::uint64_t>(), 0u);
  CAF_CHECK_EQUAL(s["http"]["requests"].get<int>(), 7);
  CAF_CHECK_EQUAL(s["http"]["rejected"].get<int>(), 2);
  CAF_CHECK_EQUAL(s["backends"]["forwarders"].get<int>(), 0);
}

CAF_TEST(services_show_the_network_and_own_backends) {
  // Looking changes nothing: before any request the directory has looked nothing up, and
  // `services` makes it look up nothing either.
  auto unasked = ok("services");
  CAF_CHECK_EQUAL(unasked["asr"].size(), 0u);
  auto lookups = [&] {
    return wait_for(sim::ask<actors::directory_stats>(sys, dir, actors::stats_atom::value))
        .lookups_started;
  };
  CAF_CHECK_EQUAL(lookups(), 0u);
  // A request for asr makes the directory look it up; `services` shows what it found.
  wait_for(sim::ask<actors::service_records>(sys, dir, actors::backends_atom::value,
                                             net::service::asr, net::wanted_kind::any));
  auto s = ok("services", {"asr"});
  CAF_CHECK(!s.contains("tts"));
  CAF_REQUIRE_EQUAL(s["asr"].size(), 1u);
  CAF_CHECK_EQUAL(s["asr"][0]["backend"].get<std::string>(), own_asr);
  CAF_CHECK_EQUAL(s["asr"][0]["breaker"].get<std::string>(), "untried");
  CAF_REQUIRE_EQUAL(s["own"].size(), 1u);
  CAF_CHECK_EQUAL(s["own"][0]["alive"].get<bool>(), true);
  auto both = ok("services");
  CAF_CHECK_EQUAL(both["tts"].size(), 0u);
  auto tts = ok("services", {"tts"});
  CAF_CHECK_EQUAL(tts["own"].size(), 0u);
  CAF_CHECK_EQUAL(lookups(), 2u);  // asr/cpu and asr/gpu, for the request only
}

CAF_TEST(services_show_the_owners_queue_on_each_own_backend) {
  auto own = ok("services", {"asr"})["own"];
  CAF_REQUIRE_EQUAL(own.size(), 1u);
  CAF_CHECK_EQUAL(own[0]["backend"].get<std::string>(), own_asr);
  CAF_CHECK_EQUAL(own[0]["alive"].get<bool>(), true);  // the announcer's facts and the owner's
  CAF_CHECK_EQUAL(own[0]["capacity"].get<int>(), 2);
  CAF_CHECK_EQUAL(own[0]["running"].get<int>(), 0);
  CAF_CHECK_EQUAL(own[0]["up"].get<bool>(), true);
  // Three reservations: two hold the backend's two slots, the third waits.
  for (const auto* id : {"r1", "r2", "r3"}) {
    actors::reservation_request r;
    r.id = id;
    caf::anon_send(owner, actors::reserve_atom::value, r);
  }
  sched.run();
  own = ok("services", {"asr"})["own"];
  CAF_CHECK_EQUAL(own[0]["running"].get<int>(), 2);
  CAF_CHECK_EQUAL(own[0]["queued"].get<int>(), 1);
  // Looking changed nothing: the entry node's cancel still frees what it held.
  caf::anon_send(owner, actors::cancel_atom::value, std::string{"r3"});
  caf::anon_send(owner, actors::cancel_atom::value, std::string{"r2"});
  sched.run();
  own = ok("services", {"asr"})["own"];
  CAF_CHECK_EQUAL(own[0]["running"].get<int>(), 1);
  CAF_CHECK_EQUAL(own[0]["queued"].get<int>(), 0);
}

CAF_TEST(an_owner_that_does_not_answer_fails_services_not_stats) {
  caf::anon_send_exit(owner, caf::exit_reason::user_shutdown);
  sched.run();
  auto [code, msg] = fails("services");
  CAF_CHECK(code == actors::admin_errc::unavailable);
  CAF_CHECK(contains(msg, "owner queue did not answer"));
  ok("stats");
}

CAF_TEST(a_part_that_does_not_answer_fails_the_command_naming_it) {
  caf::anon_send_exit(pool, caf::exit_reason::user_shutdown);
  sched.run();
  auto [code, msg] = fails("stats");
  CAF_CHECK(code == actors::admin_errc::unavailable);
  CAF_CHECK(contains(msg, "backend pool did not answer"));
  std::tie(code, msg) = fails("services");
  CAF_CHECK(code == actors::admin_errc::unavailable);
  CAF_CHECK(contains(msg, "backend pool did not answer"));
}

CAF_TEST(log_level_shows_and_sets_the_level) {
  auto before = spdlog::get_level();
  spdlog::set_level(spdlog::level::warn);
  CAF_CHECK_EQUAL(ok("log-level")["level"].get<std::string>(), "warn");
  auto j = ok("log-level", {"debug"});
  CAF_CHECK_EQUAL(j["was"].get<std::string>(), "warn");
  CAF_CHECK_EQUAL(spdlog::get_level(), spdlog::level::debug);
  spdlog::set_level(before);
}

CAF_TEST(drain_stops_new_work_and_announcements_until_undrain) {
  auto announcements = [&] {
    auto own = wait_for(sim::ask<actors::own_services>(sys, ann, actors::services_atom::value));
    return own.at(0).announcements;
  };
  frontend->in_flight = 3;
  auto d = ok("drain");
  CAF_CHECK_EQUAL(d["draining"].get<bool>(), true);
  CAF_CHECK_EQUAL(d["in_flight"].get<int>(), 3);
  CAF_CHECK(frontend->draining);
  CAF_CHECK_EQUAL(ok("info")["draining"].get<bool>(), true);
  auto before = announcements();
  auto probes_before = *probes;
  sim::drive(sched, [] { return false; }, 95s);  // three announcement rounds
  CAF_CHECK_EQUAL(announcements(), before);     // probed, but not announced
  CAF_CHECK_GREATER(*probes, probes_before);
  auto u = ok("undrain");
  CAF_CHECK_EQUAL(u["draining"].get<bool>(), false);
  CAF_CHECK_EQUAL(u["was_draining"].get<bool>(), true);
  CAF_CHECK(!frontend->draining);
  CAF_CHECK_GREATER(announcements(), before);  // at once, not at the next round
}

CAF_TEST_FIXTURE_SCOPE_END()
