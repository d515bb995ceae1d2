// A client's bytes through what the node's HTTP server does with them, without sockets:
// Beast's request parser with the server's limits, fed read by read as http/server.cpp
// feeds it (parse_feed.hpp), the bounds of request_bounds.hpp and the body budget; then
// each complete request goes through the route match and the body checks the node runs
// before forwarding. Properties: nothing crashes or throws; an accepted ASR body goes to
// the backend in a head that Beast reads back intact; every error reply parses back.
//
// Input: [read size][body budget used elsewhere][bytes of the connection...].

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/parser.hpp>

#include "fuzz/byte_reader.hpp"
#include "fuzz/check.hpp"
#include "http/appended_body.hpp"
#include "http/body_budget.hpp"
#include "http/parse_feed.hpp"
#include "http/request_bounds.hpp"
#include "http/routes.hpp"
#include "http/server.hpp"
#include "http/wire_head.hpp"
#include "openai/speech.hpp"
#include "openai/transcription.hpp"

namespace {

namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using namespace sova::http;
using error_code = boost::system::error_code;

/// More requests on one connection add little once a few were parsed.
constexpr int max_requests = 8;

std::string_view sv(beast::string_view s) { return {s.data(), s.size()}; }

/// The connection's socket: hands out the input in reads of at most `chunk` bytes.
struct fake_socket {
  std::string_view rest;
  std::size_t chunk;

  /// False when the client has nothing more to send (it closed).
  bool read_into(beast::flat_buffer& buffer, std::size_t want) {
    if (rest.empty()) return false;
    auto n = std::min({rest.size(), chunk, want});
    auto space = buffer.prepare(n);
    std::memcpy(space.data(), rest.data(), n);
    buffer.commit(n);
    rest.remove_prefix(n);
    return true;
  }
};

/// Parses `bytes` as one complete message with a fresh parser of type Parser.
template <class Parser>
bool parses_back(Parser& p, std::string_view bytes) {
  p.eager(true);
  error_code ec;
  p.put(boost::asio::buffer(bytes.data(), bytes.size()), ec);
  if (!ec && !p.is_done()) p.put_eof(ec);  // a body delimited by the close
  return !ec && p.is_done();
}

/// What the node sends a backend for an accepted ASR request (make_backend_request),
/// through the client's head writer: Beast must read back the same type and body.
void check_forward(std::string_view content_type, const std::string& body) {
  std::string head;
  write_request_head(head, "POST", "/asr", "127.0.0.1:5601", {{"Via", "1.1 sova-dc"}},
                     content_type, body.size());
  bhttp::request_parser<appended_body> p;
  p.body_limit(body.size() + 1);
  FUZZ_CHECK(parses_back(p, head + body));
  FUZZ_CHECK(sv(p.get()[bhttp::field::content_type]) == content_type);
  FUZZ_CHECK(p.get().body() == body);
}

/// Every reply the node writes must be one HTTP response that says what it carries,
/// whatever extra headers it was given (here: the client's own).
void check_reply(const response& r, const header_list& extra, unsigned version) {
  std::string head;
  write_response_head(head, version, r.status, r.content_type, extra, false, r.body.size());
  bhttp::response_parser<appended_body> p;
  FUZZ_CHECK(parses_back(p, head + r.body));
  FUZZ_CHECK(p.get().result_int() == r.status);
  FUZZ_CHECK(p.get().body() == r.body);
  FUZZ_CHECK(sv(p.get()[bhttp::field::content_type]) == r.content_type);
}

/// The node's handler up to the point where it would forward the request.
void handle(bhttp::request<appended_body>& msg) {
  header_list headers;
  for (const auto& f : msg) headers.emplace_back(sv(f.name_string()), sv(f.value()));
  response error;
  auto route = match_route(sv(msg.method_string()), sv(msg.target()), &error);
  std::optional<response> refused;
  if (!route) {
    refused = std::move(error);
  } else if (route->kind == route_kind::asr) {
    auto type = sv(msg[bhttp::field::content_type]);
    refused = check_asr_body(type, msg.body());
    if (!refused) check_forward(type, msg.body());
  } else if (route->kind == route_kind::tts) {
    refused = check_tts_body(msg.body());
  } else if (route->kind == route_kind::openai_transcriptions) {
    // Taken, it becomes a form the node's own ASR check passes (nothing a backend refuses).
    auto type = sv(msg[bhttp::field::content_type]);
    if (auto t = sova::openai::parse_transcription_request(type, msg.body(), route->wanted, &error))
      FUZZ_CHECK(!check_asr_body(t->sova_content_type, t->sova_body));
    else
      refused = std::move(error);
  } else if (route->kind == route_kind::openai_speech) {
    if (auto t = sova::openai::parse_speech_request(msg.body(), route->wanted, &error))
      FUZZ_CHECK(!check_tts_body(t->sova_body));
    else
      refused = std::move(error);
  }
  if (refused) {
    FUZZ_CHECK(refused->status >= 400 && refused->status < 500);
    check_reply(*refused, headers, msg.version() == 10 ? 10 : 11);
  }
}

/// One request as session::read_header .. dispatch reads it; false when the connection
/// ends (an error answered, or the client sent no more).
bool one_request(fake_socket& socket, beast::flat_buffer& buffer,
                 const std::shared_ptr<body_budget>& budget, std::size_t max_body) {
  bhttp::request_parser<appended_body> parser;
  parser.header_limit(head_limit);
  parser.body_limit(max_body);
  std::size_t extension_bytes = 0;
  body_reservation reservation(budget);
  std::function<void(std::uint64_t, beast::string_view, error_code&)> on_chunk =
      [&](std::uint64_t size, beast::string_view extensions, error_code& ec) {
        ec = count_chunk_extensions(extension_bytes, extensions.size());
        if (!ec && size > 0 && !reservation.grow(size))
          ec = bound_error::body_budget;
      };
  parser.on_chunk_header(on_chunk);
  bool header_seen = false;
  for (;;) {
    error_code ec;
    switch (feed_bounded(parser, buffer, header_seen, ec)) {
      case feed_result::error: return false;
      case feed_result::header: {
        auto length = parser.content_length();
        if (length && (*length > max_body || !reservation.grow(*length))) return false;
        break;
      }
      case feed_result::done: {
        auto msg = parser.release();
        handle(msg);
        return msg.keep_alive();  // else the server closes after its reply
      }
      case feed_result::need_more:
        if (!socket.read_into(buffer, next_read_size(buffer, header_seen)))
          return false;
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  sova::fuzz::byte_reader in(data, size);
  auto chunk_code = in.u8();
  auto elsewhere_code = in.u8();
  fake_socket socket{in.rest(), chunk_code == 255 ? std::size_t(-1) : 1 + chunk_code * 16u};
  const std::size_t max_body = server_limits{}.max_body;
  // The smallest budget the server allows, partly held by other connections.
  auto budget = std::make_shared<body_budget>(max_body);
  if (elsewhere_code > 0) budget->take(max_body - 1024u * elsewhere_code);
  beast::flat_buffer buffer{read_buffer_limit};
  for (int i = 0; i < max_requests && one_request(socket, buffer, budget, max_body); ++i) {
  }
  return 0;
}
