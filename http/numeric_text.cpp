#include "http/numeric_text.hpp"

#include <cstdlib>
#include <limits>
#include <string>

#include <locale.h>

namespace sova::http {

namespace {

bool digit(char c) { return c >= '0' && c <= '9'; }
bool space(char c) { return c == ' ' || (c >= '\t' && c <= '\r'); }  // Python's ASCII spaces

bool same_letters(std::string_view a, std::string_view lower) {
  if (a.size() != lower.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if ((a[i] >= 'A' && a[i] <= 'Z' ? a[i] - 'A' + 'a' : a[i]) != lower[i]) return false;
  return true;
}

// Appends the digits at s[i...] to `out`, dropping single underscores between digits;
// false when there is no digit there or an underscore is not between two digits.
bool copy_digits(std::string_view s, std::size_t& i, std::string& out) {
  if (i >= s.size() || !digit(s[i])) return false;
  while (i < s.size()) {
    if (digit(s[i]))
      out += s[i++];
    else if (s[i] == '_' && i + 1 < s.size() && digit(s[i + 1]))
      ++i;
    else
      break;
  }
  return true;
}

// strtod in the "C" locale, whatever the process's locale says the decimal point is.
double c_strtod(const std::string& s) {
  static const locale_t c_locale = newlocale(LC_ALL_MASK, "C", locale_t{});
  return strtod_l(s.c_str(), nullptr, c_locale);
}

}  // namespace

std::optional<double> python_float(std::string_view s) {
  while (!s.empty() && space(s.front())) s.remove_prefix(1);
  while (!s.empty() && space(s.back())) s.remove_suffix(1);
  std::string clean;  // what strtod gets: no spaces, no underscores, no "+"
  std::size_t i = 0;
  bool negative = false;
  if (i < s.size() && (s[i] == '+' || s[i] == '-')) negative = s[i++] == '-';
  if (negative) clean += '-';
  auto word = s.substr(i);
  if (same_letters(word, "inf") || same_letters(word, "infinity"))
    return negative ? -std::numeric_limits<double>::infinity()
                    : std::numeric_limits<double>::infinity();
  if (same_letters(word, "nan")) return std::numeric_limits<double>::quiet_NaN();
  bool whole = copy_digits(s, i, clean);
  bool fraction = false;
  if (i < s.size() && s[i] == '.') {
    clean += s[i++];
    fraction = copy_digits(s, i, clean);
  }
  if (!whole && !fraction) return std::nullopt;
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    clean += s[i++];
    if (i < s.size() && (s[i] == '+' || s[i] == '-')) clean += s[i++];
    if (!copy_digits(s, i, clean)) return std::nullopt;
  }
  if (i != s.size()) return std::nullopt;
  return c_strtod(clean);  // out of range: +-HUGE_VAL (inf) or a denormal or 0, as Python
}

}  // namespace sova::http
