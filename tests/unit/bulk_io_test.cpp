// http/bulk_io: a write asks for everything left; the part of a body still to come by its
// declared length; that part read straight into the body, and not a byte more.
#define CAF_SUITE bulk_io
#include "caf/test/unit_test.hpp"

#include <algorithm>
#include <cstddef>
#include <limits>
#include <string>
#include <vector>

#include <boost/asio/buffer.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/local/connect_pair.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/http/parser.hpp>

#include "http/appended_body.hpp"
#include "http/bulk_io.hpp"

namespace asio = boost::asio;
using boost::system::error_code;
using sova::http::appended_body;
using sova::http::body_left_to_read;
using sova::http::everything_left;
using sova::http::read_body_rest;

namespace {

/// A write stream that takes at most `per_call` bytes a write and notes what each write
/// was offered.
struct counting_stream {
  using executor_type = asio::io_context::executor_type;
  asio::io_context& io;
  std::size_t per_call;
  std::vector<std::size_t> offered;
  std::string taken;

  executor_type get_executor() { return io.get_executor(); }

  template <class Buffers, class Handler>
  void async_write_some(const Buffers& buffers, Handler&& handler) {
    auto n = asio::buffer_size(buffers);
    offered.push_back(n);
    std::string chunk(std::min(n, per_call), '\0');
    asio::buffer_copy(asio::buffer(chunk), buffers);
    taken += chunk;
    asio::post(io, [h = std::forward<Handler>(handler), k = chunk.size()]() mutable {
      h(error_code{}, k);
    });
  }
};

/// Writes `head` and `body` through `s` with everything_left, as the server writes a reply.
void write_reply(counting_stream& s, const std::string& head, const std::string& body) {
  std::vector<asio::const_buffer> out{asio::buffer(head), asio::buffer(body)};
  bool done = false;
  asio::async_write(s, out, everything_left{}, [&](const error_code& ec, std::size_t n) {
    CAF_CHECK(!ec);
    CAF_CHECK_EQUAL(n, head.size() + body.size());
    done = true;
  });
  s.io.run();
  CAF_CHECK(done);
}

using response_parser = boost::beast::http::response_parser<appended_body>;

/// A parser that has been given `bytes` (all of them, header and body alike).
std::size_t left_after(const std::string& bytes) {
  response_parser p;
  p.eager(true);
  error_code ec;
  p.put(asio::buffer(bytes), ec);
  CAF_CHECK(!ec || ec == boost::beast::http::error::need_more);
  return body_left_to_read(p);
}

}  // namespace

CAF_TEST(a_write_asks_for_everything_left) {
  const std::string head(92, 'h');
  const std::string body(276000, 'b');
  {
    asio::io_context io;
    counting_stream s{io, std::numeric_limits<std::size_t>::max(), {}, {}};
    write_reply(s, head, body);
    CAF_CHECK(s.offered == std::vector<std::size_t>{276092});  // one write, not 64 KB ones
    CAF_CHECK(s.taken == head + body);
  }
  {  // A socket that takes part of it: the next write asks for the rest, in order.
    asio::io_context io;
    counting_stream s{io, 100000, {}, {}};
    write_reply(s, head, body);
    CAF_CHECK(s.offered == (std::vector<std::size_t>{276092, 176092, 76092}));
    CAF_CHECK(s.taken == head + body);
  }
}

CAF_TEST(what_is_left_of_a_body_of_declared_length) {
  CAF_CHECK_EQUAL(left_after("HTTP/1.1 200 OK\r\nContent-Le"), 0u);  // no header yet
  CAF_CHECK_EQUAL(left_after("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n"), 10u);
  CAF_CHECK_EQUAL(left_after("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc"), 7u);
  CAF_CHECK_EQUAL(left_after("HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc"), 0u);  // done
  CAF_CHECK_EQUAL(left_after("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"), 0u);
  // Through the parser: a chunked body, and one that ends with the connection.
  CAF_CHECK_EQUAL(left_after("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab"), 0u);
  CAF_CHECK_EQUAL(left_after("HTTP/1.1 200 OK\r\n\r\nabc"), 0u);
}

CAF_TEST(the_rest_of_a_body_is_read_into_it_and_nothing_after_it) {
  asio::io_context io;
  asio::local::stream_protocol::socket ours(io), theirs(io);
  asio::local::connect_pair(ours, theirs);
  asio::write(theirs, asio::buffer(std::string("defg")));
  asio::write(theirs, asio::buffer(std::string("hijNEXT")));  // the next message's start
  std::string body = "abc";  // what came with the header
  error_code got = asio::error::would_block;
  read_body_rest(ours, body, 7, [&](const error_code& ec) { got = ec; });
  io.run();
  CAF_CHECK(!got);
  CAF_CHECK_EQUAL(body, "abcdefghij");
  std::string next(4, '\0');
  asio::read(ours, asio::buffer(next));
  CAF_CHECK_EQUAL(next, "NEXT");
}

CAF_TEST(a_body_cut_short_by_the_peer_is_an_error) {
  asio::io_context io;
  asio::local::stream_protocol::socket ours(io), theirs(io);
  asio::local::connect_pair(ours, theirs);
  asio::write(theirs, asio::buffer(std::string("def")));
  theirs.close();
  std::string body = "abc";
  error_code got;
  bool called = false;
  read_body_rest(ours, body, 7, [&](const error_code& ec) {
    got = ec;
    called = true;
  });
  io.run();
  CAF_CHECK(called);
  CAF_CHECK(got == asio::error::eof);
}
