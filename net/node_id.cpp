#include "net/node_id.hpp"

#include <boost/uuid/detail/sha1.hpp>

namespace sova::net {

namespace {
int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}
}  // namespace

std::optional<node_id> node_id::from_bytes(std::string_view raw) {
  if (raw.size() != size) return std::nullopt;
  node_id id;
  for (std::size_t i = 0; i < size; ++i) id.bytes_[i] = static_cast<std::uint8_t>(raw[i]);
  return id;
}

std::optional<node_id> node_id::from_hex(std::string_view hex) {
  if (hex.size() != 2 * size) return std::nullopt;
  node_id id;
  for (std::size_t i = 0; i < size; ++i) {
    int hi = hex_value(hex[2 * i]), lo = hex_value(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) return std::nullopt;
    id.bytes_[i] = static_cast<std::uint8_t>(hi * 16 + lo);
  }
  return id;
}

node_id node_id::digest(std::string_view text) {
  boost::uuids::detail::sha1 sha;
  sha.process_bytes(text.data(), text.size());
  boost::uuids::detail::sha1::digest_type words;  // five 32-bit words, big-endian order
  sha.get_digest(words);
  node_id id;
  for (std::size_t w = 0; w < 5; ++w)
    for (std::size_t b = 0; b < 4; ++b)
      id.bytes_[w * 4 + b] = static_cast<std::uint8_t>(words[w] >> (24 - 8 * b));
  return id;
}

node_id node_id::random(std::mt19937_64& rng) {
  node_id id;
  for (auto& b : id.bytes_) b = static_cast<std::uint8_t>(rng());
  return id;
}

node_id node_id::random_in(const node_id& prefix, std::size_t prefix_len,
                           std::mt19937_64& rng) {
  node_id id = random(rng);
  for (std::size_t i = 0; i < prefix_len && i < bits; ++i) id.set_bit(i, prefix.bit(i));
  return id;
}

std::string to_hex(std::string_view bytes) {
  static const char* digits = "0123456789abcdef";
  std::string out;
  out.reserve(2 * bytes.size());
  for (unsigned char b : bytes) {
    out.push_back(digits[b >> 4]);
    out.push_back(digits[b & 15]);
  }
  return out;
}

std::string node_id::to_hex() const { return net::to_hex(to_binary()); }

std::string node_id::to_binary() const {
  return std::string(reinterpret_cast<const char*>(bytes_.data()), size);
}

void node_id::set_bit(std::size_t i, bool v) {
  auto mask = static_cast<std::uint8_t>(1u << (7 - i % 8));
  if (v)
    bytes_[i / 8] |= mask;
  else
    bytes_[i / 8] &= static_cast<std::uint8_t>(~mask);
}

std::size_t node_id::common_prefix_bits(const node_id& other) const {
  for (std::size_t i = 0; i < size; ++i) {
    auto x = static_cast<unsigned>(bytes_[i] ^ other.bytes_[i]);
    if (x != 0) return i * 8 + static_cast<std::size_t>(__builtin_clz(x) - 24);
  }
  return bits;
}

bool node_id::is_zero() const {
  for (auto b : bytes_)
    if (b != 0) return false;
  return true;
}

}  // namespace sova::net
