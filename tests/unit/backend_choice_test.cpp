// Power of two choices: only usable, untried backends; healthy ones first; the cheaper
// of two random picks, so the costliest backend is never chosen among several.
#define CAF_SUITE backend_choice
#include "caf/test/unit_test.hpp"

#include <map>

#include "http/backend_choice.hpp"

using sova::http::backend_cost;
using sova::http::backend_load;
using sova::http::choose_backend;

namespace {

backend_load load(std::uint32_t in_flight, double latency_ms, bool healthy = true,
                  bool usable = true) {
  backend_load l;
  l.in_flight = in_flight;
  l.latency_ms = latency_ms;
  l.healthy = healthy;
  l.usable = usable;
  return l;
}

std::map<std::size_t, int> histogram(const std::vector<backend_load>& loads, int rounds,
                                     std::vector<bool> tried = {}) {
  std::mt19937_64 rng(7);
  std::map<std::size_t, int> out;
  for (int i = 0; i < rounds; ++i) {
    auto pick = choose_backend(loads, tried, rng);
    CAF_REQUIRE(pick.has_value());
    ++out[*pick];
  }
  return out;
}

}  // namespace

CAF_TEST(nothing_to_choose_from) {
  std::mt19937_64 rng(1);
  CAF_CHECK(!choose_backend({}, {}, rng));
  CAF_CHECK(!choose_backend({load(0, 1)}, {true}, rng));
  CAF_CHECK(!choose_backend({load(0, 1, false, false)}, {}, rng));
}

CAF_TEST(a_single_candidate_is_chosen_whatever_its_load) {
  std::mt19937_64 rng(1);
  CAF_CHECK_EQUAL(choose_backend({load(100, 900)}, {}, rng), std::optional<std::size_t>{0});
  CAF_CHECK_EQUAL(choose_backend({load(0, 1), load(100, 900)}, {true, false}, rng),
                  std::optional<std::size_t>{1});
}

CAF_TEST(the_cheaper_of_two_wins) {
  auto h = histogram({load(3, 10), load(0, 10)}, 200);
  CAF_CHECK_EQUAL(h[1], 200);
  h = histogram({load(0, 5), load(0, 50)}, 200);
  CAF_CHECK_EQUAL(h[0], 200);
}

CAF_TEST(the_costliest_of_many_is_never_chosen_and_load_spreads) {
  std::vector<backend_load> loads{load(0, 10), load(1, 10), load(2, 10), load(9, 10)};
  auto h = histogram(loads, 4000);
  CAF_CHECK_EQUAL(h[3], 0);
  // P2C favours the cheapest but still spreads: with four candidates the cheapest
  // wins every pair it is in, i.e. half of the draws.
  CAF_CHECK_GREATER(h[0], 1800);
  CAF_CHECK_LESS(h[0], 2200);
  CAF_CHECK_GREATER(h[1], 0);
  CAF_CHECK_GREATER(h[2], 0);
}

CAF_TEST(healthy_backends_come_first_then_half_open_ones) {
  auto h = histogram({load(0, 1, false), load(50, 500, true)}, 100);
  CAF_CHECK_EQUAL(h[1], 100);
  h = histogram({load(0, 1, false), load(50, 500, true)}, 100, {false, true});
  CAF_CHECK_EQUAL(h[0], 100);
}

CAF_TEST(open_breakers_are_never_chosen) {
  auto h = histogram({load(0, 1, false, false), load(5, 100)}, 100);
  CAF_CHECK_EQUAL(h[1], 100);
}

CAF_TEST(unmeasured_backends_cost_the_mean_of_the_measured) {
  CAF_CHECK_EQUAL(backend_cost(load(0, 0), 30.0), 30.0);
  CAF_CHECK_EQUAL(backend_cost(load(2, 10), 30.0), 30.0);
  CAF_CHECK_EQUAL(backend_cost(load(1, 10), 99.0), 20.0);
  // A new backend beside a slow one gets the traffic; beside a fast one, its share.
  auto h = histogram({load(0, 0), load(0, 100), load(0, 300)}, 300);
  CAF_CHECK_GREATER(h[0], 0);
  CAF_CHECK_EQUAL(h[2], 0);  // 300 ms: costlier than the 200 ms prior and the 100 ms one
}
