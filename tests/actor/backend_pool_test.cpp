// Deterministic tests of the backend pool: one forwarder and cell per record, links in
// the order asked, readings of the cells the forwarders write, idle forwarders forgotten
// on tick, and forwarders ending with the pool. HTTP is a fake that records exchanges.
#define CAF_SUITE backend_pool
#include "caf/test/dsl.hpp"

#include <memory>
#include <string>
#include <vector>

#include "actors/backend_pool.hpp"
#include "sim_network.hpp"

using namespace sova;
using namespace std::chrono_literals;
using actors::backend_links;
using serving::backend_reading;
using serving::backend_readings;
using actors::forward_outcome;
using actors::forward_status;
using actors::service_records;

namespace {

struct exchange {
  net::service_record backend;
  http::client_callback done;
};
using exchanges = std::shared_ptr<std::vector<exchange>>;

net::service_record record(const std::string& text) {
  auto r = net::parse_service_record(text);
  CAF_REQUIRE(r);
  return *r;
}

http::client_result refused_connection() {
  return {false, http::client_errc::connect_failed, "connection refused", {}, {}};
}

struct fixture : test_coordinator_fixture<> {
  net::service_record a = record("asr/cpu/192.0.2.1:8888");
  net::service_record b = record("asr/gpu/192.0.2.2:8888");
  net::service_record c = record("tts/cpu/192.0.2.3:8899");
  exchanges sent = std::make_shared<std::vector<exchange>>();
  actors::backend_pool_actor pool;

  void start(actors::pool_config cfg = {}) {
    auto log = sent;
    actors::http_send fake = [log](const net::service_record& backend, http::client_request,
                                   http::client_callback done) {
      log->push_back(exchange{backend, std::move(done)});
    };
    pool = actors::spawn_backend_pool(sys, cfg, fake);
  }

  template <class T>
  T value(const sim::answer<T>& x) {
    CAF_REQUIRE(sim::ready(x));
    CAF_REQUIRE(**x);
    return ***x;
  }

  backend_links views(const service_records& rs) {
    auto x = sim::ask<backend_links>(sys, pool, actors::forwarders_atom::value, rs);
    sched.run();
    return value(x);
  }

  backend_readings health() {
    auto x = sim::ask<backend_readings>(sys, pool, actors::health_atom::value);
    sched.run();
    return value(x);
  }

  /// The pool's reading of `r`'s cell; fails the test when the pool has none.
  backend_reading snapshot(const net::service_record& r) {
    for (auto& h : health())
      if (h.backend == r) return h;
    CAF_FAIL("no snapshot of " << r.to_string());
  }

  std::vector<std::string> known() {
    std::vector<std::string> out;
    for (auto& h : health()) out.push_back(h.backend.to_string());
    return out;
  }

  sim::answer<forward_outcome> forward(const actors::backend_forwarder_actor& f) {
    actors::forward_request req;
    req.service = net::service::asr;
    req.content_type = "multipart/form-data; boundary=b";
    req.body = "--b--\r\n";
    auto x = sim::ask<forward_outcome>(sys, f, actors::forward_atom::value, req);
    sched.run();
    return x;
  }

  bool alive(const actors::backend_forwarder_actor& f) {
    sched.run();
    return !sim::has_ended(f);
  }
};

}  // namespace

CAF_TEST_FIXTURE_SCOPE(backend_pool_tests, fixture)

CAF_TEST(one_forwarder_per_record_and_views_in_the_order_asked) {
  start();
  auto first = views({a, b});
  CAF_REQUIRE_EQUAL(first.size(), 2u);
  CAF_CHECK(first[0].forwarder != first[1].forwarder);
  auto second = views({c, b, a, b});
  CAF_REQUIRE_EQUAL(second.size(), 4u);
  CAF_CHECK_EQUAL(second[0].cell->backend, c);
  CAF_CHECK_EQUAL(second[1].cell->backend, b);
  CAF_CHECK_EQUAL(second[2].cell->backend, a);
  CAF_CHECK(second[1].cell == first[1].cell);  // one cell per backend, as its forwarder
  CAF_CHECK(second[1].forwarder == first[1].forwarder);
  CAF_CHECK(second[2].forwarder == first[0].forwarder);
  CAF_CHECK(second[3].forwarder == first[1].forwarder);
  CAF_CHECK(second[0].forwarder != first[0].forwarder);
  CAF_CHECK(second[0].forwarder != first[1].forwarder);
  // Same address, other service: another record, another forwarder.
  auto other = views({record("tts/cpu/192.0.2.1:8888")});
  CAF_CHECK(other[0].forwarder != first[0].forwarder);
  CAF_CHECK_EQUAL(health().size(), 4u);
}

CAF_TEST(each_forwarder_sends_to_its_own_backend) {
  start();
  auto v = views({a, b});
  forward(v[1].forwarder);
  forward(v[0].forwarder);
  CAF_REQUIRE_EQUAL(sent->size(), 2u);
  CAF_CHECK_EQUAL((*sent)[0].backend, b);
  CAF_CHECK_EQUAL((*sent)[1].backend, a);
}

CAF_TEST(a_new_forwarder_starts_with_a_fresh_snapshot) {
  start();
  auto v = views({a});
  CAF_REQUIRE_EQUAL(v.size(), 1u);
  auto h = v[0].cell->read();
  CAF_CHECK_EQUAL(h.backend, a);
  CAF_CHECK_EQUAL(h.breaker, serving::breaker_state::closed);
  CAF_CHECK_EQUAL(h.in_flight, 0u);
  CAF_CHECK_EQUAL(h.served + h.failed + h.refused, 0u);
  CAF_CHECK_EQUAL(h.latency_ms, 0.0);
}

CAF_TEST(what_the_forwarders_write_is_what_the_pool_reads) {
  actors::pool_config cfg;
  cfg.forwarder.breaker_failures = 1;
  start(cfg);
  auto v = views({a, b});
  auto x = forward(v[0].forwarder);
  CAF_CHECK_EQUAL(snapshot(a).in_flight, 1u);
  auto again = views({a});
  CAF_CHECK_EQUAL(again[0].cell->in_flight(), 1u);  // links carry the same cell
  CAF_REQUIRE_EQUAL(sent->size(), 1u);
  (*sent)[0].done(refused_connection());
  sched.run();
  CAF_CHECK_EQUAL(value(x).status, forward_status::failed);
  auto h = snapshot(a);
  CAF_CHECK_EQUAL(h.in_flight, 0u);
  CAF_CHECK_EQUAL(h.failed, 1u);
  CAF_CHECK_EQUAL(h.breaker, serving::breaker_state::open);
  auto untouched = snapshot(b);
  CAF_CHECK_EQUAL(untouched.failed, 0u);
  CAF_CHECK_EQUAL(untouched.breaker, serving::breaker_state::closed);
}

CAF_TEST(tick_forgets_idle_forwarders_but_not_busy_or_recently_used_ones) {
  actors::pool_config cfg;
  cfg.forget_after = 60s;
  start(cfg);
  auto v = views({a, b, c});
  auto busy = forward(v[1].forwarder);  // b
  sched.advance_time(30s);
  views({c});
  sched.advance_time(40s);  // a and b unused for 70 s, c for 40 s
  caf::anon_send(pool, actors::tick_atom::value);
  sched.run();
  CAF_CHECK_EQUAL(known(), (std::vector<std::string>{b.to_string(), c.to_string()}));
  CAF_CHECK(!alive(v[0].forwarder));
  CAF_CHECK(alive(v[1].forwarder));
  CAF_CHECK(alive(v[2].forwarder));
  auto again = views({a, b});
  CAF_CHECK(again[0].forwarder != v[0].forwarder);  // a fresh one
  CAF_CHECK(again[1].forwarder == v[1].forwarder);
  // Once b's attempt is done and nobody asked for anything for a while, all go.
  (*sent)[0].done(refused_connection());
  sched.run();
  CAF_CHECK_EQUAL(value(busy).status, forward_status::failed);
  sched.advance_time(60s);
  caf::anon_send(pool, actors::tick_atom::value);
  sched.run();
  CAF_CHECK(health().empty());
}

CAF_TEST(forwarders_and_their_cells_are_posted_on_the_board_and_dropped_with_them) {
  actors::pool_config cfg;
  cfg.forget_after = 60s;
  cfg.board = std::make_shared<serving::backend_board>();
  start(cfg);
  auto v = views({a, b});
  auto s = cfg.board->snapshot();
  CAF_REQUIRE_EQUAL(s->backends.size(), 2u);
  const auto& posted = s->backends.at(a.to_string());
  CAF_CHECK(posted.forwarder == v[0].forwarder);
  CAF_CHECK(posted.cell == v[0].cell);
  // The cell is the forwarder's: what it sends shows there, and what the fast lane
  // records there shows in the pool's readings.
  auto x = forward(v[0].forwarder);
  CAF_CHECK_EQUAL(posted.cell->in_flight(), 1u);
  posted.cell->record_served(7);
  CAF_CHECK_EQUAL(snapshot(a).served, 1u);
  CAF_CHECK_EQUAL(snapshot(a).latency_ms, 7.0);
  CAF_CHECK_EQUAL(snapshot(a).in_flight, 1u);
  (*sent)[0].done(refused_connection());
  sched.run();
  CAF_CHECK_EQUAL(value(x).status, forward_status::failed);
  // Attempts count as uses (a request that picked a from the board never asked the
  // pool): a stays, b (unused) is forgotten.
  for (int i = 0; i < 3; ++i) {
    sched.advance_time(30s);
    posted.cell->attempt_started();
    posted.cell->attempt_ended();
    caf::anon_send(pool, actors::tick_atom::value);
    sched.run();
  }
  CAF_CHECK_EQUAL(known(), std::vector<std::string>{a.to_string()});
  CAF_CHECK_EQUAL(cfg.board->snapshot()->backends.count(b.to_string()), 0u);
  caf::anon_send_exit(v[0].forwarder, caf::exit_reason::kill);
  sched.run();
  CAF_CHECK(cfg.board->snapshot()->backends.empty());
}

CAF_TEST(a_forwarder_that_ends_is_dropped) {
  start();
  auto v = views({a, b});
  caf::anon_send_exit(v[0].forwarder, caf::exit_reason::kill);
  sched.run();
  CAF_CHECK_EQUAL(known(), std::vector<std::string>{b.to_string()});
  auto again = views({a});
  CAF_CHECK(again[0].forwarder != v[0].forwarder);
  CAF_CHECK(alive(again[0].forwarder));
}

CAF_TEST(forwarders_end_with_the_pool) {
  start();
  auto v = views({a, b});
  auto x = forward(v[0].forwarder);
  caf::anon_send_exit(pool, caf::exit_reason::user_shutdown);
  sched.run();
  auto out = value(x);  // the waiting request is told, not left hanging
  CAF_CHECK_EQUAL(out.status, forward_status::failed);
  CAF_CHECK_EQUAL(out.reason, "forwarder stopped");
  CAF_CHECK(!alive(v[0].forwarder));
  CAF_CHECK(!alive(v[1].forwarder));
}

CAF_TEST_FIXTURE_SCOPE_END()
