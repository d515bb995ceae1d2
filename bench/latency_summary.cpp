#include "bench/latency_summary.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace sova::bench {

double percentile(std::vector<double> values, double q) {
  if (values.empty()) return 0;
  auto rank = static_cast<std::size_t>(std::ceil(q * static_cast<double>(values.size())));
  rank = std::clamp<std::size_t>(rank, 1, values.size());
  std::nth_element(values.begin(), values.begin() + static_cast<std::ptrdiff_t>(rank - 1),
                   values.end());
  return values[rank - 1];
}

latency_summary summarize(const std::vector<double>& values) {
  latency_summary s;
  s.count = values.size();
  if (values.empty()) return s;
  s.mean = std::accumulate(values.begin(), values.end(), 0.0) / static_cast<double>(values.size());
  s.p50 = percentile(values, 0.50);
  s.p99 = percentile(values, 0.99);
  return s;
}

}  // namespace sova::bench
