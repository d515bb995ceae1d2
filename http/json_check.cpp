#include "http/json_check.hpp"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <string>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace sova::http {

namespace {

class json_scanner {
public:
  using member_hook = std::function<void(const json_member&)>;

  json_scanner(std::string_view text, json_type* root = nullptr,
               const member_hook* top_member = nullptr)
      : p_(reinterpret_cast<const unsigned char*>(text.data())), end_(p_ + text.size()),
        root_(root), top_member_(top_member) {}

  /// One loop over the whole text: a container opened is pushed on open_, never a
  /// recursive call, so that deep nesting cannot exhaust the stack.
  bool scan() {
    if (end_ - p_ >= 3 && p_[0] == 0xEF && p_[1] == 0xBB && p_[2] == 0xBF) p_ += 3;
    bool need_value = true;
    for (;;) {
      skip_space();
      if (need_value) {
        if (p_ == end_) return false;
        if (root_ || top_member_) tell(*p_);
        switch (*p_) {
          case '{':
            ++p_;
            skip_space();
            if (take('}')) break;
            open_.push_back('}');
            if (!key()) return false;
            continue;  // its first member's value next
          case '[':
            ++p_;
            skip_space();
            if (take(']')) break;
            open_.push_back(']');
            continue;  // its first element next
          case '"':
            if (!string()) return false;
            break;
          case 't':
            if (!word("true")) return false;
            break;
          case 'f':
            if (!word("false")) return false;
            break;
          case 'n':
            if (!word("null")) return false;
            break;
          default:
            if (!number()) return false;
        }
        need_value = false;
        continue;
      }
      // After a value: the end, a container's end, or a comma before the next value.
      if (open_.empty()) return p_ == end_;
      if (p_ == end_) return false;
      if (*p_ == static_cast<unsigned char>(open_.back())) {
        ++p_;
        open_.pop_back();
        continue;
      }
      if (!take(',')) return false;
      if (open_.back() == '}' && !key()) return false;
      need_value = true;
    }
  }

private:
  void skip_space() {
    while (p_ != end_ && (*p_ == ' ' || *p_ == '\t' || *p_ == '\n' || *p_ == '\r')) ++p_;
  }

  bool take(unsigned char c) {
    if (p_ == end_ || *p_ != c) return false;
    ++p_;
    return true;
  }

  bool key() {
    skip_space();
    if (p_ == end_ || *p_ != '"') return false;
    auto start = p_ + 1;
    if (!string()) return false;
    key_ = std::string_view(reinterpret_cast<const char*>(start),
                            static_cast<std::size_t>(p_ - 1 - start));
    skip_space();
    return take(':');
  }

  /// A value starts with `c`: the root, or a member of the root object, is told.
  void tell(unsigned char c) {
    bool root = open_.empty();
    bool member = top_member_ && open_.size() == 1 && open_[0] == '}';
    if (!(root && root_) && !member) return;  // deeper values are nobody's business
    json_type t = c == '{'   ? json_type::object
                  : c == '[' ? json_type::array
                  : c == '"' ? json_type::string
                  : c == 't' || c == 'f' ? json_type::boolean
                  : c == 'n' ? json_type::null
                             : json_type::number;  // or garbage, which fails the scan
    if (root)
      *root_ = t;
    else
      (*top_member_)(json_member{key_, t});
  }

  bool word(std::string_view w) {
    if (static_cast<std::size_t>(end_ - p_) < w.size()) return false;
    if (std::string_view(reinterpret_cast<const char*>(p_), w.size()) != w) return false;
    p_ += w.size();
    return true;
  }

  static bool digit(unsigned char c) { return c >= '0' && c <= '9'; }

  bool digits() {
    if (p_ == end_ || !digit(*p_)) return false;
    while (p_ != end_ && digit(*p_)) ++p_;
    return true;
  }

  bool number() {
    auto start = p_;
    take('-');
    long magnitude = 0;  // the value is below 10^magnitude
    if (take('0')) {
      if (p_ != end_ && digit(*p_)) return false;  // no leading zeros
    } else {
      auto first = p_;
      if (!digits()) return false;
      magnitude = p_ - first;
    }
    if (take('.') && !digits()) return false;
    if (p_ != end_ && (*p_ == 'e' || *p_ == 'E')) {
      ++p_;
      bool negative = p_ != end_ && *p_ == '-';
      if (p_ != end_ && (*p_ == '+' || *p_ == '-')) ++p_;
      if (p_ == end_ || !digit(*p_)) return false;
      long exponent = 0;
      for (; p_ != end_ && digit(*p_); ++p_)
        exponent = std::min(exponent * 10 + (*p_ - '0'), 1000000L);
      magnitude += negative ? -exponent : exponent;
    }
    // nlohmann refuses a number that overflows a double (it reads big integers as
    // doubles too). Below 10^308 none does; only the rare rest is converted to know.
    if (magnitude <= 308) return true;
    std::string copy(reinterpret_cast<const char*>(start), static_cast<std::size_t>(p_ - start));
    return std::isfinite(std::strtod(copy.c_str(), nullptr));
  }

  static bool continuation(unsigned char c) { return c >= 0x80 && c <= 0xBF; }

  /// A multi-byte UTF-8 sequence starting at p_ (RFC 3629: no overlong forms, no
  /// surrogates, nothing above U+10FFFF).
  bool utf8() {
    unsigned char c = *p_;
    std::size_t more;
    unsigned char low = 0x80, high = 0xBF;  // bounds of the second byte
    if (c >= 0xC2 && c <= 0xDF) more = 1;
    else if (c == 0xE0) more = 2, low = 0xA0;
    else if ((c >= 0xE1 && c <= 0xEC) || c == 0xEE || c == 0xEF) more = 2;
    else if (c == 0xED) more = 2, high = 0x9F;
    else if (c == 0xF0) more = 3, low = 0x90;
    else if (c >= 0xF1 && c <= 0xF3) more = 3;
    else if (c == 0xF4) more = 3, high = 0x8F;
    else return false;
    if (static_cast<std::size_t>(end_ - p_) <= more) return false;
    if (p_[1] < low || p_[1] > high) return false;
    for (std::size_t i = 2; i <= more; ++i)
      if (!continuation(p_[i])) return false;
    p_ += more + 1;
    return true;
  }

  static int hex(unsigned char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  }

  /// `\uXXXX` after the backslash and u were taken; -1 when malformed.
  long code_unit() {
    if (end_ - p_ < 4) return -1;
    long v = 0;
    for (int i = 0; i < 4; ++i) {
      int h = hex(p_[i]);
      if (h < 0) return -1;
      v = v * 16 + h;
    }
    p_ += 4;
    return v;
  }

  bool escape() {  // p_ is past the backslash
    if (p_ == end_) return false;
    unsigned char c = *p_++;
    switch (c) {
      case '"': case '\\': case '/': case 'b': case 'f': case 'n': case 'r': case 't':
        return true;
      case 'u': {
        long u = code_unit();
        if (u < 0 || (u >= 0xDC00 && u <= 0xDFFF)) return false;  // a lone low surrogate
        if (u < 0xD800 || u > 0xDBFF) return true;
        if (!take('\\') || !take('u')) return false;  // a high surrogate needs its low one
        long low = code_unit();
        return low >= 0xDC00 && low <= 0xDFFF;
      }
      default: return false;
    }
  }

  static bool plain(unsigned char c) { return c >= 0x20 && c < 0x80 && c != '"' && c != '\\'; }

  /// Past the printable ASCII that needs no look (base64 audio is all of it, hundreds of
  /// KB per TTS reply): where SSE2 is there (every x86-64), 64 bytes a step while none of
  /// them stops, then 16, then bytewise.
  void skip_plain() {
#if defined(__SSE2__)
    const __m128i below_space = _mm_set1_epi8(0x20);
    const __m128i quote = _mm_set1_epi8('"');
    const __m128i backslash = _mm_set1_epi8('\\');
    // As signed bytes, control characters and every byte >= 0x80 are below 0x20.
    auto stops = [&](const unsigned char* at) {
      __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(at));
      return _mm_or_si128(_mm_cmplt_epi8(v, below_space),
                          _mm_or_si128(_mm_cmpeq_epi8(v, quote), _mm_cmpeq_epi8(v, backslash)));
    };
    while (end_ - p_ >= 64) {
      __m128i any = _mm_or_si128(_mm_or_si128(stops(p_), stops(p_ + 16)),
                                 _mm_or_si128(stops(p_ + 32), stops(p_ + 48)));
      if (_mm_movemask_epi8(any) != 0) break;  // found below, 16 bytes a step
      p_ += 64;
    }
    while (end_ - p_ >= 16) {
      int mask = _mm_movemask_epi8(stops(p_));
      if (mask != 0) {
        p_ += __builtin_ctz(static_cast<unsigned>(mask));
        return;
      }
      p_ += 16;
    }
#endif
    while (p_ != end_ && plain(*p_)) ++p_;
  }

  bool string() {  // p_ is at the opening quote
    ++p_;
    for (;;) {
      skip_plain();
      if (p_ == end_) return false;
      unsigned char c = *p_;
      if (c == '"') {
        ++p_;
        return true;
      }
      if (c == '\\') {
        ++p_;
        if (!escape()) return false;
      } else if (c < 0x20 || !utf8()) {
        return false;
      }
    }
  }

  const unsigned char* p_;
  const unsigned char* end_;
  std::string open_;  // the closing bracket each open container waits for
  std::string_view key_;  // the last key read, as written
  json_type* root_;
  const member_hook* top_member_;
};

}  // namespace

bool is_json(std::string_view text) { return json_scanner(text).scan(); }

bool is_json(std::string_view text, json_type& root,
             const std::function<void(const json_member&)>& top_member) {
  return json_scanner(text, &root, &top_member).scan();
}

}  // namespace sova::http
