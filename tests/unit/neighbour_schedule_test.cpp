// When the configured neighbours are contacted: a silent one on a doubling backoff up to
// a ceiling, an answering one again after the recontact interval, none twice at once.
#define CAF_SUITE neighbour_schedule
#include "caf/test/unit_test.hpp"

#include "net/neighbour_schedule.hpp"

using namespace sova::net;
using namespace std::chrono_literals;
using clock_type = neighbour_schedule::clock;

namespace {

const endpoint a{"10.0.0.1", 5678};
const endpoint b{"10.0.0.2", 5678};

neighbour_schedule make() { return neighbour_schedule{{10s, 40s, 600s}}; }

}  // namespace

CAF_TEST(a_neighbour_being_contacted_is_not_contacted_again_until_it_answers_or_not) {
  auto s = make();
  clock_type::time_point t0{};
  CAF_CHECK(s.contact_now(a));
  CAF_CHECK(!s.contact_now(a));
  CAF_CHECK(s.due(t0 + 1h).empty());
  CAF_CHECK(s.due(t0 + 1h, true).empty());
  s.silent(a, t0);
  CAF_CHECK(s.contact_now(a));
}

CAF_TEST(a_silent_neighbour_is_retried_on_a_doubling_backoff_up_to_the_ceiling) {
  auto s = make();
  clock_type::time_point t{};
  s.contact_now(a);
  std::vector<std::chrono::seconds> waits;
  for (int i = 0; i < 5; ++i) {
    s.silent(a, t);
    auto start = t;
    while (s.due(t).empty()) t += 1s;
    waits.push_back(std::chrono::duration_cast<std::chrono::seconds>(t - start));
  }
  CAF_CHECK_EQUAL(waits, (std::vector<std::chrono::seconds>{10s, 20s, 40s, 40s, 40s}));
  CAF_CHECK(!s.has_answered(a));
}

CAF_TEST(an_answering_neighbour_is_contacted_again_after_the_recontact_interval) {
  auto s = make();
  clock_type::time_point t0{};
  s.contact_now(a);
  s.contact_now(b);
  s.silent(a, t0);
  s.silent(a, t0);  // a second report changes nothing but the backoff
  s.answered(b, t0);
  CAF_CHECK(s.has_answered(b));
  CAF_CHECK_EQUAL(s.due(t0 + 599s), (std::vector<endpoint>{a}));
  CAF_CHECK(s.due(t0 + 599s).empty());  // a is being contacted
  CAF_CHECK_EQUAL(s.due(t0 + 600s), (std::vector<endpoint>{b}));
  // Once it answered, a silence starts the short backoff again, and it stays "answered".
  s.silent(b, t0 + 600s);
  CAF_CHECK_EQUAL(s.due(t0 + 610s), (std::vector<endpoint>{b}));
  CAF_CHECK(s.has_answered(b));
}

CAF_TEST(everyone_means_every_neighbour_not_being_contacted) {
  auto s = make();
  clock_type::time_point t0{};
  s.contact_now(a);
  s.contact_now(b);
  s.answered(a, t0);
  CAF_CHECK_EQUAL(s.due(t0, true), (std::vector<endpoint>{a}));
  CAF_CHECK_EQUAL(s.size(), 2u);
}
