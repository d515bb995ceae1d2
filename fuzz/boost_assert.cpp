// BOOST_ASSERT in the harnesses (BOOST_ENABLE_ASSERT_DEBUG_HANDLER, see CMakeLists.txt):
// it aborts as assert() does, so that libFuzzer keeps the input, except for one assertion
// of Boost 1.74's Beast that is wrong. After the final chunk's "0\r\n", basic_parser's
// parse_chunk_header asserts n >= 5 when it is called again, but a peer whose trailer
// arrives a byte at a time gives n == 4 there ("0\r\n\r"), which the code after the
// assertion handles: it asks for more bytes. Beast fixed the assertion upstream
// (boostorg/beast#2861, 2024). The node's own builds define NDEBUG: no Boost assertions.

#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace boost {

void assertion_failed(char const* expr, char const* function, char const* file, long line) {
  if (std::strcmp(expr, "n >= 5") == 0 && std::strstr(file, "beast/http/impl/basic_parser.ipp") &&
      std::strstr(function, "parse_chunk_header"))
    return;  // as with NDEBUG
  std::fprintf(stderr, "%s:%ld: %s: Assertion `%s' failed.\n", file, line, function, expr);
  std::abort();
}

void assertion_failed_msg(char const* expr, char const* msg, char const* function,
                          char const* file, long line) {
  std::fprintf(stderr, "%s:%ld: %s: Assertion `%s' failed: %s\n", file, line, function, expr,
               msg);
  std::abort();
}

}  // namespace boost
