// A round of late binding (serving/reservation_round): the first grant is claimed and the
// others are cancelled, late grants are cancelled, refusals everywhere exhaust the round.
#define CAF_SUITE reservation_round
#include "caf/test/unit_test.hpp"

#include <vector>

#include "serving/reservation_round.hpp"

using sova::serving::reservation_round;
using ids = std::vector<std::size_t>;

CAF_TEST(the_first_grant_is_claimed_and_the_waiting_reservations_cancelled) {
  reservation_round r{3};
  CAF_CHECK(r.pending() == 3);
  auto s = r.refused(0);
  CAF_CHECK(!s.exhausted && !s.claim && s.cancel.empty());
  s = r.granted(2);
  CAF_REQUIRE(s.claim);
  CAF_CHECK(*s.claim == 2);
  CAF_CHECK(s.cancel == ids{1});  // 0 refused: nothing to give up there
  CAF_CHECK(*r.winner() == 2);
  CAF_CHECK(r.pending() == 0);
  // Owner 1 granted before its cancel reached it: cancelled (again), never claimed.
  s = r.granted(1);
  CAF_CHECK(!s.claim);
  CAF_CHECK(s.cancel == ids{1});
  // A refusal after the winner changes nothing; a repeated grant of the winner neither.
  CAF_CHECK(!r.refused(1).exhausted);
  s = r.granted(2);
  CAF_CHECK(!s.claim && s.cancel.empty());
  CAF_CHECK(*r.winner() == 2);
}

CAF_TEST(refusals_everywhere_exhaust_the_round_once) {
  reservation_round r{2};
  CAF_CHECK(!r.refused(1).exhausted);
  CAF_CHECK(!r.refused(1).exhausted);  // the same owner twice counts once
  CAF_CHECK(r.refused(0).exhausted);
  CAF_CHECK(!r.refused(0).exhausted);
  CAF_CHECK(!r.winner());
  // A grant from an owner that refused is stale: nothing to claim.
  CAF_CHECK(!r.granted(0).claim);
}

CAF_TEST(a_round_of_one_and_out_of_range_answers) {
  reservation_round r{1};
  CAF_CHECK(!r.granted(5).claim);
  CAF_CHECK(!r.refused(5).exhausted);
  auto s = r.granted(0);
  CAF_CHECK(s.claim && *s.claim == 0 && s.cancel.empty());
  reservation_round none{0};
  CAF_CHECK(none.pending() == 0);
}
