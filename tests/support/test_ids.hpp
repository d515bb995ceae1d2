#pragma once
// Ids with chosen values, for tests that need to know XOR distances exactly.

#include <cstdint>

#include "net/node_id.hpp"

namespace sova::testing {

/// The id whose numeric value is `n`: its XOR distance to the zero id is `n`.
inline net::node_id small_id(std::uint64_t n) {
  net::node_id id;
  for (std::size_t i = 0; i < 8; ++i)
    id.bytes()[net::node_id::size - 1 - i] = static_cast<std::uint8_t>(n >> (8 * i));
  return id;
}

}  // namespace sova::testing
