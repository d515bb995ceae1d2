// Prometheus metrics: the registry renders counters, gauges and histograms in the exact
// text format (escaping, numbers, cumulative le-inclusive buckets), refuses misuse with
// std::logic_error, and stays exact under concurrent updates; the tests' strict parser
// reads back what the registry writes and refuses each thing the format does not allow,
// naming the line.
#define CAF_SUITE metrics
#include "caf/test/unit_test.hpp"

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "http/metrics.hpp"
#include "prometheus_text.hpp"

using namespace sova::http;
using sova::test::parse_prometheus;

// CAF_CHECK_EQUAL allows doubles a relative difference of 1e-5; counts and sums here must be
// exact, so they compare as "%.17g" text.
#define CHECK_EXACT(x, y) CAF_CHECK_EQUAL(exact(x), exact(y))

namespace {

using caf::term;  // CAF_CHECK_PASSED and CAF_CHECK_FAILED name it unqualified

std::string exact(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  return buf;
}

/// Requires `text` to contain `part`; at -v 4 every message shows.
void check_mentions(const std::string& text, const std::string& part) {
  if (text.find(part) == std::string::npos)
    CAF_CHECK_FAILED("'" << text << "' does not mention '" << part << "'");
  else
    CAF_CHECK_PASSED("'" << text << "' mentions '" << part << "'");
}

/// The message of the std::logic_error that `f` must throw.
template <class F>
std::string logic_error_of(F f) {
  try {
    f();
  } catch (const std::logic_error& e) {
    return e.what();
  }
  CAF_CHECK_FAILED("no std::logic_error thrown");
  return {};
}

/// Requires parse_prometheus to refuse `text` at `line`, mentioning `part`.
void check_refused(const std::string& text, int line, const std::string& part) {
  try {
    parse_prometheus(text);
  } catch (const std::runtime_error& e) {
    std::string message = e.what();
    auto prefix = "line " + std::to_string(line) + ": ";
    if (message.compare(0, prefix.size(), prefix) != 0)
      CAF_CHECK_FAILED("'" << message << "' does not start with '" << prefix << "'");
    check_mentions(message, part);
    return;
  }
  CAF_CHECK_FAILED("accepted: " << text);
}

/// One sample, as the writer prints it.
std::string sample_line(const metric_labels& labels, double value) {
  exposition_writer out;
  out.sample("x", labels, value);
  return out.take();
}

std::string number(double value) {
  auto line = sample_line({}, value);
  return line.substr(2, line.size() - 3);  // without "x " and "\n"
}

/// The small registry whose exact text several tests compare.
void fill(metrics_registry& r) {
  r.declare("sova_requests_total", metric_type::counter, "Requests served.");
  r.declare("sova_peers", metric_type::gauge, "Known peers.");
  r.declare("sova_latency_seconds", metric_type::histogram, "Latency.", {0.125, 1});
  r.add("sova_requests_total", {{"route", "tts"}, {"status", "500"}});
  r.add("sova_requests_total", {{"route", "asr"}, {"status", "200"}});
  r.add("sova_requests_total", {{"route", "asr"}, {"status", "200"}}, 2);
  r.add("sova_requests_total", {{"route", "asr"}, {"status", "404"}}, 0.5);
  r.set("sova_peers", {}, 7);
  r.set("sova_peers", {}, 12);
  r.observe("sova_latency_seconds", {{"route", "asr"}}, 0.0625);
  r.observe("sova_latency_seconds", {{"route", "asr"}}, 0.125);
  r.observe("sova_latency_seconds", {{"route", "asr"}}, 3);
}

const char* const filled_text =
  "# HELP sova_requests_total Requests served.\n"
  "# TYPE sova_requests_total counter\n"
  "sova_requests_total{route=\"asr\",status=\"200\"} 3\n"
  "sova_requests_total{route=\"asr\",status=\"404\"} 0.5\n"
  "sova_requests_total{route=\"tts\",status=\"500\"} 1\n"
  "# HELP sova_peers Known peers.\n"
  "# TYPE sova_peers gauge\n"
  "sova_peers 12\n"
  "# HELP sova_latency_seconds Latency.\n"
  "# TYPE sova_latency_seconds histogram\n"
  "sova_latency_seconds_bucket{route=\"asr\",le=\"0.125\"} 2\n"
  "sova_latency_seconds_bucket{route=\"asr\",le=\"1\"} 2\n"
  "sova_latency_seconds_bucket{route=\"asr\",le=\"+Inf\"} 3\n"
  "sova_latency_seconds_sum{route=\"asr\"} 3.1875\n"
  "sova_latency_seconds_count{route=\"asr\"} 3\n";

}  // namespace

// --- the registry and the writer ---------------------------------------------------------

CAF_TEST(renders_counters_gauges_and_histograms_exactly) {
  metrics_registry r;
  fill(r);
  CAF_CHECK_EQUAL(r.render(), filled_text);
  exposition_writer out;
  r.write(out);
  CAF_CHECK_EQUAL(out.take(), filled_text);
  CAF_CHECK_EQUAL(out.take(), "");  // take() empties the writer
}

CAF_TEST(label_views_and_label_vectors_reach_the_same_series) {
  metrics_registry r;
  r.declare("x_total", metric_type::counter, "X.");
  r.declare("g", metric_type::gauge, "G.");
  r.declare("h_seconds", metric_type::histogram, "H.", {1});
  std::string code = "200";
  r.add("x_total", {{"route", "tts"}, {"code", code}});
  r.add("x_total", metric_labels{{"route", "tts"}, {"code", "200"}}, 2);
  // Values that would run together if keys were joined naively stay apart.
  r.add("x_total", {{"route", "tts200"}, {"code", ""}});
  r.add("x_total", {{"route", ""}, {"code", "tts200"}});
  r.set("g", {{"k", "v"}}, 5);
  r.set("g", metric_labels{{"k", "v"}}, 7);
  r.observe("h_seconds", {{"k", "v"}}, 0.5);
  r.observe("h_seconds", metric_labels{{"k", "v"}}, 2);
  CAF_CHECK_EQUAL(r.render(),
                  "# HELP x_total X.\n# TYPE x_total counter\n"
                  "x_total{route=\"\",code=\"tts200\"} 1\n"
                  "x_total{route=\"tts\",code=\"200\"} 3\n"
                  "x_total{route=\"tts200\",code=\"\"} 1\n"
                  "# HELP g G.\n# TYPE g gauge\ng{k=\"v\"} 7\n"
                  "# HELP h_seconds H.\n# TYPE h_seconds histogram\n"
                  "h_seconds_bucket{k=\"v\",le=\"1\"} 1\n"
                  "h_seconds_bucket{k=\"v\",le=\"+Inf\"} 2\n"
                  "h_seconds_sum{k=\"v\"} 2.5\nh_seconds_count{k=\"v\"} 2\n");
}

CAF_TEST(families_without_series_print_help_and_type_only) {
  metrics_registry r;
  CAF_CHECK_EQUAL(r.render(), "");
  r.declare("b_total", metric_type::counter, "B.");
  r.declare("a_seconds", metric_type::histogram, "A.");
  r.declare("c", metric_type::gauge, "");
  // Declaration order, not name order; an empty help still prints its HELP line.
  CAF_CHECK_EQUAL(r.render(),
                  "# HELP b_total B.\n# TYPE b_total counter\n"
                  "# HELP a_seconds A.\n# TYPE a_seconds histogram\n"
                  "# HELP c \n# TYPE c gauge\n");
}

CAF_TEST(escapes_label_values_and_help) {
  CAF_CHECK_EQUAL(sample_line({{"path", "a\\b\"c\nd"}, {"empty", ""}}, 1),
                  "x{path=\"a\\\\b\\\"c\\nd\",empty=\"\"} 1\n");
  exposition_writer out;
  out.family("x", metric_type::counter, "Back\\slash, \"quotes\" and\nnewline.");
  CAF_CHECK_EQUAL(out.take(),
                  "# HELP x Back\\\\slash, \"quotes\" and\\nnewline.\n# TYPE x counter\n");
}

CAF_TEST(formats_numbers) {
  CAF_CHECK_EQUAL(number(0), "0");
  CAF_CHECK_EQUAL(number(-0.0), "0");
  CAF_CHECK_EQUAL(number(3), "3");
  CAF_CHECK_EQUAL(number(-7), "-7");
  CAF_CHECK_EQUAL(number(1e15), "1000000000000000");
  CAF_CHECK_EQUAL(number(9007199254740991.0), "9007199254740991");  // 2^53 - 1
  CAF_CHECK_EQUAL(number(1e20), "1e+20");
  CAF_CHECK_EQUAL(number(0.1), "0.1");
  CAF_CHECK_EQUAL(number(2.5), "2.5");
  CAF_CHECK_EQUAL(number(-0.005), "-0.005");
  CAF_CHECK_EQUAL(number(1e-7), "1e-07");
  CAF_CHECK_EQUAL(number(1.0 / 3), "0.3333333333333333");
  CAF_CHECK_EQUAL(number(std::numeric_limits<double>::infinity()), "+Inf");
  CAF_CHECK_EQUAL(number(-std::numeric_limits<double>::infinity()), "-Inf");
  CAF_CHECK_EQUAL(number(std::numeric_limits<double>::quiet_NaN()), "NaN");
  // Whatever prints reads back as the same double.
  for (double v : {0.1 + 0.2, 1.0 / 3, 123456.789, 5e-324, 1.7976931348623157e308, -2.2e-16}) {
    auto text = number(v);
    CHECK_EXACT(std::strtod(text.c_str(), nullptr), v);
  }
}

CAF_TEST(latency_buckets_are_the_documented_ones) {
  std::vector<double> expected{0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
                               0.5,   1,      2.5,   5,    10,    30,   60,  120};
  CAF_CHECK(latency_buckets() == expected);
}

CAF_TEST(histogram_bounds_are_inclusive) {
  metrics_registry r;
  r.declare("lat", metric_type::histogram, "Latency.");  // latency_buckets()
  for (double v : {-1.0, 0.0, 0.001, 0.005, 0.0050001, 120.0, 121.0})
    r.observe("lat", {}, v);
  auto doc = parse_prometheus(r.render());
  auto bucket = [&](const std::string& le) { return doc.sum("lat_bucket", {{"le", le}}); };
  CAF_CHECK_EQUAL(doc.find("lat_bucket").size(), latency_buckets().size() + 1);
  CHECK_EXACT(bucket("0.001"), 3);   // -1, 0 and 0.001 itself
  CHECK_EXACT(bucket("0.0025"), 3);
  CHECK_EXACT(bucket("0.005"), 4);   // 0.005 counts in le="0.005"
  CHECK_EXACT(bucket("0.01"), 5);    // 0.0050001 only from the next bound on
  CHECK_EXACT(bucket("60"), 5);
  CHECK_EXACT(bucket("120"), 6);     // 120 itself
  CHECK_EXACT(bucket("+Inf"), 7);    // 121 only here
  CHECK_EXACT(doc.sum("lat_count"), 7);
  CHECK_EXACT(doc.sum("lat_sum"), -1.0 + 0.001 + 0.005 + 0.0050001 + 120 + 121);
  // NaN counts only in +Inf, as in the Go client.
  r.observe("lat", {}, std::numeric_limits<double>::quiet_NaN());
  doc = parse_prometheus(r.render());
  CHECK_EXACT(doc.sum("lat_bucket", {{"le", "120"}}), 6);
  CHECK_EXACT(doc.sum("lat_bucket", {{"le", "+Inf"}}), 8);
  CAF_CHECK(std::isnan(doc.sum("lat_sum")));
}

CAF_TEST(refuses_misuse) {
  metrics_registry r;
  r.declare("c_total", metric_type::counter, "C.");
  r.declare("g", metric_type::gauge, "G.");
  r.declare("h", metric_type::histogram, "H.", {1, 2});
  // Undeclared names and wrong types.
  check_mentions(logic_error_of([&] { r.add("nope_total", {}); }), "nope_total");
  check_mentions(logic_error_of([&] { r.set("c_total", {}, 1); }), "c_total");
  check_mentions(logic_error_of([&] { r.observe("g", {}, 1); }), "g");
  check_mentions(logic_error_of([&] { r.add("h", {}); }), "histogram");
  // Bad metric and label names.
  for (auto bad : {"", "1abc", "a-b", "a b", "é"})
    check_mentions(logic_error_of([&] { r.declare(bad, metric_type::gauge, ""); }),
                   "'" + std::string(bad) + "'");
  r.declare("ns:sub_metric", metric_type::gauge, "Colons are allowed in metric names.");
  for (auto bad : {"", "1a", "a:b", "a-b"})
    check_mentions(logic_error_of([&] { r.add("c_total", {{bad, "v"}}); }),
                   "'" + std::string(bad) + "'");
  check_mentions(logic_error_of([&] { r.add("c_total", {{"a", "1"}, {"a", "2"}}); }), "'a'");
  check_mentions(logic_error_of([&] { r.observe("h", {{"le", "1"}}, 1); }), "'le'");
  // A counter only goes up.
  check_mentions(logic_error_of([&] { r.add("c_total", {}, -1); }), "-1");
  check_mentions(logic_error_of([&] { r.add("c_total", {}, std::nan("")); }), "NaN");
  // Bucket bounds.
  check_mentions(logic_error_of([&] { r.declare("h1", metric_type::histogram, "", {1, 1}); }), "h1");
  check_mentions(logic_error_of([&] { r.declare("h2", metric_type::histogram, "", {2, 1}); }), "h2");
  check_mentions(logic_error_of([&] { r.declare("h3", metric_type::histogram, "", {std::nan("")}); }),
                 "h3");
  check_mentions(logic_error_of([&] {
                   r.declare("h4", metric_type::histogram, "",
                             {1, std::numeric_limits<double>::infinity()});
                 }),
                 "h4");
  // Redeclaring: the same type is a no-op (the first help stays), another type throws.
  r.declare("g", metric_type::gauge, "Other help.");
  check_mentions(logic_error_of([&] { r.declare("g", metric_type::counter, ""); }), "'g'");
  // Two families must not print the same sample name.
  check_mentions(logic_error_of([&] { r.declare("h_count", metric_type::counter, ""); }), "h_count");
  // The same pairs in another order would print as a duplicate series.
  r.add("c_total", {{"a", "1"}, {"b", "2"}});
  check_mentions(logic_error_of([&] { r.add("c_total", {{"b", "2"}, {"a", "1"}}); }), "order");
  // None of the refusals left a series or family behind.
  CAF_CHECK_EQUAL(r.render(),
                  "# HELP c_total C.\n# TYPE c_total counter\nc_total{a=\"1\",b=\"2\"} 1\n"
                  "# HELP g G.\n# TYPE g gauge\n"
                  "# HELP h H.\n# TYPE h histogram\n"
                  "# HELP ns:sub_metric Colons are allowed in metric names.\n"
                  "# TYPE ns:sub_metric gauge\n");
}

CAF_TEST(concurrent_updates_are_exact) {
  metrics_registry r;
  r.declare("hits_total", metric_type::counter, "Hits.");
  r.declare("lat", metric_type::histogram, "Latency.");
  r.declare("last", metric_type::gauge, "Last thread.");
  constexpr int threads = 4;
  constexpr int rounds = 10000;
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&r, t] {
      metric_labels own{{"thread", std::to_string(t)}};
      for (int i = 0; i < rounds; ++i) {
        r.add("hits_total", {});
        r.add("hits_total", own, 2);
        r.observe("lat", {}, i % 2 ? 0.5 : 0.25);  // sums of these are exact in any order
        r.set("last", {}, t);
      }
    });
  }
  // Scrapes meanwhile: each one is a consistent, parseable snapshot.
  std::string scrape_error;
  std::thread scraper([&] {
    try {
      for (int i = 0; i < 50; ++i) {
        auto doc = parse_prometheus(r.render());  // throws if +Inf != _count
        if (doc.sum("hits_total") > 3.0 * threads * rounds) throw std::runtime_error("too many hits");
      }
    } catch (const std::exception& e) {
      scrape_error = e.what();
    }
  });
  for (auto& w : workers) w.join();
  scraper.join();
  CAF_CHECK_EQUAL(scrape_error, "");
  auto doc = parse_prometheus(r.render());
  CAF_CHECK_EQUAL(doc.find("hits_total").size(), threads + 1u);
  CHECK_EXACT(doc.sum("hits_total"), 3.0 * threads * rounds);
  CHECK_EXACT(doc.sum("hits_total", {{"thread", "2"}}), 2.0 * rounds);
  CHECK_EXACT(doc.sum("lat_count"), 1.0 * threads * rounds);
  CHECK_EXACT(doc.sum("lat_bucket", {{"le", "0.1"}}), 0);
  CHECK_EXACT(doc.sum("lat_bucket", {{"le", "0.25"}}), threads * rounds / 2.0);
  CHECK_EXACT(doc.sum("lat_bucket", {{"le", "0.5"}}), 1.0 * threads * rounds);
  CHECK_EXACT(doc.sum("lat_sum"), threads * rounds / 2 * (0.5 + 0.25));
  auto last = doc.sum("last");
  CAF_CHECK(last >= 0 && last < threads);
}

// --- the parser --------------------------------------------------------------------------

CAF_TEST(parser_reads_back_what_the_registry_writes) {
  metrics_registry r;
  fill(r);
  r.declare("sova_odd", metric_type::gauge, "Back\\slash and\nnewline.");
  r.set("sova_odd", {{"v", "a\\b\"c\nd"}}, -2.5);
  auto doc = parse_prometheus(r.render());
  CAF_CHECK_EQUAL(doc.types.size(), 4u);
  CAF_CHECK_EQUAL(doc.types["sova_requests_total"], "counter");
  CAF_CHECK_EQUAL(doc.types["sova_peers"], "gauge");
  CAF_CHECK_EQUAL(doc.types["sova_latency_seconds"], "histogram");
  CAF_CHECK_EQUAL(doc.helps["sova_requests_total"], "Requests served.");
  CAF_CHECK_EQUAL(doc.helps["sova_odd"], "Back\\slash and\nnewline.");
  CAF_CHECK_EQUAL(doc.samples.size(), 10u);
  CHECK_EXACT(doc.sum("sova_requests_total"), 4.5);
  CHECK_EXACT(doc.sum("sova_requests_total", {{"route", "asr"}}), 3.5);
  CHECK_EXACT(doc.sum("sova_requests_total", {{"route", "asr"}, {"status", "200"}}), 3);
  CHECK_EXACT(doc.sum("sova_requests_total", {{"route", "none"}}), 0);
  CHECK_EXACT(doc.sum("sova_peers"), 12);
  CHECK_EXACT(doc.sum("sova_latency_seconds_bucket", {{"le", "0.125"}}), 2);
  CHECK_EXACT(doc.sum("sova_latency_seconds_sum"), 3.1875);
  auto odd = doc.find("sova_odd", {{"v", "a\\b\"c\nd"}});
  CAF_REQUIRE_EQUAL(odd.size(), 1u);
  CHECK_EXACT(odd[0].value, -2.5);
  CAF_CHECK_EQUAL(odd[0].labels.size(), 1u);
}

CAF_TEST(parser_accepts_what_the_format_allows) {
  auto doc = parse_prometheus(
    "# A plain comment.\n"
    "\n"
    "# TYPE a untyped\n"
    "a{x=\"1\",} +Inf 1700000000000\n"   // trailing comma, timestamp
    "a{ y = \"2\" }\t-Inf\n"             // blanks inside the braces, a tab
    "a{z=\"3\"} NaN\n"
    "a{w=\"4\"} 1.5e3\n"
    "# TYPE s summary\n"
    "s{quantile=\"0.5\"} 0.25\n"
    "s_sum 1\n"
    "s_count 4\n"
    "# HELP s Given after its samples, still in its group.\n");
  CAF_CHECK_EQUAL(doc.samples.size(), 7u);
  CHECK_EXACT(doc.sum("a", {{"w", "4"}}), 1500);
  CAF_CHECK(std::isinf(doc.sum("a", {{"x", "1"}})));
  CAF_CHECK_LESS(doc.sum("a", {{"y", "2"}}), 0);
  CAF_CHECK(std::isnan(doc.sum("a", {{"z", "3"}})));
  CAF_CHECK_EQUAL(doc.types["s"], "summary");
  CAF_CHECK_EQUAL(doc.helps["s"], "Given after its samples, still in its group.");
  CAF_CHECK_EQUAL(parse_prometheus("").samples.size(), 0u);
}

CAF_TEST(parser_refuses_what_the_format_does_not_allow) {
  const std::string c = "# TYPE x counter\n";
  // Names.
  check_refused(c + "x-y 1\n", 2, "'x-y'");
  check_refused(c + "x{1a=\"b\"} 1\n", 2, "'1a'");
  check_refused(c + "x{a:b=\"c\"} 1\n", 2, "'a:b'");
  check_refused("# TYPE 9x counter\n", 1, "'9x'");
  // Escapes and label syntax.
  check_refused(c + "x{a=\"\\t\"} 1\n", 2, "escape");
  check_refused("# HELP x say \\\"hi\\\"\n", 1, "escape");
  check_refused(c + "x{a=\"b} 1\n", 2, "unterminated");
  check_refused(c + "x{a=b} 1\n", 2, "quoted");
  check_refused(c + "x{a=\"1\",a=\"2\"} 1\n", 2, "twice");
  check_refused(c + "x{a=\"1\" b=\"2\"} 1\n", 2, "','");
  // Values.
  for (auto bad : {"abc", "1.2.3", "inf", "nan", "0x10", "1,5", "", "++1"})
    check_refused(c + "x " + bad + "\n", 2, bad);
  check_refused(c + "x{a=\"1\"}1\n", 2, "no value");
  check_refused(c + "x 1 12.5\n", 2, "timestamp");
  check_refused(c + "x 1 2 3\n", 2, "unexpected");
  // TYPE: present, before the samples, once, known.
  check_refused("x 1\n", 1, "no # TYPE");
  check_refused(c + "x_count 1\n", 2, "no # TYPE");
  check_refused("# HELP x X.\nx 1\n# TYPE x counter\n", 2, "no # TYPE");
  check_refused(c + "x 1\n# TYPE x counter\n", 3, "second TYPE");
  check_refused(c + "# TYPE x gauge\n", 2, "second TYPE");
  check_refused("# HELP x A.\n# HELP x B.\n", 2, "second HELP");
  check_refused("# TYPE x gauges\n", 1, "gauges");
  check_refused("# TYPE x counter extra\n", 1, "unexpected");
  // Series and groups.
  check_refused(c + "x{a=\"1\"} 1\nx{a=\"2\"} 1\nx{a=\"1\"} 2\n", 4, "duplicate");
  check_refused(c + "x 1\n# TYPE y gauge\ny 1\nx{a=\"1\"} 2\n", 5, "one group");
  check_refused("# TYPE x counter\n# TYPE y gauge\n# HELP x X.\n", 3, "one group");
  // Histograms.
  const std::string h = "# HELP h H.\n# TYPE h histogram\n";
  check_refused(h + "h 1\n", 3, "_bucket");
  check_refused(h + "h_bucket 1\n", 3, "no le");
  check_refused(h + "h_count{le=\"1\"} 1\n", 3, "le");
  check_refused(h + "h_bucket{le=\"one\"} 1\n", 3, "one");
  check_refused(h +
                  "h_bucket{le=\"1\"} 3\n"
                  "h_bucket{le=\"2\"} 2\n"
                  "h_bucket{le=\"+Inf\"} 3\n"
                  "h_count 3\n",
                4, "cumulative");
  // Out of le order in the text, cumulative in le order: fine; decreasing: refused.
  parse_prometheus(h + "h_bucket{le=\"+Inf\"} 3\nh_bucket{le=\"1\"} 1\nh_count 3\n");
  check_refused(h + "h_bucket{le=\"+Inf\"} 3\nh_bucket{le=\"1\"} 4\nh_count 3\n", 3, "cumulative");
  check_refused(h + "h_bucket{le=\"1\"} 1\nh_bucket{le=\"1.0\"} 1\n", 4, "same le");
  check_refused(h +
                  "h_bucket{a=\"x\",le=\"1\"} 1\n"
                  "h_bucket{a=\"x\",le=\"+Inf\"} 1\n"
                  "h_count{a=\"x\"} 1\n"
                  "h_bucket{a=\"y\",le=\"1\"} 1\n"
                  "h_count{a=\"y\"} 1\n",
                6, "+Inf");
  check_refused(h + "h_bucket{le=\"+Inf\"} 3\nh_sum 1\nh_count 4\n", 5, "_count");
  check_refused(h + "h_bucket{le=\"+Inf\"} 3\nh_sum 1\n", 3, "no _count");
  // The family ends where the next begins: checked there, reported at the bad line.
  check_refused(h + "h_bucket{le=\"+Inf\"} 3\nh_count 4\n" + c + "x 1\n", 4, "_count");
  // The final newline.
  check_refused(c + "x 1", 2, "newline");
}

CAF_TEST(parser_refuses_a_registry_text_with_a_mangled_line) {
  metrics_registry r;
  fill(r);
  auto text = r.render();
  CAF_REQUIRE(text == filled_text);
  // The 12th line is le="1" 2: make it less than le="0.125"'s 2.
  auto at = text.find("le=\"1\"} 2");
  CAF_REQUIRE(at != std::string::npos);
  text.replace(at, 9, "le=\"1\"} 1");
  check_refused(text, 12, "cumulative");
}
