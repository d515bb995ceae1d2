#include "http/metrics.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstring>
#include <stdexcept>

namespace sova::http {

namespace {

bool is_name_start(char c, bool colon) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || (colon && c == ':');
}

/// [a-zA-Z_:][a-zA-Z0-9_:]* for metric names (colon = true), without ':' for label names.
bool is_valid_name(std::string_view name, bool colon) {
  if (name.empty() || !is_name_start(name[0], colon)) return false;
  return std::all_of(name.begin() + 1, name.end(),
                     [&](char c) { return is_name_start(c, colon) || (c >= '0' && c <= '9'); });
}

void check_metric_name(std::string_view name) {
  if (!is_valid_name(name, true))
    throw std::logic_error("invalid metric name '" + std::string(name) + "'");
}

const char* type_name(metric_type type) {
  switch (type) {
    case metric_type::counter: return "counter";
    case metric_type::gauge: return "gauge";
    case metric_type::histogram: return "histogram";
  }
  return "untyped";
}

/// Whole values below 2^53 (all exact) print as integers: to_chars' shortest form would
/// write 1e+15 for 10^15. Everything else prints in the shortest form that round-trips.
std::string format_number(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  char buf[64];
  std::to_chars_result r;
  if (v == std::trunc(v) && std::fabs(v) < 9007199254740992.0)
    r = std::to_chars(buf, buf + sizeof buf, static_cast<long long>(v));
  else
    r = std::to_chars(buf, buf + sizeof buf, v);
  return std::string(buf, r.ptr);
}

/// Help text escapes backslash and newline; label values also escape the double quote.
void append_escaped(std::string& out, std::string_view text, bool quote) {
  for (char c : text) {
    if (c == '\\') out += "\\\\";
    else if (c == '\n') out += "\\n";
    else if (c == '"' && quote) out += "\\\"";
    else out += c;
  }
}

/// The names a family's samples use: two families must not share one.
std::vector<std::string> sample_names(const std::string& name, metric_type type) {
  if (type != metric_type::histogram) return {name};
  return {name + "_bucket", name + "_sum", name + "_count"};
}

}  // namespace

const std::vector<double>& latency_buckets() {
  static const std::vector<double> buckets{0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                           0.1,   0.25,   0.5,   1,    2.5,   5,
                                           10,    30,     60,    120};
  return buckets;
}

// --- exposition_writer -------------------------------------------------------------------

void exposition_writer::family(std::string_view name, metric_type type, std::string_view help) {
  out_ += "# HELP ";
  out_ += name;
  out_ += ' ';
  append_escaped(out_, help, false);
  out_ += '\n';
  out_ += "# TYPE ";
  out_ += name;
  out_ += ' ';
  out_ += type_name(type);
  out_ += '\n';
}

void exposition_writer::sample(std::string_view name, const metric_labels& labels, double value) {
  out_ += name;
  if (!labels.empty()) {
    char sep = '{';
    for (const auto& [label, text] : labels) {
      out_ += sep;
      out_ += label;
      out_ += "=\"";
      append_escaped(out_, text, true);
      out_ += '"';
      sep = ',';
    }
    out_ += '}';
  }
  out_ += ' ';
  out_ += format_number(value);
  out_ += '\n';
}

std::string exposition_writer::take() {
  std::string text;
  text.swap(out_);
  return text;
}

// --- metrics_registry --------------------------------------------------------------------

void metrics_registry::declare(std::string name, metric_type type, std::string help,
                               std::vector<double> buckets) {
  check_metric_name(name);
  if (type == metric_type::histogram) {
    for (std::size_t i = 0; i < buckets.size(); ++i) {
      // +Inf is implied (the writer adds it); NaN would break the ordering.
      if (!std::isfinite(buckets[i]) || (i > 0 && !(buckets[i - 1] < buckets[i])))
        throw std::logic_error("histogram '" + name +
                               "': bucket bounds must be finite and strictly increasing");
    }
  } else {
    buckets.clear();
  }
  auto names = sample_names(name, type);
  std::lock_guard lock(mutex_);
  for (const auto& f : families_) {
    if (f->name == name) {
      if (f->type != type)
        throw std::logic_error("metric '" + name + "' is already declared as a " +
                               type_name(f->type) + ", not a " + type_name(type));
      return;
    }
    for (const auto& other : sample_names(f->name, f->type))
      if (std::find(names.begin(), names.end(), other) != names.end())
        throw std::logic_error("metric '" + name + "' clashes with '" + f->name +
                               "' on the sample name '" + other + "'");
  }
  families_.push_back(std::make_unique<family>(
      family{std::move(name), type, std::move(help), std::move(buckets), {}, {}}));
  by_name_.emplace(families_.back()->name, families_.back().get());
}

metrics_registry::family& metrics_registry::find(std::string_view name, metric_type type) {
  // A hash lookup: each recorded request finds five families.
  auto it = by_name_.find(name);
  if (it == by_name_.end()) throw std::logic_error("undeclared metric '" + std::string(name) + "'");
  auto& f = *it->second;
  if (f.type != type)
    throw std::logic_error("metric '" + f.name + "' is a " + type_name(f.type) + ", not a " +
                           type_name(type));
  return f;
}

metrics_registry::series& metrics_registry::series_of(family& f, const metric_labels& labels) {
  if (auto it = f.series_by_labels.find(labels); it != f.series_by_labels.end()) return it->second;
  // A new series: checked once here, so the hot path above stays a map lookup.
  for (auto it = labels.begin(); it != labels.end(); ++it) {
    const auto& label = it->first;
    if (!is_valid_name(label, false))
      throw std::logic_error("metric '" + f.name + "': invalid label name '" + label + "'");
    if (f.type == metric_type::histogram && label == "le")
      throw std::logic_error("histogram '" + f.name + "': the label 'le' is reserved");
    for (auto prev = labels.begin(); prev != it; ++prev)
      if (prev->first == label)
        throw std::logic_error("metric '" + f.name + "': label '" + label + "' given twice");
  }
  // The same pairs in another order would print as a duplicate series.
  for (const auto& [other, s] : f.series_by_labels)
    if (other.size() == labels.size() &&
        std::is_permutation(other.begin(), other.end(), labels.begin()))
      throw std::logic_error("metric '" + f.name + "': labels given in another order than before");
  series s;
  if (f.type == metric_type::histogram) s.counts.assign(f.buckets.size(), 0);
  return f.series_by_labels.emplace(labels, std::move(s)).first->second;
}

template <class Labels>
metrics_registry::series& metrics_registry::lookup(family& f, const Labels& labels) {
  // Each name and value with its length first: values may hold any byte. Sized once and
  // copied in (appending piece by piece was a third of a recording's cost).
  std::size_t total = 0;
  for (const auto& [name, value] : labels)
    total += 2 * sizeof(std::size_t) + std::string_view(name).size() + std::string_view(value).size();
  key_.resize(total);
  char* out = key_.data();
  auto put = [&out](std::string_view part) {
    auto n = part.size();
    std::memcpy(out, &n, sizeof n);
    if (n) std::memcpy(out + sizeof n, part.data(), n);
    out += sizeof n + n;
  };
  for (const auto& [name, value] : labels) {
    put(name);
    put(value);
  }
  if (auto it = f.index.find(key_); it != f.index.end()) return *it->second;
  metric_labels copy;
  for (const auto& [name, value] : labels) copy.emplace_back(std::string(name), std::string(value));
  auto& s = series_of(f, copy);
  f.index.emplace(key_, &s);
  return s;
}

template <class Labels>
void metrics_registry::add_to(std::string_view name, const Labels& labels, double v) {
  if (!(v >= 0))  // also refuses NaN
    throw std::logic_error("counter '" + std::string(name) + "': cannot add " + format_number(v));
  std::lock_guard lock(mutex_);
  lookup(find(name, metric_type::counter), labels).value += v;
}

template <class Labels>
void metrics_registry::observe_in(std::string_view name, const Labels& labels, double v) {
  std::lock_guard lock(mutex_);
  auto& f = find(name, metric_type::histogram);
  auto& s = lookup(f, labels);
  // Bounds are inclusive (le): v goes into the first bucket whose bound is >= v. Values
  // above the last bound, and NaN, count only in +Inf.
  auto bound = std::lower_bound(f.buckets.begin(), f.buckets.end(), v);
  if (bound != f.buckets.end() && v <= *bound) ++s.counts[bound - f.buckets.begin()];
  ++s.count;
  s.sum += v;
}

void metrics_registry::add(std::string_view name, const metric_labels& labels, double v) {
  add_to(name, labels, v);
}

void metrics_registry::add(std::string_view name, metric_label_views labels, double v) {
  add_to(name, labels, v);
}

void metrics_registry::set(std::string_view name, const metric_labels& labels, double v) {
  std::lock_guard lock(mutex_);
  lookup(find(name, metric_type::gauge), labels).value = v;
}

void metrics_registry::set(std::string_view name, metric_label_views labels, double v) {
  std::lock_guard lock(mutex_);
  lookup(find(name, metric_type::gauge), labels).value = v;
}

void metrics_registry::observe(std::string_view name, const metric_labels& labels, double v) {
  observe_in(name, labels, v);
}

void metrics_registry::observe(std::string_view name, metric_label_views labels, double v) {
  observe_in(name, labels, v);
}

void metrics_registry::write(exposition_writer& out) const {
  // Copy under the lock and format outside it: formatting is the slow part, and requests
  // recording metrics meanwhile must not wait for a scrape.
  std::vector<family> copy;
  {
    std::lock_guard lock(mutex_);
    copy.reserve(families_.size());
    for (const auto& f : families_)
      copy.push_back(family{f->name, f->type, f->help, f->buckets, f->series_by_labels, {}});
  }
  for (const auto& f : copy) {
    out.family(f.name, f.type, f.help);
    for (const auto& [labels, s] : f.series_by_labels) {
      if (f.type != metric_type::histogram) {
        out.sample(f.name, labels, s.value);
        continue;
      }
      auto bucket_labels = labels;
      bucket_labels.emplace_back("le", "");
      std::uint64_t cumulative = 0;
      for (std::size_t i = 0; i < f.buckets.size(); ++i) {
        cumulative += s.counts[i];
        bucket_labels.back().second = format_number(f.buckets[i]);
        out.sample(f.name + "_bucket", bucket_labels, static_cast<double>(cumulative));
      }
      bucket_labels.back().second = "+Inf";
      out.sample(f.name + "_bucket", bucket_labels, static_cast<double>(s.count));
      out.sample(f.name + "_sum", labels, s.sum);
      out.sample(f.name + "_count", labels, static_cast<double>(s.count));
    }
  }
}

std::string metrics_registry::render() const {
  exposition_writer out;
  write(out);
  return out.take();
}

}  // namespace sova::http
