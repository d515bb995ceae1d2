#include "http/request_id.hpp"

#include <cstdint>
#include <random>

namespace sova::http {

namespace {

bool safe_char(char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  return std::string_view("._:/+=@-").find(c) != std::string_view::npos;
}

std::string make_id() {
  // One generator per io thread, seeded from the OS: ids must not repeat across
  // restarts or threads, but need not be secret.
  thread_local std::mt19937_64 rng{(static_cast<std::uint64_t>(std::random_device{}()) << 32) ^
                                   std::random_device{}()};
  static constexpr char hex[] = "0123456789abcdef";
  std::string id(32, '0');
  for (int half = 0; half < 2; ++half) {
    auto bits = rng();
    for (int i = 0; i < 16; ++i, bits >>= 4) id[half * 16 + i] = hex[bits & 0xf];
  }
  return id;
}

}  // namespace

std::string accept_or_make_request_id(std::string_view given) {
  bool ok = !given.empty() && given.size() <= 128;
  for (char c : given) ok = ok && safe_char(c);
  return ok ? std::string(given) : make_id();
}

}  // namespace sova::http
