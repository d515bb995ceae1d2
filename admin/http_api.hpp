#pragma once
// The admin port's protocol, both ends: the console POSTs one command as JSON to
// `/command` and gets the node's JSON result (200) or an error body naming a code. Plain
// HTTP through the node's own server, so the port has the same bounds as :5600 (a
// CAF-published actor let one client make the node allocate whatever a header announced).
// Browsers are kept out: a request with an Origin header, a Host that is a name other
// than localhost (DNS rebinding) or a body that is not application/json is refused.

#include <cstddef>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "http/server.hpp"

namespace sova::admin {

inline constexpr std::string_view command_path = "/command";
/// GET of it answers {"admin": "sova-dc"}: how the console knows it reached a node.
inline constexpr std::string_view hello_path = "/";
/// A command line is short; 64 KiB leaves room for long keys and values.
inline constexpr std::size_t max_call_bytes = 64 * 1024;

struct call {
  std::string command;
  std::vector<std::string> args;
};

/// The call a request to the admin port carries, or the reply to give instead (the
/// hello, or a refusal).
std::variant<call, http::response> read_call(const http::request& r);
/// The request body the console sends for `c`.
std::string encode_call(const call& c);

/// 200 with the result document the node's admin actor produced.
http::response result_response(std::string result_json);
/// An error reply; the status follows from the code (unknown_command, bad_arguments:
/// 400; failed: 500; unavailable: 503; timeout: 504).
http::response error_response(std::string_view code, std::string_view message);

/// What the console makes of the node's reply.
struct reply {
  bool ok = false;
  std::string result;   ///< the result document (JSON text) when ok
  std::string code;     ///< the error code otherwise
  std::string message;  ///< for the operator
};
reply read_reply(unsigned status, std::string_view body);
/// Whether a reply to GET hello_path comes from a node's admin port.
bool is_hello(unsigned status, std::string_view body);

}  // namespace sova::admin
