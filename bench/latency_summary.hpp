#pragma once
// Mean and percentiles of a set of response times, as the routing benchmark prints them.

#include <cstddef>
#include <vector>

namespace sova::bench {

struct latency_summary {
  std::size_t count = 0;
  double mean = 0;
  double p50 = 0;
  double p99 = 0;
};

/// The nearest-rank percentile q (0 < q <= 1) of `values`: the smallest value with at
/// least q of all values at or below it; 0 for none.
double percentile(std::vector<double> values, double q);

/// Count, mean, p50 and p99 (nearest rank); all 0 for no values.
latency_summary summarize(const std::vector<double>& values);

}  // namespace sova::bench
