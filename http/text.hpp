#pragma once
// Text helpers shared by the HTTP server and client.

#include <string_view>

#include <boost/beast/core/string.hpp>

namespace sova::http {

/// ASCII case-insensitive compare, as header names compare (Beast's, on std::string_view).
inline bool iequals(std::string_view a, std::string_view b) {
  return boost::beast::iequals(boost::beast::string_view(a.data(), a.size()),
                               boost::beast::string_view(b.data(), b.size()));
}

}  // namespace sova::http
