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

/// Indices of untried candidates: the healthy ones if any, else the usable ones.
std::vector<std::size_t> eligible(const std::vector<backend_load>& loads,
                                  const std::vector<bool>& tried) {
  std::vector<std::size_t> healthy, usable;
  for (std::size_t i = 0; i < loads.size(); ++i) {
    if ((i < tried.size() && tried[i]) || !loads[i].usable) continue;
    usable.push_back(i);
    if (loads[i].healthy) healthy.push_back(i);
  }
  return healthy.empty() ? usable : healthy;
}

}  // namespace

std::optional<std::size_t> choose_backend(const std::vector<backend_load>& loads,
                                          const std::vector<bool>& tried, std::mt19937_64& rng) {
  auto pool = eligible(loads, tried);
  if (pool.empty()) return std::nullopt;
  if (pool.size() == 1) return pool.front();
  std::uniform_int_distribution<std::size_t> pick(0, pool.size() - 1);
  std::size_t a = pick(rng);
  std::size_t b = pick(rng);
  while (b == a) b = pick(rng);
  double prior = mean_latency(loads);
  double cost_a = backend_cost(loads[pool[a]], prior);
  double cost_b = backend_cost(loads[pool[b]], prior);
  return cost_b < cost_a ? pool[b] : pool[a];  // a tie keeps the first draw: still random
}

}  // namespace sova::http
