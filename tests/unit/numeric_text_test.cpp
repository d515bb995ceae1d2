// http::python_float: how SOVA TTS reads rate, pitch and volume (Python's float()), which
// the node's body check and the reference TTS backend share.
#define CAF_SUITE numeric_text
#include "caf/test/unit_test.hpp"

#include <cmath>
#include <string>
#include <string_view>

#include "http/numeric_text.hpp"

using sova::http::python_float;

namespace {

void check_float(std::string_view text, double want) {
  auto got = python_float(text);
  CAF_MESSAGE("python_float(" << std::string(text) << ")");
  CAF_REQUIRE(got.has_value());
  CAF_CHECK_EQUAL(*got, want);
}

void check_not_float(std::string_view text) {
  auto got = python_float(text);
  CAF_CHECK(!got);
  if (got)
    CAF_MESSAGE("python_float(" << std::string(text) << ") read " << *got << "; float() raises");
}

}  // namespace

CAF_TEST(python_float_reads_what_float_reads) {
  check_float("1.5", 1.5);
  check_float(" 1.5 ", 1.5);
  check_float("\t\n\v\f\r-2\r\n", -2.0);
  check_float("+.5e-3", 0.0005);
  check_float("5.", 5.0);
  check_float("1.e2", 100.0);
  check_float("007", 7.0);
  check_float("1E3", 1000.0);
  check_float("-0", 0.0);
  check_float("1_0", 10.0);
  check_float("1_0.5e1_0", 1.05e11);
  check_float("0.1", 0.1);
  check_float("123456789012345678901234567890", 1.2345678901234568e29);
  check_float("1e-400", 0.0);  // Python: 0.0
  // Python reads these too; the engine refuses them (it needs finite values).
  CAF_CHECK(std::isinf(*python_float("inf")) && *python_float("inf") > 0);
  CAF_CHECK(std::isinf(*python_float(" -Infinity ")) && *python_float("-Infinity") < 0);
  CAF_CHECK(std::isinf(*python_float("1e400")));
  CAF_CHECK(std::isinf(*python_float("-1e400")) && *python_float("-1e400") < 0);
  CAF_CHECK(std::isnan(*python_float("nAn")));
  CAF_CHECK(std::isnan(*python_float("+nan")));
}

CAF_TEST(python_float_refuses_what_float_refuses) {
  for (auto text : {"", " ", "fast", ".", "-", "+", "e5", ".e5", "1e", "1e+", "1e1.5", "1__0",
                    "_1", "1_", "1_.5", "1._5", "1e_5", "0x10", "1.5f", "1 5", "1,5", "--1",
                    "+-1", "in f", "infin", "infinityy", "nana", "1.5.", "\x1c" "1.5",
                    "\xd9\xa5" /* Arabic-Indic five: float() reads it, we do not */})
    check_not_float(text);
  check_not_float(std::string_view("1\0", 2));
}
