#pragma once
// Whether a backend's answer is a reply of its service, as the node relays it and as its
// liveness probe reads it: HTTP 200 with JSON of the service's shape (SOVA ASR: an object
// with an array "r"; SOVA TTS: an object with "response_code", which is 1 when the
// backend refuses the text: its answer, not its failure). Anything else (another status,
// an HTML page, the wrong shape) is not, whatever its Content-Type says (SOVA ASR sends
// its JSON as text/html). Pure code: one pass over the body, which is never built.

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include "net/service_kind.hpp"

namespace sova::http {

/// Nothing when `body` answered with `status` is a reply of `service`;
/// else what came back, for logs and messages, with a hint when it looks like the other
/// service's server: `answered 404 (text/html) "<!doctype html>..."; SOVA TTS serves
/// POST /synthesize/: is that the ASR port?`.
std::optional<std::string> unusable_reply(net::service service, unsigned status,
                                          std::string_view content_type, std::string_view body);

/// How long a backend asked to be left alone when its answer says it is busy rather than
/// broken: 429, or 503 with a Retry-After header (delta-seconds; an HTTP date or a value
/// that does not parse counts as 1 s), capped at `longest`. Nothing for any other answer.
/// Backpressure is not failure: such a backend is avoided for that time, not blamed.
std::optional<std::chrono::milliseconds> busy_reply(
    unsigned status, std::string_view retry_after,
    std::chrono::milliseconds longest = std::chrono::seconds(60));

/// The jobs a backend says it runs at once, from its `Sova-Workers` header (the
/// reference backends send it on every answer; a real SOVA server, one synchronous
/// worker, sends none): a whole number of at least 1, capped at `most`. Nothing when the
/// header is absent or is not such a number.
std::optional<unsigned> told_workers(std::string_view header_value, unsigned most);

}  // namespace sova::http
