#include "http/text.hpp"

namespace sova::http {

std::string shown(std::string_view s, std::size_t limit) {
  static constexpr char hex[] = "0123456789ABCDEF";
  std::string out;
  for (std::size_t i = 0; i < s.size() && i < limit; ++i) {
    auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c < 0x7f && c != '%') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 0xf];
    }
  }
  if (s.size() > limit) out += "...";
  return out;
}

}  // namespace sova::http
