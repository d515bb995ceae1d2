// The backend cell: one writer's numbers as every reader sees them, the one rule of
// "usable now" (closed, or half-open with no probe out, and not busy), and its counts.
#define CAF_SUITE backend_cell
#include "caf/test/unit_test.hpp"

#include "serving/backend_cell.hpp"

using namespace sova;
using namespace std::chrono_literals;
using serving::backend_cell;
using serving::breaker_state;

namespace {

backend_cell make_cell() { return backend_cell(*net::parse_service_record("tts/cpu/192.0.2.1:8899"), 0.5); }

const caf::timespan now{100s};

}  // namespace

CAF_TEST(a_new_cell_is_closed_idle_and_names_its_backend) {
  auto cell = make_cell();
  CAF_CHECK_EQUAL(cell.name, "tts/cpu/192.0.2.1:8899");
  auto r = cell.read();
  CAF_CHECK_EQUAL(r.backend.to_string(), cell.name);
  CAF_CHECK_EQUAL(r.breaker, breaker_state::closed);
  CAF_CHECK_EQUAL(r.served + r.failed + r.refused + r.busy, 0u);
  CAF_CHECK(cell.usable_at(now));
  CAF_CHECK(cell.load_at(now).healthy);
}

CAF_TEST(served_attempts_move_an_ewma_and_end_a_run_of_failures) {
  auto cell = make_cell();
  CAF_CHECK_EQUAL(cell.record_failed(), 1u);
  CAF_CHECK_EQUAL(cell.record_failed(), 2u);
  cell.record_served(10);
  auto r = cell.read();
  CAF_CHECK_EQUAL(r.latency_ms, 10.0);  // the first sample is taken as it is
  CAF_CHECK_EQUAL(r.consecutive_failures, 0u);
  CAF_CHECK_EQUAL(r.failed, 2u);  // the total stays
  cell.record_served(20);
  CAF_CHECK_EQUAL(cell.read().latency_ms, 15.0);
  CAF_CHECK_EQUAL(cell.read().served, 2u);
  CAF_CHECK_EQUAL(cell.record_failed(), 1u);  // a new run
}

CAF_TEST(attempts_and_attempts_in_flight_are_counted) {
  auto cell = make_cell();
  cell.attempt_started();
  cell.attempt_started();
  CAF_CHECK_EQUAL(cell.in_flight(), 2u);
  CAF_CHECK_EQUAL(cell.attempts(), 2u);
  cell.attempt_ended();
  cell.attempt_ended();
  CAF_CHECK_EQUAL(cell.attempts(), 2u);  // what was started, not what is in flight
  CAF_CHECK_EQUAL(cell.read().in_flight, 0u);
  CAF_CHECK_EQUAL(cell.load_at(now).in_flight, 0u);
  cell.record_refused();
  CAF_CHECK_EQUAL(cell.read().refused, 1u);
}

CAF_TEST(readers_see_a_half_open_breaker_the_same_way) {
  auto cell = make_cell();
  cell.set_breaker(breaker_state::open);
  CAF_CHECK(!cell.usable_at(now));
  CAF_CHECK(!cell.read().usable_at(now));
  CAF_CHECK(!cell.load_at(now).usable);
  cell.set_breaker(breaker_state::half_open);  // due a probe: usable, not healthy
  CAF_CHECK(cell.usable_at(now));
  CAF_CHECK(cell.read().usable_at(now));
  CAF_CHECK(cell.load_at(now).usable);
  CAF_CHECK(!cell.load_at(now).healthy);
  cell.set_probe_in_flight(true);  // its probe is out: nobody else goes there
  CAF_CHECK(!cell.usable_at(now));
  CAF_CHECK(!cell.read().usable_at(now));
  CAF_CHECK(!cell.load_at(now).usable);
  cell.set_probe_in_flight(false);
  cell.set_breaker(breaker_state::closed);
  CAF_CHECK(cell.load_at(now).healthy);
}

CAF_TEST(a_busy_backend_is_left_alone_for_the_longest_wait_asked) {
  auto cell = make_cell();
  cell.record_busy(now + 3s);
  cell.record_busy(now + 1s);  // never shortened
  CAF_CHECK_EQUAL(cell.busy_until(), now + caf::timespan{3s});
  CAF_CHECK_EQUAL(cell.read().busy, 2u);
  CAF_CHECK(!cell.usable_at(now));
  CAF_CHECK(!cell.read().usable_at(now + 2s));
  CAF_CHECK(!cell.load_at(now).healthy);
  CAF_CHECK(cell.usable_at(now + 3s));
  CAF_CHECK(cell.load_at(now + 3s).healthy);
}

CAF_TEST(the_rule_of_usable_now) {
  using serving::usable_now;
  CAF_CHECK(usable_now(breaker_state::closed, false, false));
  CAF_CHECK(!usable_now(breaker_state::closed, false, true));
  CAF_CHECK(!usable_now(breaker_state::open, false, false));
  CAF_CHECK(usable_now(breaker_state::half_open, false, false));
  CAF_CHECK(!usable_now(breaker_state::half_open, true, false));
  CAF_CHECK(!usable_now(breaker_state::half_open, false, true));
}
