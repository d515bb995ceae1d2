#pragma once
// Prometheus metrics (text exposition format 0.0.4): a thread-safe registry of counters,
// gauges and histograms recorded as requests happen, and a writer for values that are
// read only when /metrics is scraped (DHT statistics, routing-table size, ...).

#include <cstdint>
#include <initializer_list>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace sova::http {

/// Label name/value pairs, in the order they are printed.
using metric_labels = std::vector<std::pair<std::string, std::string>>;
/// The same as views, for recording on hot paths without building strings:
/// `m.add("x_total", {{"route", route}, {"code", code}})` picks this form.
using metric_label_views = std::initializer_list<std::pair<std::string_view, std::string_view>>;

enum class metric_type { counter, gauge, histogram };

/// The bucket bounds (seconds) of every latency histogram of the node: 1 ms to 120 s.
const std::vector<double>& latency_buckets();

/// Writes families in the text format: `# HELP`, `# TYPE`, then samples. Label values
/// are escaped (backslash, double quote, newline); numbers that are whole print without
/// exponent or fraction; +Inf, -Inf and NaN as Prometheus spells them.
class exposition_writer {
public:
  void family(std::string_view name, metric_type type, std::string_view help);
  /// `name` is the sample's full name (with _bucket, _sum, _count for histograms).
  void sample(std::string_view name, const metric_labels& labels, double value);
  /// The text so far; the writer is empty afterwards.
  std::string take();

private:
  std::string out_;
};

/// Metrics recorded as things happen. A family is declared once (name, type, help; for
/// histograms the bucket bounds), then each label combination is created on first use.
/// All members may be called from any thread.
class metrics_registry {
public:
  /// Declares a family; declaring the same name again with the same type does nothing,
  /// with another type throws std::logic_error.
  void declare(std::string name, metric_type type, std::string help,
               std::vector<double> buckets = latency_buckets());
  /// counter += v (v >= 0). Throws std::logic_error for an undeclared name or a wrong type.
  void add(std::string_view name, const metric_labels& labels, double v = 1);
  void add(std::string_view name, metric_label_views labels, double v = 1);
  /// gauge = v.
  void set(std::string_view name, const metric_labels& labels, double v);
  void set(std::string_view name, metric_label_views labels, double v);
  /// One observation of a histogram.
  void observe(std::string_view name, const metric_labels& labels, double v);
  void observe(std::string_view name, metric_label_views labels, double v);
  /// Every family in declaration order, each family's series sorted by their labels;
  /// families without any series print HELP and TYPE only.
  void write(exposition_writer& out) const;
  std::string render() const;

private:
  struct series {
    double value = 0;                   // counter or gauge
    std::vector<std::uint64_t> counts;  // histogram: one per bucket (not cumulative)
    std::uint64_t count = 0;
    double sum = 0;
  };
  struct family {
    std::string name;
    metric_type type;
    std::string help;
    std::vector<double> buckets;
    std::map<metric_labels, series> series_by_labels;  // sorted for printing
    // The same series by a flat key of the labels: one hash lookup per recording
    // instead of comparing label strings pair by pair (map nodes never move).
    std::unordered_map<std::string, series*> index;
  };
  family& find(std::string_view name, metric_type type);
  /// The series of `labels` (metric_labels or views) through the index.
  template <class Labels>
  series& lookup(family& f, const Labels& labels);
  template <class Labels>
  void add_to(std::string_view name, const Labels& labels, double v);
  template <class Labels>
  void observe_in(std::string_view name, const Labels& labels, double v);
  /// The series of `labels`, created (after checking the label names) on first use.
  static series& series_of(family& f, const metric_labels& labels);

  mutable std::mutex mutex_;
  std::vector<std::unique_ptr<family>> families_;
  std::unordered_map<std::string_view, family*> by_name_;  // views of families_' names
  std::string key_;  // lookup's scratch key, reused (guarded by mutex_)
};

}  // namespace sova::http
