#pragma once
// 160-bit Kademlia identifiers (node ids and keys) and their XOR metric.

#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <random>
#include <string>
#include <string_view>

namespace sova::net {

class node_id {
public:
  static constexpr std::size_t size = 20;
  static constexpr std::size_t bits = size * 8;
  using bytes_type = std::array<std::uint8_t, size>;

  node_id() : bytes_{} {}
  explicit node_id(const bytes_type& b) : bytes_(b) {}

  /// Exactly 20 raw bytes, else nothing.
  static std::optional<node_id> from_bytes(std::string_view raw);
  /// Exactly 40 hex digits (either case), else nothing.
  static std::optional<node_id> from_hex(std::string_view hex);
  /// sha1 of the text: how keys are made from "asr/cpu" and the like.
  static node_id digest(std::string_view text);
  static node_id random(std::mt19937_64& rng);
  /// A random id whose first `prefix_len` bits equal those of `prefix`.
  static node_id random_in(const node_id& prefix, std::size_t prefix_len,
                           std::mt19937_64& rng);

  const bytes_type& bytes() const { return bytes_; }
  bytes_type& bytes() { return bytes_; }
  std::string to_hex() const;
  std::string to_binary() const;  // the 20 bytes as a string (msgpack bin)

  /// Bit i counted from the most significant bit (0..159).
  bool bit(std::size_t i) const {
    return (bytes_[i / 8] >> (7 - i % 8)) & 1;
  }
  void set_bit(std::size_t i, bool v);
  /// Number of leading bits this id shares with `other` (160 when equal).
  std::size_t common_prefix_bits(const node_id& other) const;
  bool is_zero() const;

  friend node_id operator^(const node_id& a, const node_id& b) {
    node_id r;
    for (std::size_t i = 0; i < size; ++i) r.bytes_[i] = a.bytes_[i] ^ b.bytes_[i];
    return r;
  }
  // Byte-wise lexicographic order is the big-endian numeric order.
  friend bool operator<(const node_id& a, const node_id& b) { return a.bytes_ < b.bytes_; }
  friend bool operator==(const node_id& a, const node_id& b) { return a.bytes_ == b.bytes_; }
  friend bool operator!=(const node_id& a, const node_id& b) { return !(a == b); }

  template <class Inspector>
  friend typename Inspector::result_type inspect(Inspector& f, node_id& x) {
    return f(x.bytes_);
  }

private:
  bytes_type bytes_;
};

/// True when `a` is strictly closer to `target` than `b` by XOR distance.
inline bool closer_to(const node_id& target, const node_id& a, const node_id& b) {
  return (a ^ target) < (b ^ target);
}

/// Lower-case hex of any bytes (ids, message ids, datagrams in logs and tests).
std::string to_hex(std::string_view bytes);

struct node_id_hash {
  std::size_t operator()(const node_id& id) const noexcept {
    std::size_t h = 0;
    for (std::size_t i = 0; i < sizeof(std::size_t); ++i) h = (h << 8) | id.bytes()[i];
    return h;  // ids are uniformly random: the first bytes are a fine hash
  }
};

}  // namespace sova::net
