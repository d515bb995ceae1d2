#pragma once
// The bounds the server keeps on a request, and the client on a backend's response, beyond
// Beast's own header_limit and body_limit. Beast 1.74 reads a chunk's size line (with its
// extensions) and the trailer until their end, however long they grow (300 MiB by one
// connection in 6.4 s, issue "hostile clients"); they fall under the header limit here.
// Nor does it count fields, each of which costs it some 80 bytes besides its text (64 KiB
// of "a:" lines took 1.25 MiB). The errors are error codes, so that they travel as Beast's
// do: out of the parser's chunk callback, into one refusal path.

#include <cstddef>
#include <string_view>
#include <type_traits>

#include <boost/system/error_code.hpp>

namespace sova::http {

/// A header, one chunk's size line (extensions included), the chunk extensions of one
/// message together, and its trailer: each at most this many bytes. Ours are a few hundred.
inline constexpr std::size_t head_limit = 64 * 1024;
/// Fields of a message, header and trailer together, at most (Apache's default too): real
/// peers send a dozen or two, and Beast's storage of each costs it some 80 bytes more.
inline constexpr std::size_t field_limit = 100;
/// Bytes read from a socket at once while a header comes, or while idle before one.
inline constexpr std::size_t head_read = 4 * 1024;
/// Bytes read from a socket at once while a body comes.
inline constexpr std::size_t max_read = 64 * 1024;
/// A connection's read buffer never needs more: at most head_limit bytes wait unparsed
/// (more are refused before the next read), plus one read.
inline constexpr std::size_t read_buffer_limit = head_limit + max_read;

enum class bound_error {
  chunk_line = 1,    // one chunk's size line, extensions included, over the limit
  chunk_extensions,  // the chunk extensions of one message together over the limit
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

/// Adds one chunk's extensions (`bytes`) to the message's `total`: chunk_extensions once
/// over head_limit. For the parser's chunk callback, whose error fails the message.
boost::system::error_code count_chunk_extensions(std::size_t& total, std::size_t bytes);

}  // namespace sova::http

namespace boost::system {
template <>
struct is_error_code_enum<sova::http::bound_error> : std::true_type {};
}  // namespace boost::system
