// The heads the server's replies and the client's requests go out with: exact bytes,
// framing and identity owned by us, injection refused.
#define CAF_SUITE wire_head
#include <caf/test/unit_test.hpp>

#include <string>

#include "http/wire_head.hpp"

using namespace sova::http;

CAF_TEST(a_reply_head_has_status_server_type_extras_and_length) {
  std::string out = "left over from the last reply";
  write_response_head(out, 11, 200, "application/json", {{"X-Request-Id", "abc"}}, true, 42);
  CAF_CHECK_EQUAL(out,
                  "HTTP/1.1 200 OK\r\nServer: sova-dc\r\nContent-Type: application/json\r\n"
                  "X-Request-Id: abc\r\nContent-Length: 42\r\n\r\n");
  write_response_head(out, 11, 503, "", {}, false, 0);
  CAF_CHECK_EQUAL(out,
                  "HTTP/1.1 503 Service Unavailable\r\nServer: sova-dc\r\n"
                  "Connection: close\r\nContent-Length: 0\r\n\r\n");
}

CAF_TEST(a_304_head_has_no_length) {
  std::string out;
  write_response_head(out, 11, 304, "", {{"ETag", "\"abc\""}}, true, 0);
  CAF_CHECK_EQUAL(out, "HTTP/1.1 304 Not Modified\r\nServer: sova-dc\r\nETag: \"abc\"\r\n\r\n");
}

CAF_TEST(a_204_head_has_no_length) {
  std::string out;
  write_response_head(out, 11, 204, "", {}, true, 0);
  CAF_CHECK_EQUAL(out, "HTTP/1.1 204 No Content\r\nServer: sova-dc\r\n\r\n");
}

CAF_TEST(http_1_0_says_keep_alive_only_when_it_keeps_the_connection) {
  std::string out;
  write_response_head(out, 10, 404, "text/plain", {}, true, 3);
  CAF_CHECK_EQUAL(out,
                  "HTTP/1.0 404 Not Found\r\nServer: sova-dc\r\nContent-Type: text/plain\r\n"
                  "Connection: keep-alive\r\nContent-Length: 3\r\n\r\n");
  write_response_head(out, 10, 404, "text/plain", {}, false, 3);
  CAF_CHECK_EQUAL(out.find("Connection"), std::string::npos);
}

CAF_TEST(a_handler_cannot_set_framing_or_inject_headers) {
  std::string out;
  write_response_head(out, 11, 200, "",
                      {{"Content-Length", "1"}, {"transfer-encoding", "chunked"},
                       {"Connection", "upgrade"}, {"Server", "other"}, {"content-type", "x"},
                       {"X-Bad", "a\r\nSet-Cookie: x=1"}, {"X-Bad\n", "b"}, {"", "c"},
                       {"X:y", "d"}, {"X-Nul", std::string("e\0f", 3)}, {"X-Good", "g"}},
                      true, 5);
  CAF_CHECK_EQUAL(out,
                  "HTTP/1.1 200 OK\r\nServer: sova-dc\r\nX-Good: g\r\nContent-Length: 5\r\n\r\n");
}

CAF_TEST(an_unknown_status_still_has_a_status_line) {
  std::string out;
  write_response_head(out, 11, 599, "", {}, true, 0);
  CAF_CHECK_EQUAL(out.rfind("HTTP/1.1 599 ", 0), 0u);
  CAF_CHECK_EQUAL(out.find("\r\n\r\n"), out.size() - 4);
}

CAF_TEST(a_request_head_has_host_agent_headers_type_and_length) {
  std::string out;
  write_request_head(out, "POST", "/synthesize/", "10.0.0.5:8899", {{"X-Request-Id", "r1"}},
                     "application/json", 37);
  CAF_CHECK_EQUAL(out,
                  "POST /synthesize/ HTTP/1.1\r\nHost: 10.0.0.5:8899\r\nUser-Agent: sova-dc\r\n"
                  "X-Request-Id: r1\r\nContent-Type: application/json\r\n"
                  "Content-Length: 37\r\n\r\n");
}

CAF_TEST(a_request_without_body_has_a_length_only_where_the_method_expects_one) {
  std::string out;
  write_request_head(out, "GET", "/status", "h", {}, "", 0);
  CAF_CHECK_EQUAL(out, "GET /status HTTP/1.1\r\nHost: h\r\nUser-Agent: sova-dc\r\n\r\n");
  write_request_head(out, "POST", "/asr", "h", {}, "", 0);
  CAF_CHECK_EQUAL(out, "POST /asr HTTP/1.1\r\nHost: h\r\nUser-Agent: sova-dc\r\n"
                       "Content-Length: 0\r\n\r\n");
}

CAF_TEST(request_headers_may_replace_host_agent_and_type_but_not_framing) {
  std::string out;
  write_request_head(out, "POST", "/", "h:1",
                     {{"host", "other"}, {"User-Agent", "test"}, {"Content-Type", "text/plain"},
                      {"Content-Length", "99"}, {"Transfer-Encoding", "chunked"},
                      {"X-Bad", "1\r\nX-Injected: 1"}, {"X-A", "1"}},
                     "", 2);
  CAF_CHECK_EQUAL(out,
                  "POST / HTTP/1.1\r\nHost: other\r\nUser-Agent: test\r\n"
                  "Content-Type: text/plain\r\nX-A: 1\r\nContent-Length: 2\r\n\r\n");
  write_request_head(out, "POST", "/", "h", {{"Content-Type", "text/plain"}}, "application/json",
                     2);  // the request's own content type wins
  CAF_CHECK_EQUAL(out,
                  "POST / HTTP/1.1\r\nHost: h\r\nUser-Agent: sova-dc\r\n"
                  "Content-Type: application/json\r\nContent-Length: 2\r\n\r\n");
}

CAF_TEST(request_lines_with_spaces_or_line_breaks_are_not_sendable) {
  CAF_CHECK(sendable_request_line("POST", "/synthesize/?a=b%20c"));
  CAF_CHECK(sendable_request_line("M-SEARCH", "*"));
  CAF_CHECK(sendable_request_line("GET", "/путь"));
  CAF_CHECK(!sendable_request_line("", "/"));
  CAF_CHECK(!sendable_request_line("GET", ""));
  CAF_CHECK(!sendable_request_line("GET /x HTTP/1.1\r\nX:", "/"));
  CAF_CHECK(!sendable_request_line("GET", "/a b"));
  CAF_CHECK(!sendable_request_line("GET", "/a\r\nHost: evil"));
  CAF_CHECK(!sendable_request_line("GET", std::string("/a\0b", 4)));
}
