#include "http/backend_choice.hpp"

namespace sova::http {

double backend_cost(const backend_load& load, double prior_ms) {
  double latency = load.latency_ms > 0 ? load.latency_ms : prior_ms;
  return (static_cast<double>(load.in_flight) + 1.0) * latency;
}

namespace {

double mean_latency(const std::vector<backend_load>& loads) {
  double sum = 0;
  std::size_t n = 0;
  for (const auto& l : loads)
    if (l.latency_ms > 0) {
      sum += l.latency_ms;
      ++n;
    }
  return n == 0 ? 1.0 : sum / static_cast<double>(n);
}

/// Whether candidate `i` may be drawn: not excluded and usable, and healthy when any such
/// one is (a candidate whose breaker is not closed only gets requests nobody else can take).
struct eligibility {
  const std::vector<backend_load>& loads;
  const std::vector<bool>& excluded;
  bool healthy_only = false;

  bool allowed_and_usable(std::size_t i) const {
    return !(i < excluded.size() && excluded[i]) && loads[i].usable;
  }
  bool operator()(std::size_t i) const {
    return allowed_and_usable(i) && (!healthy_only || loads[i].healthy);
  }
};

/// The index of the `k`-th eligible candidate (counting from 0).
std::size_t nth_eligible(const eligibility& ok, std::size_t k) {
  for (std::size_t i = 0;; ++i)
    if (ok(i) && k-- == 0) return i;
}

}  // namespace

// Counts instead of collecting the eligible indices: this runs on every request, and
// two vectors per call were most of its cost.
std::optional<std::size_t> choose_backend(const std::vector<backend_load>& loads,
                                          const std::vector<bool>& excluded,
                                          std::mt19937_64& rng) {
  eligibility ok{loads, excluded};
  std::size_t usable = 0, healthy = 0;
  for (std::size_t i = 0; i < loads.size(); ++i) {
    if (!ok.allowed_and_usable(i)) continue;
    ++usable;
    if (loads[i].healthy) ++healthy;
  }
  ok.healthy_only = healthy > 0;
  auto n = ok.healthy_only ? healthy : usable;
  if (n == 0) return std::nullopt;
  if (n == 1) return nth_eligible(ok, 0);
  std::uniform_int_distribution<std::size_t> pick(0, n - 1);
  std::size_t a = pick(rng);
  std::size_t b = pick(rng);
  while (b == a) b = pick(rng);
  double prior = mean_latency(loads);
  auto first = nth_eligible(ok, a);
  auto second = nth_eligible(ok, b);
  double cost_a = backend_cost(loads[first], prior);
  double cost_b = backend_cost(loads[second], prior);
  return cost_b < cost_a ? second : first;  // a tie keeps the first draw: still random
}

}  // namespace sova::http
