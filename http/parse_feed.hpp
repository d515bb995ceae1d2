#pragma once
// Feeding the bytes a connection has read to a Beast parser: the server and the client
// both read with plain socket reads into a flat buffer and parse what arrived themselves
// (cheaper than Beast's composed reads, issue 3). Beast still does all the parsing.

#include <algorithm>
#include <cstddef>
#include <iterator>

#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/error.hpp>

#include "http/request_bounds.hpp"

namespace sova::http {

/// Bytes to ask the socket for next: head_read while a header comes, max_read while a
/// body does, as far as the buffer's bound leaves room. Not beast::read_size: it caps a
/// read at the buffer's capacity, which stays at the first read's size when the parser
/// takes every byte each time (a 276 KB reply came in 540 reads of 512 bytes).
inline std::size_t next_read_size(const boost::beast::flat_buffer& buffer, bool header_seen) {
  return std::min(header_seen ? max_read : head_read, buffer.max_size() - buffer.size());
}

/// Between messages: a buffer grown to read a body is given back once it is empty, so
/// that an idle connection holds no more than a header's read.
inline void shrink_when_idle(boost::beast::flat_buffer& buffer) {
  if (buffer.size() == 0 && buffer.capacity() > head_read) buffer.shrink_to_fit();
}

enum class feed_result {
  error,      // the bytes are not HTTP, or over a limit
  header,     // the header just became complete: the caller checks it, then feeds again
  done,       // the message is complete
  need_more,  // every buffered byte is used: read more
};

/// Parses what `buffer` holds into `parser`, consuming it, until one of feed_result.
/// `header` is told once per message: `header_seen` (false for a new parser) is set then.
template <class Parser>
feed_result feed(Parser& parser, boost::beast::flat_buffer& buffer, bool& header_seen,
                 boost::system::error_code& ec) {
  auto header_now = [&] {
    if (header_seen || !parser.is_header_done()) return false;
    header_seen = true;
    return true;
  };
  while (buffer.size() > 0 && !parser.is_done()) {
    auto used = parser.put(buffer.data(), ec);
    buffer.consume(used);
    if (ec == boost::beast::http::error::need_more) {  // the header is not complete yet
      ec = {};
      break;
    }
    if (ec) return feed_result::error;
    if (header_now()) return feed_result::header;
    if (used == 0) break;
  }
  if (header_now()) return feed_result::header;
  return parser.is_done() ? feed_result::done : feed_result::need_more;
}

/// feed() and the bounds of request_bounds.hpp that Beast does not keep: at most
/// field_limit fields once the header, then the trailer, is in; at most head_limit bytes
/// waiting unparsed (Beast waits for the end of a chunk's size line or of the trailer
/// however long they grow). The parser's chunk callback counts the chunk extensions
/// (count_chunk_extensions). Over a bound: `error`, with a bound_error (or Beast's
/// header_limit for a header) in `ec`.
template <class Parser>
feed_result feed_bounded(Parser& parser, boost::beast::flat_buffer& buffer, bool& header_seen,
                         boost::system::error_code& ec) {
  auto result = feed(parser, buffer, header_seen, ec);
  if (result == feed_result::header || result == feed_result::done) {
    const auto& head = parser.get();
    if (static_cast<std::size_t>(std::distance(head.begin(), head.end())) > field_limit) {
      ec = bound_error::too_many_fields;
      return feed_result::error;
    }
  } else if (result == feed_result::need_more && buffer.size() > head_limit) {
    // Beast bounds the header itself; in a body only a chunked one leaves bytes unparsed.
    if (!parser.is_header_done() || !parser.chunked()) {
      ec = boost::beast::http::error::header_limit;
    } else {
      auto pending = buffer.data();
      ec = overlong_chunk_part({static_cast<const char*>(pending.data()), pending.size()});
    }
    return feed_result::error;
  }
  return result;
}

}  // namespace sova::http
