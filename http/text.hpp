#pragma once
// Text helpers shared by the HTTP server, the client and the node's checks.

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include <boost/beast/core/string.hpp>

namespace sova::http {

/// ASCII case-insensitive compare, as header names compare (Beast's, on std::string_view).
inline bool iequals(std::string_view a, std::string_view b) {
  return boost::beast::iequals(boost::beast::string_view(a.data(), a.size()),
                               boost::beast::string_view(b.data(), b.size()));
}

}  // namespace sova::http

namespace sova::http {

/// `s` as it may appear in an error message or a log line: printable ASCII kept, every
/// other byte percent-encoded (so a JSON body built from it stays valid UTF-8), cut after
/// `limit` bytes so that hostile input cannot grow the message.
std::string shown(std::string_view s, std::size_t limit = 64);

/// `s` without the blanks around it (spaces and tabs: HTTP's optional whitespace).
std::string_view trim_blanks(std::string_view s);

/// A header value that is a whole number (digits only, at most 9 of them, blanks around
/// allowed: Retry-After's delta-seconds, Sova-Workers), else nothing.
std::optional<unsigned long> header_number(std::string_view value);

}  // namespace sova::http
