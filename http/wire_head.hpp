#pragma once
// The head of an HTTP/1.x message as bytes, written straight into a buffer the caller
// reuses: the server's replies and the client's requests go out as head + body in one
// gather write, without building a Beast message (its serializer cost a tenth of the
// node's io thread under the proxy benchmark, issue 3).

#include <cstddef>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace sova::http {

using header_list = std::vector<std::pair<std::string, std::string>>;

/// Whether a header can go out as given: a non-empty name without ':' and neither name
/// nor value with CR, LF or NUL (which would let it inject headers).
bool sendable_header(std::string_view name, std::string_view value);

/// Whether `METHOD target` can start a request line: a method of letters, digits and
/// the token characters HTTP allows, a target without spaces or control characters (CR, LF: injection).
bool sendable_request_line(std::string_view method, std::string_view target);

/// `HTTP/1.x status reason`, Server, Content-Type (when given), `extra` (each sendable
/// one, except the framing and identity headers the server owns), Connection as
/// keep-alive needs it for `version` (10 or 11), Content-Length (none on a 304, which has
/// no body). Replaces `out`.
void write_response_head(std::string& out, unsigned version, unsigned status,
                         std::string_view content_type, const header_list& extra,
                         bool keep_alive, std::size_t content_length);

/// `METHOD target HTTP/1.1`, Host, User-Agent (both may be replaced from `headers`),
/// the other sendable `headers` (Content-Length and Transfer-Encoding are ours),
/// Content-Type (when given; replaces one in `headers`), Content-Length when there is
/// a body or the method is POST, PUT or OPTIONS. Replaces `out`.
void write_request_head(std::string& out, std::string_view method, std::string_view target,
                        std::string_view host, const header_list& headers,
                        std::string_view content_type, std::size_t body_size);

}  // namespace sova::http
