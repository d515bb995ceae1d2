// The HTTP client against a small synchronous test server on 127.0.0.1: round trips,
// keep-alive pooling, stale connections, redirects, limits, timeouts and shutdown, and
// hostile backends that send a reply without end.
#define CAF_SUITE http_client
#include "caf/test/unit_test.hpp"

#include <poll.h>
#include <sys/socket.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>

#include "http/client.hpp"

using namespace sova::http;
using namespace std::chrono_literals;

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;
using error_code = boost::system::error_code;
using header_list = std::vector<std::pair<std::string, std::string>>;

// ---- a synchronous test server: one thread accepts, one thread per connection ----

struct seen_request {
  std::string method;
  std::string target;
  std::string body;
  header_list headers;
  std::size_t connection = 0;  // 1 for the first accepted connection

  std::string header(const std::string& name) const {
    for (const auto& [n, v] : headers)
      if (beast::iequals(n, name)) return v;
    return {};
  }
};

/// What a streaming reply wrote, filled in by the server's thread.
struct stream_log {
  std::atomic<std::size_t> bytes{0};  // of the filler, taken by the kernel
  std::promise<bool> ended;           // true: the peer went away; false: time or cap ran out
};

struct reply {
  unsigned status = 200;
  header_list headers;
  std::string body;
  bool chunked = false;
  bool to_eof = false;       // no length: the body ends when the connection closes
  bool close_after = false;  // close the connection once the reply is written
  bool drop = false;         // close the connection without answering
  bool hang = false;         // never answer; wait until the peer or the server goes
  // Instead of a reply: these bytes, written one piece at a time with a pause between,
  // then the connection is closed (or, with `hang`, kept until the peer goes).
  std::vector<std::string> raw;
  std::chrono::milliseconds delay{0};
  // After `raw`: `filler` written again and again as fast as the peer reads, until the
  // peer goes, `stream_for` passed or `stream_cap` bytes were written; told to `log`.
  std::string filler;
  std::chrono::milliseconds stream_for{3000};
  std::size_t stream_cap = 64u << 20;
  std::shared_ptr<stream_log> log;
};

/// Decides the reply to the `nth` request on its connection.
using reply_fn = std::function<reply(const seen_request&, std::size_t nth)>;

class test_server {
public:
  explicit test_server(reply_fn h)
      : acceptor_(io_, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)),
        handler_(std::move(h)), port_(acceptor_.local_endpoint().port()) {
    acceptor_thread_ = std::thread([this] { accept_loop(); });
  }

  ~test_server() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stopping_ = true;
    }
    wake_acceptor();
    acceptor_thread_.join();
    {
      std::lock_guard<std::mutex> lock(mutex_);
      for (auto& s : sockets_) ::shutdown(s->native_handle(), SHUT_RDWR);  // wakes blocked reads
    }
    for (auto& t : workers_) t.join();
  }

  std::uint16_t port() const { return port_; }
  std::size_t accepted() const { return accepted_; }
  std::size_t closed() const { return closed_; }

  std::vector<seen_request> requests() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return requests_;
  }

  /// Waits until `n` requests arrived; false after `limit`.
  bool wait_for_requests(std::size_t n, std::chrono::milliseconds limit = 5s) {
    std::unique_lock<std::mutex> lock(mutex_);
    return cv_.wait_for(lock, limit, [&] { return requests_.size() >= n; });
  }

private:
  void wake_acceptor() {
    tcp::socket s(io_);
    error_code ec;
    s.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port_), ec);
  }

  void accept_loop() {
    for (;;) {
      auto socket = std::make_shared<tcp::socket>(io_);
      error_code ec;
      acceptor_.accept(*socket, ec);
      std::lock_guard<std::mutex> lock(mutex_);
      if (stopping_ || ec) return;
      auto index = ++accepted_;
      sockets_.push_back(socket);
      workers_.emplace_back([this, socket, index] { serve(*socket, index); });
    }
  }

  void serve(tcp::socket& socket, std::size_t index) {
    beast::flat_buffer buffer;
    for (std::size_t nth = 1;; ++nth) {
      bhttp::request_parser<bhttp::string_body> parser;
      parser.body_limit(64u << 20);
      error_code ec;
      bhttp::read(socket, buffer, parser, ec);
      if (ec) break;
      auto r = handler_(record(parser.get(), index), nth);
      if (r.delay.count() > 0) std::this_thread::sleep_for(r.delay);
      if (!r.raw.empty()) {
        write_pieces(socket, r.raw);
        if (r.log) stream(socket, r);
        if (r.hang) wait_for_peer(socket);
        break;
      }
      if (r.hang) wait_for_peer(socket);
      if (r.hang || r.drop || !answer(socket, r) || r.close_after || r.to_eof) break;
    }
    // Shut down but keep the descriptor until the server dies, so that the destructor
    // never shuts down a reused descriptor number.
    ::shutdown(socket.native_handle(), SHUT_RDWR);
    ++closed_;
  }

  seen_request record(const bhttp::request<bhttp::string_body>& req, std::size_t index) {
    seen_request seen{std::string(req.method_string()), std::string(req.target()), req.body(), {},
                      index};
    for (const auto& f : req)
      seen.headers.emplace_back(std::string(f.name_string()), std::string(f.value()));
    std::lock_guard<std::mutex> lock(mutex_);
    requests_.push_back(seen);
    cv_.notify_all();
    return seen;
  }

  static void write_pieces(tcp::socket& socket, const std::vector<std::string>& pieces) {
    for (const auto& piece : pieces) {
      error_code ec;
      asio::write(socket, asio::buffer(piece), ec);
      if (ec) return;
      std::this_thread::sleep_for(30ms);
    }
  }

  static void stream(tcp::socket& socket, const reply& r) {
    // A small send buffer: what the kernel holds counts little next to what the peer read.
    error_code ignored;
    socket.set_option(asio::socket_base::send_buffer_size(64 * 1024), ignored);
    std::string block;
    while (block.size() < 16 * 1024) block += r.filler;
    auto end = std::chrono::steady_clock::now() + r.stream_for;
    std::size_t offset = 0;  // in `block`: a partial send goes on where it stopped
    bool peer_gone = false;
    while (r.log->bytes < r.stream_cap) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                      end - std::chrono::steady_clock::now()).count();
      if (left <= 0) break;
      pollfd p{socket.native_handle(), POLLOUT, 0};
      if (::poll(&p, 1, static_cast<int>(left)) <= 0) continue;  // time over, or EINTR
      auto n = ::send(p.fd, block.data() + offset, block.size() - offset,
                      MSG_DONTWAIT | MSG_NOSIGNAL);
      if (n < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) continue;
        peer_gone = true;
        break;
      }
      offset = (offset + static_cast<std::size_t>(n)) % block.size();
      r.log->bytes += static_cast<std::size_t>(n);
    }
    r.log->ended.set_value(peer_gone);
  }

  static void wait_for_peer(tcp::socket& socket) {
    char c = 0;
    error_code ec;
    while (!ec) socket.read_some(asio::buffer(&c, 1), ec);
  }

  static bool answer(tcp::socket& socket, const reply& r) {
    bhttp::response<bhttp::string_body> res;
    res.result(r.status);
    res.version(11);
    for (const auto& [n, v] : r.headers) res.set(n, v);
    res.body() = r.body;
    if (r.chunked)
      res.chunked(true);
    else if (r.to_eof)
      res.keep_alive(false);
    else
      res.prepare_payload();
    error_code ec;
    bhttp::write(socket, res, ec);
    return !ec;
  }

  asio::io_context io_;
  tcp::acceptor acceptor_;
  reply_fn handler_;
  std::uint16_t port_;
  std::thread acceptor_thread_;
  mutable std::mutex mutex_;
  std::condition_variable cv_;
  bool stopping_ = false;
  std::vector<std::shared_ptr<tcp::socket>> sockets_;
  std::vector<std::thread> workers_;
  std::vector<seen_request> requests_;
  std::atomic<std::size_t> accepted_{0};
  std::atomic<std::size_t> closed_{0};
};

reply echo(const seen_request& req, std::size_t) {
  reply r;
  r.body = req.body;
  r.to_eof = req.target == "/to-eof";
  r.headers = {{"X-Method", req.method},
               {"X-Target", req.target},
               {"X-Host", req.header("host")},
               {"X-Content-Type", req.header("content-type")},
               {"X-Custom", req.header("x-custom")}};
  return r;
}

// ---- helpers ----

std::string error_of(const client_result& r) { return r.ok ? "ok" : to_string(r.error); }

client_request post(std::string target, std::string body) {
  client_request req;
  req.target = std::move(target);
  req.body = std::move(body);
  req.content_type = "application/octet-stream";
  return req;
}

/// Sends and waits (bounded) for the callback.
client_result send_and_wait(client& c, std::uint16_t port, client_request req,
                            const std::string& host = "127.0.0.1") {
  auto promise = std::make_shared<std::promise<client_result>>();
  auto future = promise->get_future();
  c.send(host, port, std::move(req),
         [promise](client_result r) { promise->set_value(std::move(r)); });
  if (future.wait_for(10s) != std::future_status::ready) CAF_FAIL("no callback within 10 s");
  auto r = future.get();
  if (!r.ok) CAF_MESSAGE("request failed: " << r.message);
  return r;
}

/// Polls `done` every few milliseconds for at most 5 s.
bool eventually(const std::function<bool()>& done) {
  for (auto end = std::chrono::steady_clock::now() + 5s; std::chrono::steady_clock::now() < end;) {
    if (done()) return true;
    std::this_thread::sleep_for(5ms);
  }
  return done();
}

std::uint16_t closed_port() {
  asio::io_context io;
  tcp::acceptor a(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  return a.local_endpoint().port();  // closed again when `a` goes
}

}  // namespace

CAF_TEST(post_round_trip_with_body_and_headers) {
  test_server server(echo);
  auto c = client::create({});
  auto req = post("/asr?x=1", std::string("bin\0ary\r\n", 9));
  req.headers = {{"X-Custom", "hello"}};
  req.content_type = "multipart/form-data; boundary=b";
  auto r = send_and_wait(*c, server.port(), req);
  CAF_REQUIRE(r.ok);
  CAF_CHECK_EQUAL(r.response.status, 200u);
  CAF_CHECK_EQUAL(r.response.body, std::string("bin\0ary\r\n", 9));
  CAF_CHECK_EQUAL(r.response.header("x-method"), "POST");
  CAF_CHECK_EQUAL(r.response.header("X-TARGET"), "/asr?x=1");
  CAF_CHECK_EQUAL(r.response.header("x-host"), "127.0.0.1:" + std::to_string(server.port()));
  CAF_CHECK_EQUAL(r.response.header("x-content-type"), "multipart/form-data; boundary=b");
  CAF_CHECK_EQUAL(r.response.header("x-custom"), "hello");
  CAF_CHECK_EQUAL(r.response.header("no-such-header"), "");
  // A large body, and a GET without one, through a resolved name.
  std::string big(3 << 20, 'z');
  r = send_and_wait(*c, server.port(), post("/big", big));
  CAF_REQUIRE(r.ok);
  CAF_CHECK(r.response.body == big);
  client_request get;
  get.method = "GET";
  get.target = "/healthz";
  r = send_and_wait(*c, server.port(), get, "localhost");
  CAF_REQUIRE(r.ok);
  CAF_CHECK_EQUAL(r.response.header("x-method"), "GET");
  CAF_CHECK_EQUAL(r.response.body, "");
  // A body without a length, ended by closing the connection.
  r = send_and_wait(*c, server.port(), post("/to-eof", "until the end"));
  CAF_REQUIRE(r.ok);
  CAF_CHECK_EQUAL(r.response.body, "until the end");
  CAF_CHECK_EQUAL(r.response.header("content-length"), "");
  CAF_CHECK_EQUAL(c->idle_connections(), 1u);  // the one to "localhost"; the other is closed
}

CAF_TEST(sequential_requests_reuse_one_connection) {
  test_server server(echo);
  auto c = client::create({});
  for (int i = 0; i < 5; ++i) {
    auto r = send_and_wait(*c, server.port(), post("/asr", "n" + std::to_string(i)));
    CAF_REQUIRE(r.ok);
    CAF_CHECK_EQUAL(r.response.body, "n" + std::to_string(i));
  }
  CAF_CHECK_EQUAL(server.accepted(), 1u);
  CAF_CHECK_EQUAL(c->idle_connections(), 1u);
  for (const auto& seen : server.requests()) CAF_CHECK_EQUAL(seen.connection, 1u);
}

CAF_TEST(connection_close_from_the_server_opens_a_new_connection) {
  test_server server([](const seen_request& req, std::size_t nth) {
    auto r = echo(req, nth);
    r.headers.emplace_back("Connection", "close");
    r.close_after = true;
    return r;
  });
  auto c = client::create({});
  for (int i = 0; i < 2; ++i) {
    auto r = send_and_wait(*c, server.port(), post("/asr", "x"));
    CAF_REQUIRE(r.ok);
    CAF_CHECK_EQUAL(c->idle_connections(), 0u);
  }
  CAF_CHECK_EQUAL(server.accepted(), 2u);
}

CAF_TEST(redirect_308_is_followed_once_with_the_same_method_and_body) {
  std::uint16_t port = 0;
  test_server server([&port](const seen_request& req, std::size_t nth) {
    reply r;
    if (req.target == "/synthesize") {
      r.status = 308;
      r.headers = {{"Location", "/synthesize/"}};
    } else if (req.target == "/absolute") {
      r.status = 307;
      r.headers = {{"Location", "http://127.0.0.1:" + std::to_string(port) + "/synthesize/"}};
    } else if (req.target == "/elsewhere") {
      r.status = 308;
      r.headers = {{"Location", "http://127.0.0.1:1/synthesize/"}};
    } else {
      r = echo(req, nth);
    }
    return r;
  });
  port = server.port();
  auto c = client::create({});
  const std::string json = R"({"text": "привет", "voice": "Natasha"})";
  auto r = send_and_wait(*c, server.port(), post("/synthesize", json));
  CAF_REQUIRE(r.ok);
  CAF_CHECK_EQUAL(r.response.status, 200u);
  CAF_CHECK_EQUAL(r.response.body, json);
  CAF_CHECK_EQUAL(r.response.header("x-target"), "/synthesize/");
  auto seen = server.requests();
  CAF_REQUIRE_EQUAL(seen.size(), 2u);
  CAF_CHECK_EQUAL(seen[1].method, "POST");
  CAF_CHECK_EQUAL(seen[1].body, json);
  CAF_CHECK_EQUAL(seen[1].header("content-type"), "application/octet-stream");
  // An absolute Location on the same host:port is followed too.
  r = send_and_wait(*c, server.port(), post("/absolute", json));
  CAF_REQUIRE(r.ok);
  CAF_CHECK_EQUAL(r.response.header("x-target"), "/synthesize/");
  // Another port, or redirects switched off: returned as is.
  r = send_and_wait(*c, server.port(), post("/elsewhere", json));
  CAF_REQUIRE(r.ok);
  CAF_CHECK_EQUAL(r.response.status, 308u);
  auto no_follow = post("/synthesize", json);
  no_follow.follow_redirect = false;
  r = send_and_wait(*c, server.port(), no_follow);
  CAF_REQUIRE(r.ok);
  CAF_CHECK_EQUAL(r.response.status, 308u);
  CAF_CHECK_EQUAL(r.response.header("location"), "/synthesize/");
  CAF_CHECK_EQUAL(server.accepted(), 1u);  // every hop on the kept-alive connection
}

CAF_TEST(redirect_loop_returns_the_second_redirect) {
  test_server server([](const seen_request&, std::size_t) {
    reply r;
    r.status = 308;
    r.headers = {{"Location", "/loop"}};
    return r;
  });
  auto c = client::create({});
  auto r = send_and_wait(*c, server.port(), post("/loop", "x"));
  CAF_REQUIRE(r.ok);
  CAF_CHECK_EQUAL(r.response.status, 308u);
  CAF_CHECK_EQUAL(server.requests().size(), 2u);
}

CAF_TEST(a_hanging_server_times_out) {
  test_server server([](const seen_request&, std::size_t) {
    reply r;
    r.hang = true;
    return r;
  });
  auto c = client::create({});
  auto req = post("/asr", "x");
  req.timeout = 300ms;
  auto start = std::chrono::steady_clock::now();
  auto r = send_and_wait(*c, server.port(), req);
  auto took = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  CAF_CHECK_EQUAL(error_of(r), "timeout");
  CAF_CHECK_GREATER_OR_EQUAL(took, 0.25);
  CAF_CHECK_LESS(took, 1.5);
  CAF_CHECK_EQUAL(c->idle_connections(), 0u);
}

CAF_TEST(a_response_arriving_in_pieces_is_read_whole) {
  test_server server([](const seen_request&, std::size_t) {
    reply r;
    r.raw = {"HTTP/1.1 200 OK\r\nContent-Le", "ngth: 5\r\nX-A: b\r\n\r\nhe", "llo"};
    return r;
  });
  auto c = client::create({});
  auto r = send_and_wait(*c, server.port(), post("/asr", "x"));
  CAF_REQUIRE(r.ok);
  CAF_CHECK_EQUAL(r.response.status, 200u);
  CAF_CHECK_EQUAL(r.response.body, "hello");
  CAF_CHECK_EQUAL(r.response.header("x-a"), "b");
}

/// `n` bytes no two of which in a row repeat a short pattern: a misplaced piece shows.
static std::string patterned(std::size_t n) {
  std::string s(n, '\0');
  for (std::size_t i = 0; i < n; ++i) s[i] = static_cast<char>('a' + (i * 7 + i / 251) % 26);
  return s;
}

CAF_TEST(a_large_response_arriving_in_pieces_is_read_whole) {
  // The rest of a body of a known length is read straight into the body: the bytes that
  // came with the header first, then whatever each read brings.
  const auto body = patterned(300000);
  test_server server([&body](const seen_request&, std::size_t) {
    reply r;
    r.raw = {"HTTP/1.1 200 OK\r\nContent-Length: 300000\r\n\r\n" + body.substr(0, 1000),
             body.substr(1000, 150000), body.substr(151000)};
    return r;
  });
  auto c = client::create({});
  auto r = send_and_wait(*c, server.port(), post("/synthesize/", "x"));
  CAF_REQUIRE(r.ok);
  CAF_CHECK(r.response.body == body);
}

CAF_TEST(large_responses_leave_their_connection_reusable) {
  // Reading a body straight from the socket takes its bytes and no more.
  const auto body = patterned(400000);
  test_server server([&body](const seen_request& seen, std::size_t) {
    reply r;
    r.body = seen.body + body;
    return r;
  });
  auto c = client::create({});
  for (std::string n : {"1", "2", "3"}) {
    auto r = send_and_wait(*c, server.port(), post("/synthesize/", n));
    CAF_REQUIRE(r.ok);
    CAF_CHECK(r.response.body == n + body);
  }
  CAF_CHECK_EQUAL(server.accepted(), 1u);
  CAF_CHECK_EQUAL(c->idle_connections(), 1u);
}

CAF_TEST(a_response_cut_short_times_out_or_fails_as_incomplete) {
  for (bool hang : {true, false}) {
    test_server server([hang](const seen_request&, std::size_t) {
      reply r;
      r.raw = {"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc"};
      r.hang = hang;
      return r;
    });
    auto c = client::create({});
    auto req = post("/asr", "x");
    req.timeout = 500ms;
    auto r = send_and_wait(*c, server.port(), req);
    if (hang) {
      CAF_CHECK_EQUAL(error_of(r), "timeout");
      CAF_CHECK(r.message.find("no complete response") != std::string::npos);
    } else {
      CAF_CHECK_EQUAL(error_of(r), "protocol");  // the server closed inside the body
    }
    CAF_CHECK_EQUAL(c->idle_connections(), 0u);
  }
}

CAF_TEST(a_response_ending_with_the_connection_is_whole) {
  test_server server(echo);
  auto c = client::create({});
  auto r = send_and_wait(*c, server.port(), post("/to-eof", "until the end"));
  CAF_REQUIRE(r.ok);
  CAF_CHECK_EQUAL(r.response.body, "until the end");
  CAF_CHECK_EQUAL(c->idle_connections(), 0u);  // it closed: nothing to pool
}

CAF_TEST(a_closed_port_fails_to_connect) {
  auto c = client::create({});
  auto r = send_and_wait(*c, closed_port(), post("/asr", "x"));
  CAF_CHECK_EQUAL(error_of(r), "connect_failed");
  CAF_CHECK(!r.message.empty());
}

CAF_TEST(a_pooled_connection_closed_by_the_server_is_replaced) {
  // Closed while idle, without announcing it.
  test_server server([](const seen_request& req, std::size_t nth) {
    auto r = echo(req, nth);
    r.close_after = true;
    return r;
  });
  auto c = client::create({});
  CAF_REQUIRE(send_and_wait(*c, server.port(), post("/asr", "1")).ok);
  CAF_CHECK_EQUAL(c->idle_connections(), 1u);
  CAF_REQUIRE(eventually([&] { return server.closed() == 1; }));
  auto r = send_and_wait(*c, server.port(), post("/asr", "2"));
  CAF_REQUIRE(r.ok);
  CAF_CHECK_EQUAL(r.response.body, "2");
  CAF_CHECK_EQUAL(server.accepted(), 2u);
}

CAF_TEST(a_request_lost_on_a_pooled_connection_is_retried_once) {
  // The server reads the second request on its first connection and closes without a
  // byte of answer: what a keep-alive race with the server's idle timeout looks like.
  test_server server([](const seen_request& req, std::size_t nth) {
    auto r = echo(req, nth);
    r.drop = req.connection == 1 && nth == 2;
    return r;
  });
  auto c = client::create({});
  CAF_REQUIRE(send_and_wait(*c, server.port(), post("/asr", "1")).ok);
  auto r = send_and_wait(*c, server.port(), post("/asr", "2"));
  CAF_REQUIRE(r.ok);
  CAF_CHECK_EQUAL(r.response.body, "2");
  CAF_CHECK_EQUAL(server.accepted(), 2u);
  auto seen = server.requests();
  CAF_REQUIRE_EQUAL(seen.size(), 3u);
  CAF_CHECK_EQUAL(seen[2].body, "2");
  CAF_CHECK_EQUAL(seen[2].connection, 2u);
}

CAF_TEST(a_request_lost_on_a_fresh_connection_is_not_retried) {
  test_server server([](const seen_request&, std::size_t) {
    reply r;
    r.drop = true;
    return r;
  });
  auto c = client::create({});
  auto r = send_and_wait(*c, server.port(), post("/asr", "x"));
  CAF_CHECK_EQUAL(error_of(r), "protocol");
  CAF_CHECK_EQUAL(server.accepted(), 1u);
  CAF_CHECK_EQUAL(server.requests().size(), 1u);
}

CAF_TEST(a_response_over_the_limit_is_too_large) {
  test_server server([](const seen_request& req, std::size_t) {
    reply r;
    r.body = std::string(req.target == "/exact" ? 1 << 20 : (1 << 20) + 1, 'a');
    r.chunked = req.target == "/chunked";
    r.to_eof = req.target == "/to-eof";
    return r;
  });
  client::options opts;
  opts.max_response_body = 1 << 20;
  auto c = client::create(opts);
  CAF_CHECK_EQUAL(error_of(send_and_wait(*c, server.port(), post("/sized", "x"))), "too_large");
  CAF_CHECK_EQUAL(error_of(send_and_wait(*c, server.port(), post("/chunked", "x"))), "too_large");
  CAF_CHECK_EQUAL(error_of(send_and_wait(*c, server.port(), post("/to-eof", "x"))), "too_large");
  auto r = send_and_wait(*c, server.port(), post("/exact", "x"));
  CAF_REQUIRE(r.ok);
  CAF_CHECK_EQUAL(r.response.body.size(), 1u << 20);
}

CAF_TEST(stop_fails_a_request_in_flight_exactly_once) {
  test_server server([](const seen_request&, std::size_t) {
    reply r;
    r.hang = true;
    return r;
  });
  auto c = client::create({});
  std::atomic<int> calls{0};
  std::string error;
  c->send("127.0.0.1", server.port(), post("/asr", "x"), [&](client_result r) {
    error = error_of(r);
    ++calls;
  });
  CAF_REQUIRE(server.wait_for_requests(1));
  c->stop();  // joins the threads: the callback has run
  CAF_CHECK_EQUAL(calls.load(), 1);
  CAF_CHECK_EQUAL(error, "shut_down");
  // After stop: answered at once, and stop stays harmless.
  c->send("127.0.0.1", server.port(), post("/asr", "x"), [&](client_result r) {
    error = error_of(r);
    ++calls;
  });
  CAF_CHECK_EQUAL(calls.load(), 2);
  CAF_CHECK_EQUAL(error, "shut_down");
  c->stop();
  c.reset();
  CAF_CHECK_EQUAL(calls.load(), 2);
}

// The node sends a request's body to one backend and, when that fails, to another,
// without keeping a copy: every result, served or not, carries the body back.
CAF_TEST(every_result_gives_the_request_body_back) {
  const std::string body(300 * 1000, 'b');
  auto c = client::create({});
  test_server served(echo);
  auto r = send_and_wait(*c, served.port(), post("/asr", body));
  CAF_CHECK(r.ok);
  CAF_CHECK(r.request_body == body);
  r = send_and_wait(*c, closed_port(), post("/asr", body));
  CAF_CHECK_EQUAL(error_of(r), "connect_failed");
  CAF_CHECK(r.request_body == body);
  test_server hanging([](const seen_request&, std::size_t) {
    reply h;
    h.hang = true;
    return h;
  });
  auto slow = post("/asr", body);
  slow.timeout = 300ms;
  r = send_and_wait(*c, hanging.port(), slow);
  CAF_CHECK_EQUAL(error_of(r), "timeout");
  CAF_CHECK(r.request_body == body);
  auto bad = post("/asr", body);
  bad.target = "/a b";
  r = send_and_wait(*c, served.port(), bad);
  CAF_CHECK_EQUAL(error_of(r), "protocol");
  CAF_CHECK(r.request_body == body);
  c->stop();
  r = send_and_wait(*c, served.port(), post("/asr", body));
  CAF_CHECK_EQUAL(error_of(r), "shut_down");
  CAF_CHECK(r.request_body == body);
}

CAF_TEST(stop_from_a_callback_does_not_deadlock) {
  test_server server(echo);
  auto c = client::create({});
  auto stopped = std::make_shared<std::promise<void>>();
  auto future = stopped->get_future();
  c->send("127.0.0.1", server.port(), post("/asr", "x"), [&c, stopped](client_result) {
    c->stop();  // on the client's only thread: cannot join it
    stopped->set_value();
  });
  CAF_REQUIRE(future.wait_for(10s) == std::future_status::ready);
  c.reset();
}

CAF_TEST(idle_connections_expire) {
  test_server server(echo);
  client::options opts;
  opts.idle_expiry = 50ms;
  auto c = client::create(opts);
  CAF_REQUIRE(send_and_wait(*c, server.port(), post("/asr", "1")).ok);
  std::this_thread::sleep_for(120ms);
  CAF_CHECK_EQUAL(c->idle_connections(), 0u);
  CAF_REQUIRE(send_and_wait(*c, server.port(), post("/asr", "2")).ok);
  CAF_CHECK_EQUAL(server.accepted(), 2u);
}

CAF_TEST(fifty_concurrent_sends_all_complete) {
  test_server server([](const seen_request& req, std::size_t nth) {
    auto r = echo(req, nth);
    r.delay = 20ms;  // keeps the requests overlapping
    return r;
  });
  client::options opts;
  opts.threads = 2;
  auto c = client::create(opts);
  constexpr int n = 50;
  std::mutex mutex;
  std::condition_variable cv;
  std::vector<client_result> results;
  for (int i = 0; i < n; ++i) {
    auto body = "body " + std::to_string(i);
    c->send("127.0.0.1", server.port(), post("/asr", body), [&, body](client_result r) {
      std::lock_guard<std::mutex> lock(mutex);
      r.message = body;  // what the echoed body should be
      results.push_back(std::move(r));
      cv.notify_all();
    });
  }
  std::unique_lock<std::mutex> lock(mutex);
  CAF_REQUIRE(cv.wait_for(lock, 20s, [&] { return results.size() == n; }));
  for (const auto& r : results) {
    CAF_CHECK(r.ok);
    CAF_CHECK_EQUAL(r.response.body, r.message);
  }
  CAF_CHECK_LESS_OR_EQUAL(server.accepted(), static_cast<std::size_t>(n));
  CAF_CHECK_LESS_OR_EQUAL(c->idle_connections(), 32u);
  std::size_t pooled = std::min<std::size_t>(server.accepted(), 32);
  CAF_CHECK_EQUAL(c->idle_connections(), pooled);
}

// --- Hostile backends: every buffer bounded --------------------------------------------
//
// A backend's address comes from the DHT, which anyone can announce to: what it sends is
// bounded like a client's request to the server (http/request_bounds.hpp). Over a bound,
// the exchange fails with too_large at once, not at the exchange's timeout, and the client
// reads little more than the bound before it closes.

namespace {

const std::string chunked_head = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";
constexpr std::size_t bound = 64 * 1024;  // the header limit, and so each of the others
// What the backend may write past the bound before the client closed: one read, the
// kernel's buffers, and the time the client takes to close.
constexpr std::size_t slack = 1 << 20;

bool contains(const std::string& s, const std::string& part) {
  return s.find(part) != std::string::npos;
}

/// `n` tiny header (or trailer) fields.
std::string fields(int n) {
  std::string out;
  for (int i = 0; i < n; ++i) out += "a" + std::to_string(i) + ":\r\n";
  return out;
}

struct hostile_outcome {
  client_result result;
  double seconds = 0;       // from send to the callback
  std::size_t streamed = 0;  // bytes of filler the backend wrote in all
  bool peer_gone = false;   // the backend's stream ended because the client closed
};

/// Sends one request to a backend that replies `r`, with a timeout of 8 s: what a client
/// without bounds would wait for.
hostile_outcome against(const reply& r) {
  test_server server([&](const seen_request&, std::size_t) { return r; });
  auto c = client::create({});
  auto req = post("/asr", "x");
  req.timeout = 8s;
  auto start = std::chrono::steady_clock::now();
  hostile_outcome out;
  out.result = send_and_wait(*c, server.port(), req);
  out.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return out;
}

/// A backend answering `head`, then `filler` without end (for 3 s, `cap` bytes at most)
/// and then nothing, keeping the connection open.
hostile_outcome against_stream(const std::string& head, const std::string& filler,
                               std::size_t cap = 64u << 20) {
  reply r;
  r.raw = {head};
  r.filler = filler;
  r.stream_cap = cap;
  r.log = std::make_shared<stream_log>();
  r.hang = true;
  auto ended = r.log->ended.get_future();
  auto out = against(r);
  out.peer_gone = ended.wait_for(10s) == std::future_status::ready && ended.get();
  out.streamed = r.log->bytes;
  CAF_MESSAGE("backend wrote " << out.streamed << " bytes of filler; client gave up after "
                               << out.seconds << " s (" << error_of(out.result) << ")");
  return out;
}

/// A backend answering `pieces` and then nothing.
hostile_outcome against_pieces(std::vector<std::string> pieces) {
  reply r;
  r.raw = std::move(pieces);
  r.hang = true;
  auto out = against(r);
  CAF_MESSAGE("client gave up after " << out.seconds << " s (" << error_of(out.result) << ")");
  return out;
}

/// too_large, naming `what`, well before the timeout (or the end of a stream).
void check_refused_at_once(const hostile_outcome& out, const std::string& what) {
  CAF_CHECK_EQUAL(error_of(out.result), "too_large");
  CAF_CHECK(contains(out.result.message, what));
  CAF_CHECK_LESS(out.seconds, 2.0);
}

/// As check_refused_at_once, and the client closed while the backend was still sending,
/// having read little more than the bound.
void check_stream_cut(const hostile_outcome& out, const std::string& what) {
  check_refused_at_once(out, what);
  CAF_CHECK(out.peer_gone);
  CAF_CHECK_LESS(out.streamed, bound + slack);
}

}  // namespace

CAF_TEST(an_endless_chunk_extension_is_too_large_at_once) {
  // One size line whose extension never ends.
  check_stream_cut(against_stream(chunked_head + "1;ext=", "a"), "chunk size line");
  // Short lines, each with 1000 bytes of extension: over the bound together.
  check_stream_cut(against_stream(chunked_head, "1;x=" + std::string(1000, 'e') + "\r\nz\r\n"),
                   "chunk extensions");
}

CAF_TEST(a_chunk_size_line_of_megabytes_is_too_large_at_once) {
  // Leading zeros: 4 MiB of them, without the line's end.
  check_stream_cut(against_stream(chunked_head, "0", 4u << 20), "chunk size line");
}

CAF_TEST(an_endless_or_oversized_trailer_is_too_large_at_once) {
  auto last_chunk = chunked_head + "5\r\nhello\r\n0\r\n";
  // A trailer field that never ends, and complete trailer fields without an end.
  check_stream_cut(against_stream(last_chunk + "X-Big: ", "b"), "trailer");
  check_stream_cut(against_stream(last_chunk, "X-T: " + std::string(100, 't') + "\r\n"),
                   "trailer");
  // 100 KiB of fields that do end.
  std::string trailer;
  while (trailer.size() < 100 * 1024) trailer += "X-T: " + std::string(100, 't') + "\r\n";
  check_refused_at_once(against_pieces({last_chunk, trailer + "\r\n"}), "trailer");
}

CAF_TEST(more_than_100_fields_are_too_large_at_once) {
  // Well under 64 KiB, but 5,000 fields: refused at once, not after waiting for the body.
  check_refused_at_once(
      against_pieces({"HTTP/1.1 200 OK\r\n" + fields(5000) + "Content-Length: 100\r\n\r\n"}),
      "100 fields");
  // 50 in the header and 51 in the trailer.
  check_refused_at_once(against_pieces({"HTTP/1.1 200 OK\r\n" + fields(49) +
                                        "Transfer-Encoding: chunked\r\n\r\n1\r\nz\r\n0\r\n" +
                                        fields(51) + "\r\n"}),
                        "100 fields");
  // A header without end is Beast's header limit, named as such.
  check_stream_cut(against_stream("HTTP/1.1 200 OK\r\n", "a:\r\n"), "header");
}

CAF_TEST(small_extensions_trailers_and_100_fields_are_read) {
  // 50 fields in the header and 50 in the trailer, a few chunk extensions.
  test_server server([](const seen_request&, std::size_t) {
    reply r;
    r.raw = {"HTTP/1.1 200 OK\r\n" + fields(49) + "Transfer-Encoding: chunked\r\n\r\n" +
             "2;a=b\r\nzz\r\n1;name=\"quoted\"\r\ny\r\n0;last\r\n" + fields(49) +
             "X-Trailer: yes\r\n\r\n"};
    return r;
  });
  auto c = client::create({});
  auto r = send_and_wait(*c, server.port(), post("/asr", "x"));
  CAF_REQUIRE(r.ok);
  CAF_CHECK_EQUAL(r.response.body, "zzy");
  CAF_CHECK_EQUAL(r.response.headers.size(), 100u);
  CAF_CHECK_EQUAL(r.response.header("x-trailer"), "yes");
}
