#pragma once
// A strict parser of the Prometheus text exposition format 0.0.4, for tests that read
// /metrics: it refuses what a Prometheus server would refuse, so a test passing on its
// result also proves the page scrapes.

#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace sova::test {

struct prom_sample {
  std::string name;
  std::map<std::string, std::string> labels;
  double value = 0;
};

struct prom_doc {
  std::map<std::string, std::string> types;  // family name -> counter|gauge|histogram|summary|untyped
  std::map<std::string, std::string> helps;
  std::vector<prom_sample> samples;
  /// Samples named `name` whose labels include every pair of `match`.
  std::vector<prom_sample> find(const std::string& name,
                                const std::map<std::string, std::string>& match = {}) const;
  /// The sum of their values (0 when none).
  double sum(const std::string& name, const std::map<std::string, std::string>& match = {}) const;
};

/// Throws std::runtime_error("line N: why") on anything the format does not allow: bad names,
/// bad escapes, unterminated label values, a value that is not a number, a sample whose family
/// has no # TYPE before it (sample name minus _bucket/_sum/_count for histograms), a duplicate
/// series, a TYPE or HELP given twice, a family's lines not in one group, histogram buckets
/// not cumulative (non-decreasing in le order) or without le="+Inf", or +Inf bucket != _count.
/// Also requires the final newline. Samples may carry a timestamp (an integer), which is
/// dropped.
prom_doc parse_prometheus(std::string_view text);

}  // namespace sova::test
