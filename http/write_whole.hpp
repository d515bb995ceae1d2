#pragma once
// Writing a message in as few system calls as the socket allows. asio::async_write's own
// completion conditions (transfer_all and the rest) ask each write for at most 64 KB
// (asio's default_max_transfer_size): a 276 KB TTS reply went out in five sendmsg calls,
// each a trip through the io loop, where nginx's one writev does. With this condition a
// write asks for everything left, and the kernel takes what its buffer holds.

#include <cstddef>
#include <limits>

#include <boost/system/error_code.hpp>

namespace sova::http {

/// A completion condition for asio::async_write: done on an error, else everything left.
struct everything_left {
  std::size_t operator()(const boost::system::error_code& ec, std::size_t) const {
    return ec ? 0 : std::numeric_limits<std::size_t>::max();
  }
};

}  // namespace sova::http
