#pragma once
// The bounds the server keeps on a request beyond Beast's own header_limit and body_limit.
// Beast 1.74 reads a chunk's size line (with its extensions) and the trailer until their
// end, however long they grow (300 MiB by one connection in 6.4 s, issue "hostile
// clients"); they fall under the header limit here. Nor does it count fields, each of
// which costs it some 80 bytes besides its text (64 KiB of "a:" lines took 1.25 MiB). The errors are error codes, so that
// they travel as Beast's do: out of the parser's chunk callback, into one refusal path.

#include <cstddef>
#include <string_view>
#include <type_traits>

#include <boost/system/error_code.hpp>

namespace sova::http {

enum class bound_error {
  chunk_line = 1,    // one chunk's size line, extensions included, over the limit
  chunk_extensions,  // the chunk extensions of one request together over the limit
  trailer,           // the trailer over the limit
  too_many_fields,   // more fields than the field limit, header and trailer together
  body_budget,       // the body does not fit in what is left of the body budget
};

const boost::system::error_category& bound_category();
boost::system::error_code make_error_code(bound_error e);

/// Beast consumes chunk data as it arrives, so the bytes that pile up unparsed in a
/// chunked body are either a size line waiting for its CRLF or, after the last chunk
/// ("0"), the trailer waiting for its empty line. Which one `pending` is: the unparsed
/// bytes from where the parser stopped (the CRLF ending the previous chunk's data first).
bound_error overlong_chunk_part(std::string_view pending);

}  // namespace sova::http

namespace boost::system {
template <>
struct is_error_code_enum<sova::http::bound_error> : std::true_type {};
}  // namespace boost::system
