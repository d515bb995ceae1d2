#pragma once
// Moving large bodies through a socket in as few system calls, and as few copies, as the
// socket allows.
// - asio::async_write's own completion conditions (transfer_all and the rest) ask each
//   write for at most 64 KB (asio's default_max_transfer_size): a 276 KB TTS reply went
//   out in five sendmsg calls, each a trip through the io loop, where nginx's one writev
//   does. everything_left asks for all that is left, and the kernel takes what it can.
// - A body of a declared length is read straight into the message's body string, not
//   into the read buffer and then copied by the parser: that copy was the node's largest
//   user-space cost on 1 MiB uploads.

#include <cstddef>
#include <limits>
#include <string>
#include <utility>

#include <boost/asio/buffer.hpp>
#include <boost/asio/read.hpp>
#include <boost/system/error_code.hpp>

namespace sova::http {

/// A completion condition for asio::async_write and async_read: done on an error, else
/// everything left.
struct everything_left {
  std::size_t operator()(const boost::system::error_code& ec, std::size_t) const {
    return ec ? 0 : std::numeric_limits<std::size_t>::max();
  }
};

/// Bytes of the body still to come that can be read straight into the body string: 0
/// when none, or when they must go through the parser (a chunked body, or one that ends
/// with the connection).
template <class Parser>
std::size_t body_left_to_read(const Parser& parser) {
  if (!parser.is_header_done() || parser.is_done() || parser.chunked()) return 0;
  auto left = parser.content_length_remaining();
  return left ? static_cast<std::size_t>(*left) : 0;
}

/// Reads the next `left` bytes from `socket` onto the end of `body` (the bytes of a
/// body the parser has not seen; the parser is not used for the message any more).
/// `done(ec)` is called once: without an error when all of them came.
template <class Socket, class Done>
void read_body_rest(Socket& socket, std::string& body, std::size_t left, Done done) {
  auto from = body.size();
  body.resize(from + left);  // zero-fills: one pass, cheaper than the copy it saves
  boost::asio::async_read(socket, boost::asio::buffer(&body[from], left), everything_left{},
                          [done = std::move(done)](const boost::system::error_code& ec,
                                                   std::size_t) mutable { done(ec); });
}

}  // namespace sova::http
