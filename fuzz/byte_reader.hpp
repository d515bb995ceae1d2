#pragma once
// Reads a structured fuzz input from the front, so that seed files can be written in the
// same order (FuzzedDataProvider takes integers from the back). Past the end every read
// gives zeros or empty text: a short input is still a valid one.

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace sova::fuzz {

class byte_reader {
public:
  byte_reader(const std::uint8_t* data, std::size_t size)
      : rest_(reinterpret_cast<const char*>(data), size) {}

  bool empty() const { return rest_.empty(); }

  std::uint8_t u8() {
    if (rest_.empty()) return 0;
    auto b = static_cast<std::uint8_t>(rest_.front());
    rest_.remove_prefix(1);
    return b;
  }

  /// Little-endian.
  std::uint16_t u16() {
    std::uint16_t lo = u8();
    return static_cast<std::uint16_t>(lo | (u8() << 8));
  }

  /// Up to `n` bytes (fewer at the end).
  std::string_view bytes(std::size_t n) {
    auto out = rest_.substr(0, n);
    rest_.remove_prefix(out.size());
    return out;
  }

  std::string_view rest() { return bytes(rest_.size()); }

private:
  std::string_view rest_;
};

}  // namespace sova::fuzz
