#pragma once
// OpenAI's error shape, {"error": {"message", "type", "param", "code"}}, for the /v1
// routes: built directly for a refused OpenAI request, or translated from the node's own
// error reply ({"response_code": 1, "error": {"code", "message"}}). Pure code.

#include <optional>
#include <string_view>

#include "http/server.hpp"

namespace sova::openai {

/// OpenAI's `type` for a status: invalid_request_error (4xx), rate_limit_error (429),
/// server_error (5xx and anything else).
std::string_view error_type(unsigned status);

/// An OpenAI error reply; an empty `param` is sent as null.
http::response error_reply(unsigned status, std::string_view code, std::string_view message,
                           std::string_view param = {});

/// A parser's refusal: `error` (when given) becomes error_reply(status, code, message,
/// param); the result converts to an empty optional of whatever the parser answers.
std::nullopt_t refuse(http::response* error, std::string_view code, std::string_view message,
                      std::string_view param, unsigned status = 400);

/// `r` unchanged when it is a success (2xx); otherwise the same status and headers
/// (Allow, Retry-After) with its body in OpenAI's shape: the node's error code and
/// message when the body is the node's error object, else a generic message. A body
/// already in OpenAI's shape is kept.
http::response as_openai_error(http::response r);

}  // namespace sova::openai
