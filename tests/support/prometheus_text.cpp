#include "prometheus_text.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <limits>
#include <optional>
#include <set>
#include <stdexcept>
#include <tuple>
#include <utility>

namespace sova::test {

namespace {

using label_map = std::map<std::string, std::string>;

bool is_blank(char c) { return c == ' ' || c == '\t'; }

/// [a-zA-Z_:][a-zA-Z0-9_:]* for metric names (colon = true), without ':' for label names.
bool is_valid_name(std::string_view name, bool colon) {
  auto ok = [&](char c, bool first) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || (colon && c == ':') ||
           (!first && c >= '0' && c <= '9');
  };
  if (name.empty() || !ok(name[0], true)) return false;
  return std::all_of(name.begin() + 1, name.end(), [&](char c) { return ok(c, false); });
}

bool ends_with(std::string_view s, std::string_view suffix) {
  return s.size() > suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

/// The format's +Inf, -Inf, Inf and NaN, or a decimal float. from_chars alone would also take
/// "inf", "nan" and "infinity", which Prometheus spells otherwise, and refuses a leading '+'.
std::optional<double> parse_number(std::string_view s) {
  if (s == "+Inf" || s == "Inf") return std::numeric_limits<double>::infinity();
  if (s == "-Inf") return -std::numeric_limits<double>::infinity();
  if (s == "NaN") return std::numeric_limits<double>::quiet_NaN();
  auto body = s;
  if (!body.empty() && (body[0] == '+' || body[0] == '-')) body.remove_prefix(1);
  if (body.empty() || !((body[0] >= '0' && body[0] <= '9') || body[0] == '.')) return std::nullopt;
  double v = 0;
  auto [end, ec] = std::from_chars(body.data(), body.data() + body.size(), v);
  if (ec != std::errc() || end != body.data() + body.size()) return std::nullopt;
  return s[0] == '-' ? -v : v;
}

bool is_timestamp(std::string_view s) {
  std::int64_t ms = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), ms);
  return ec == std::errc() && end == s.data() + s.size();
}

/// A number for a message.
std::string text(double v) {
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", v);
  return buf;
}

std::string describe(const label_map& labels) {
  std::string out;
  for (const auto& [name, value] : labels) out += (out.empty() ? "{" : ",") + name + "=\"" + value + '"';
  return out.empty() ? out : out + '}';
}

/// One line, read left to right.
struct line_reader {
  std::string_view text;
  std::size_t pos = 0;

  bool done() const { return pos == text.size(); }
  char peek() const { return done() ? '\0' : text[pos]; }
  /// Skips blanks and tabs; how many there were.
  std::size_t skip_blanks() {
    auto start = pos;
    while (!done() && is_blank(text[pos])) ++pos;
    return pos - start;
  }
  /// Up to (not including) a blank or one of `stops`.
  std::string take_until(std::string_view stops = {}) {
    auto start = pos;
    while (!done() && !is_blank(text[pos]) && stops.find(text[pos]) == std::string_view::npos) ++pos;
    return std::string(text.substr(start, pos - start));
  }
};

class parser {
public:
  prom_doc run(std::string_view text) {
    std::size_t start = 0;
    while (start < text.size()) {
      ++line_;
      auto end = text.find('\n', start);
      if (end == std::string_view::npos) fail("the last line does not end in a newline");
      line_reader r{text.substr(start, end - start)};
      start = end + 1;
      r.skip_blanks();
      if (r.done()) continue;  // empty lines are allowed
      if (r.peek() == '#')
        comment(r);
      else
        sample(r);
    }
    check_histograms();
    return std::move(doc_);
  }

private:
  struct histogram_series {
    std::size_t first_line = 0;
    std::vector<std::tuple<double, double, std::size_t>> buckets;  // le, value, line
    std::optional<double> count;
    std::size_t count_line = 0;
  };

  [[noreturn]] void fail(const std::string& why) const { fail_at(line_, why); }
  [[noreturn]] static void fail_at(std::size_t line, const std::string& why) {
    throw std::runtime_error("line " + std::to_string(line) + ": " + why);
  }

  void comment(line_reader r) {
    ++r.pos;  // '#'
    r.skip_blanks();
    auto keyword = r.take_until();
    if (keyword != "HELP" && keyword != "TYPE") return;  // any other comment is ignored
    r.skip_blanks();
    auto name = r.take_until();
    if (!is_valid_name(name, true)) fail("invalid metric name '" + name + "' in # " + keyword);
    if (keyword == "TYPE") {
      if (doc_.types.count(name)) fail("second TYPE line for " + name);
      r.skip_blanks();
      auto type = r.take_until();
      r.skip_blanks();
      if (!r.done()) fail("unexpected text after the TYPE of " + name);
      static const std::set<std::string> known{"counter", "gauge", "histogram", "summary", "untyped"};
      if (!known.count(type)) fail("unknown type '" + type + "' for " + name);
      enter(name);
      doc_.types[name] = type;
    } else {
      if (doc_.helps.count(name)) fail("second HELP line for " + name);
      r.skip_blanks();
      enter(name);
      doc_.helps[name] = unescape(r, false);
    }
  }

  /// The HELP text (to the end of the line) or a quoted label value (to its closing quote).
  std::string unescape(line_reader& r, bool quoted) {
    std::string out;
    while (!r.done()) {
      char c = r.text[r.pos++];
      if (quoted && c == '"') return out;
      if (c != '\\') {
        out += c;
        continue;
      }
      char e = r.peek();
      ++r.pos;
      if (e == '\\') out += '\\';
      else if (e == 'n') out += '\n';
      else if (e == '"' && quoted) out += '"';
      else if (e == '\0') fail("a backslash ends the line");
      else fail(std::string("invalid escape \\") + e + (quoted ? " in a label value" : " in HELP"));
    }
    if (quoted) fail("unterminated label value");
    return out;
  }

  label_map labels(line_reader& r) {
    label_map out;
    ++r.pos;  // '{'
    r.skip_blanks();
    while (r.peek() != '}') {
      auto name = r.take_until("=,}\"");
      if (!is_valid_name(name, false)) fail("invalid label name '" + name + "'");
      r.skip_blanks();
      if (r.peek() != '=') fail("no '=' after the label " + name);
      ++r.pos;
      r.skip_blanks();
      if (r.peek() != '"') fail("the value of the label " + name + " is not quoted");
      ++r.pos;
      auto value = unescape(r, true);
      if (!out.emplace(name, std::move(value)).second) fail("label " + name + " given twice");
      r.skip_blanks();
      if (r.peek() == ',') {
        ++r.pos;  // a trailing comma is allowed
        r.skip_blanks();
      } else if (r.peek() != '}') {
        fail("expected ',' or '}' after the label " + name);
      }
    }
    ++r.pos;  // '}'
    return out;
  }

  void sample(line_reader r) {
    prom_sample s;
    s.name = r.take_until("{");
    if (!is_valid_name(s.name, true)) fail("invalid metric name '" + s.name + "'");
    if (r.peek() == '{') s.labels = labels(r);
    if (r.skip_blanks() == 0 || r.done()) fail("no value after " + s.name + describe(s.labels));
    auto value = r.take_until();
    auto v = parse_number(value);
    if (!v) fail("the value '" + value + "' of " + s.name + " is not a number");
    s.value = *v;
    r.skip_blanks();
    if (!r.done()) {
      auto timestamp = r.take_until();
      if (!is_timestamp(timestamp)) fail("the timestamp '" + timestamp + "' is not an integer");
      r.skip_blanks();
      if (!r.done()) fail("unexpected text after the sample " + s.name);
    }
    auto family = family_of(s.name);
    enter(family);
    if (!series_.emplace(s.name, s.labels).second)
      fail("duplicate series " + s.name + describe(s.labels));
    if (doc_.types[family] == "histogram") histogram_sample(s);
    doc_.samples.push_back(std::move(s));
  }

  /// The family whose # TYPE covers the sample `name`.
  std::string family_of(const std::string& name) const {
    if (auto it = doc_.types.find(name); it != doc_.types.end()) {
      if (it->second == "histogram") fail("the histogram sample " + name + " has no _bucket, _sum or _count");
      return name;
    }
    for (std::string_view suffix : {"_bucket", "_sum", "_count"}) {
      if (!ends_with(name, suffix)) continue;
      auto it = doc_.types.find(name.substr(0, name.size() - suffix.size()));
      if (it != doc_.types.end() &&
          (it->second == "histogram" || (it->second == "summary" && suffix != "_bucket")))
        return it->first;
    }
    fail("the sample " + name + " has no # TYPE line before it");
  }

  /// Every line of a family must be in one group.
  void enter(const std::string& family) {
    if (family == current_) return;
    if (closed_.count(family)) fail("the lines of " + family + " are not in one group");
    if (!current_.empty()) {
      check_histograms();
      closed_.insert(current_);
    }
    current_ = family;
  }

  void histogram_sample(const prom_sample& s) {
    auto key = s.labels;
    bool bucket = ends_with(s.name, "_bucket");
    auto le = key.find("le");
    if (bucket && le == key.end()) fail(s.name + describe(s.labels) + " has no le label");
    if (!bucket && le != key.end()) fail(s.name + describe(s.labels) + " has an le label");
    std::string le_text;
    if (bucket) {
      le_text = le->second;
      key.erase(le);
    }
    auto& h = histogram_[key];
    if (h.first_line == 0) h.first_line = line_;
    if (bucket) {
      auto bound = parse_number(le_text);
      if (!bound || std::isnan(*bound)) fail("le=\"" + le_text + "\" is not a number");
      h.buckets.emplace_back(*bound, s.value, line_);
    } else if (ends_with(s.name, "_count")) {
      h.count = s.value;
      h.count_line = line_;
    }
  }

  /// The checks that need all of a histogram family's series, run once its group ends.
  void check_histograms() {
    for (auto& [labels, h] : histogram_) {
      auto what = current_ + describe(labels);
      auto& b = h.buckets;
      std::stable_sort(b.begin(), b.end(), [](const auto& x, const auto& y) { return std::get<0>(x) < std::get<0>(y); });
      for (std::size_t i = 1; i < b.size(); ++i) {
        auto [le, value, line] = b[i];
        if (le == std::get<0>(b[i - 1])) fail_at(line, what + " has two buckets with the same le");
        if (value < std::get<1>(b[i - 1]))
          fail_at(line, what + " buckets are not cumulative: le=" + text(le) + " holds " +
                            text(value) + ", less than le=" + text(std::get<0>(b[i - 1])));
      }
      if (b.empty() || !(std::get<0>(b.back()) > std::numeric_limits<double>::max()))
        fail_at(h.first_line, what + " has no le=\"+Inf\" bucket");
      if (!h.count) fail_at(std::get<2>(b.back()), what + " has no _count");
      if (*h.count != std::get<1>(b.back()))
        fail_at(h.count_line, what + " _count differs from its le=\"+Inf\" bucket");
    }
    histogram_.clear();
  }

  prom_doc doc_;
  std::size_t line_ = 0;
  std::string current_;            // the family of the latest HELP, TYPE or sample line
  std::set<std::string> closed_;   // families whose group has ended
  std::set<std::pair<std::string, label_map>> series_;
  std::map<label_map, histogram_series> histogram_;  // the current family's, by labels without le
};

}  // namespace

std::vector<prom_sample> prom_doc::find(const std::string& name,
                                        const std::map<std::string, std::string>& match) const {
  std::vector<prom_sample> out;
  for (const auto& s : samples) {
    if (s.name != name) continue;
    bool all = std::all_of(match.begin(), match.end(), [&](const auto& pair) {
      auto it = s.labels.find(pair.first);
      return it != s.labels.end() && it->second == pair.second;
    });
    if (all) out.push_back(s);
  }
  return out;
}

double prom_doc::sum(const std::string& name, const std::map<std::string, std::string>& match) const {
  double total = 0;
  for (const auto& s : find(name, match)) total += s.value;
  return total;
}

prom_doc parse_prometheus(std::string_view text) { return parser{}.run(text); }

}  // namespace sova::test
