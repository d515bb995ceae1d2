#pragma once
// Feeding the bytes a connection has read to a Beast parser: the server and the client
// both read with plain socket reads into a flat buffer and parse what arrived themselves
// (cheaper than Beast's composed reads, issue 3). Beast still does all the parsing.

#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/error.hpp>

namespace sova::http {

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

}  // namespace sova::http
