#pragma once
// X-Request-Id: the client's id is kept when it is safe to log and echo (so a request
// can be followed across proxies); otherwise the node makes one.

#include <string>
#include <string_view>

namespace sova::http {

constexpr std::string_view request_id_header = "X-Request-Id";

/// `given` when it is 1-128 characters of [A-Za-z0-9._:/+=@-]; else a new id of 32
/// random hex digits.
std::string accept_or_make_request_id(std::string_view given);

}  // namespace sova::http
