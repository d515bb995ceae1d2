#pragma once
// Choosing a backend for one attempt: power of two choices (Mitzenmacher; Finagle's
// "P2C") on a cost of in-flight work times latency, healthy backends first. Picking two at
// random and keeping the cheaper one spreads load almost as well as scanning all of them,
// without herding every request onto the one that looked best a moment ago.

#include <cstdint>
#include <optional>
#include <random>
#include <vector>

namespace sova::http {

struct backend_load {
  bool healthy = true;  // usable and its breaker closed: preferred
  bool usable = true;   // false: breaker open, its probe out, or busy (the forwarder would refuse)
  std::uint32_t in_flight = 0;
  double latency_ms = 0;  // EWMA; 0 until measured
};

/// The index of the backend for the next attempt, among usable ones not `excluded` (the
/// request's earlier attempts went there; shorter than `loads`: the rest are not), healthy
/// ones first, or nothing when none is left.
std::optional<std::size_t> choose_backend(const std::vector<backend_load>& loads,
                                          const std::vector<bool>& excluded,
                                          std::mt19937_64& rng);

/// The cost P2C compares: (in_flight + 1) × latency, where an unmeasured latency counts
/// as `prior_ms` (the mean of the measured ones) so that a new backend is tried soon but
/// not flooded.
double backend_cost(const backend_load& load, double prior_ms);

}  // namespace sova::http
