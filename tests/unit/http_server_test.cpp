// The HTTP server against a raw-socket client on 127.0.0.1: framing, keep-alive, limits,
// timeouts, late and failed replies, and stopping. Every read has a deadline.
#define CAF_SUITE http_server
#include "caf/test/unit_test.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cctype>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "http/server.hpp"

using namespace sova::http;
using namespace std::chrono_literals;
using clock_type = std::chrono::steady_clock;

namespace {

bool iequal(const std::string& a, const std::string& b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i])))
      return false;
  return true;
}

struct reply {
  unsigned status = 0;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;

  std::optional<std::string> header(const std::string& name) const {
    for (const auto& [n, v] : headers)
      if (iequal(n, name)) return v;
    return std::nullopt;
  }
};

/// A blocking TCP client whose every wait is bounded by poll(). It throws rather than
/// using CAF's checks, which are not thread-safe.
class client {
public:
  /// Connects to 127.0.0.1:port, from the loopback address `from` when given (Linux
  /// routes all of 127/8 to lo: a second client address without a second machine).
  explicit client(std::uint16_t port, const char* from = nullptr) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    if (fd_ < 0) throw std::runtime_error("socket failed");
    if (from) {
      sockaddr_in local{};
      local.sin_family = AF_INET;
      ::inet_pton(AF_INET, from, &local.sin_addr);
      if (::bind(fd_, reinterpret_cast<sockaddr*>(&local), sizeof local) != 0) {
        close();
        throw std::runtime_error(std::string("bind to ") + from + " failed");
      }
    }
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
      close();
      throw std::runtime_error("connect failed");
    }
  }
  ~client() { close(); }
  client(const client&) = delete;
  client& operator=(const client&) = delete;

  void close() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

  bool send(const std::string& data) {
    std::size_t sent = 0;
    while (sent < data.size()) {
      auto n = ::send(fd_, data.data() + sent, data.size() - sent, MSG_NOSIGNAL);
      if (n <= 0) return false;
      sent += static_cast<std::size_t>(n);
    }
    return true;
  }

  /// One response; nullopt when the connection ends or nothing complete arrives in time.
  std::optional<reply> read(bool head_request = false,
                            std::chrono::milliseconds within = 5000ms) {
    auto deadline = clock_type::now() + within;
    std::size_t end;
    while ((end = buf_.find("\r\n\r\n")) == std::string::npos)
      if (!fill(deadline)) return std::nullopt;
    reply r;
    if (!parse_head(buf_.substr(0, end), r)) return std::nullopt;
    buf_.erase(0, end + 4);
    std::size_t length = 0;
    if (auto cl = r.header("Content-Length"); cl && !head_request) length = std::stoul(*cl);
    while (buf_.size() < length)
      if (!fill(deadline)) return std::nullopt;
    r.body = buf_.substr(0, length);
    buf_.erase(0, length);
    return r;
  }

  /// True when the server ends the connection (EOF or reset) in time with nothing more
  /// to say; bytes that arrive meanwhile make it false.
  bool closed_by_peer(std::chrono::milliseconds within = 3000ms) {
    auto deadline = clock_type::now() + within;
    auto before = buf_.size();
    while (fill(deadline)) {
    }
    return !timed_out_ && buf_.size() == before;
  }

private:
  static bool parse_head(const std::string& head, reply& r) {
    auto line_end = head.find("\r\n");
    auto status_line = head.substr(0, line_end);
    if (status_line.rfind("HTTP/1.", 0) != 0 || status_line.size() < 12) return false;
    r.status = static_cast<unsigned>(std::stoul(status_line.substr(9, 3)));
    while (line_end != std::string::npos) {
      auto start = line_end + 2;
      line_end = head.find("\r\n", start);
      auto line = head.substr(start, line_end == std::string::npos ? std::string::npos
                                                                   : line_end - start);
      auto colon = line.find(':');
      if (colon == std::string::npos) return false;
      auto value = line.substr(colon + 1);
      value.erase(0, value.find_first_not_of(' '));
      r.headers.emplace_back(line.substr(0, colon), value);
    }
    return true;
  }

  /// Receives once; false on EOF, error or deadline (then timed_out_ is set).
  bool fill(clock_type::time_point deadline) {
    timed_out_ = false;
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - clock_type::now());
    pollfd p{fd_, POLLIN, 0};
    if (left.count() <= 0 || ::poll(&p, 1, static_cast<int>(left.count())) <= 0) {
      timed_out_ = true;
      return false;
    }
    char chunk[4096];
    auto n = ::recv(fd_, chunk, sizeof chunk, 0);
    if (n <= 0) return false;
    buf_.append(chunk, static_cast<std::size_t>(n));
    return true;
  }

  int fd_ = -1;
  std::string buf_;
  bool timed_out_ = false;
};

/// Answers with what it saw: method, target, one header, body, remote, as a JSON object.
void echo(request req, responder reply_to) {
  response r;
  r.body = nlohmann::json{{"method", req.method},
                          {"target", req.target},
                          {"x_test", req.header("x-TEST")},
                          {"header_count", req.headers.size()},
                          {"body", req.body},
                          {"remote", req.remote}}
               .dump();
  r.headers.emplace_back("X-Echo", "yes");
  reply_to(std::move(r));
}

/// Keeps the responders a handler did not answer yet, for the test to answer later.
struct mailbox {
  std::mutex mutex;
  std::condition_variable changed;
  std::deque<std::pair<request, responder>> items;
  std::size_t calls = 0;

  void put(request req, responder r) {
    std::lock_guard<std::mutex> lock(mutex);
    ++calls;
    items.emplace_back(std::move(req), std::move(r));
    changed.notify_all();
  }

  std::optional<std::pair<request, responder>> take(std::chrono::milliseconds within = 5000ms) {
    std::unique_lock<std::mutex> lock(mutex);
    if (!changed.wait_for(lock, within, [&] { return !items.empty(); })) return std::nullopt;
    auto item = std::move(items.front());
    items.pop_front();
    return item;
  }

  std::size_t call_count() {
    std::lock_guard<std::mutex> lock(mutex);
    return calls;
  }
};

/// Sends `bytes` on `c` and waits until the handler has the request (both required).
std::optional<std::pair<request, responder>> send_and_take(client& c, mailbox& box,
                                                           const std::string& bytes) {
  CAF_REQUIRE(c.send(bytes));
  auto item = box.take();
  CAF_REQUIRE(item);
  return item;
}

server_limits small_limits() {
  server_limits l;
  l.max_body = 1000;
  l.header_timeout = 5000ms;
  l.body_timeout = 5000ms;
  l.idle_timeout = 5000ms;
  return l;
}

std::shared_ptr<server> start_echo(server_limits limits = small_limits()) {
  return server::start("127.0.0.1", 0, limits, echo);
}

/// A handler that counts its calls and echoes.
handler counting_echo(std::atomic<int>& calls) {
  return [&calls](request req, responder r) {
    ++calls;
    echo(std::move(req), std::move(r));
  };
}

nlohmann::json body_json(const reply& r) { return nlohmann::json::parse(r.body); }

/// A string member of the reply's JSON body, copied (CAF_CHECK_EQUAL must not see a
/// reference into a temporary).
std::string field(const reply& r, const std::string& key) {
  return body_json(r).at(key).get<std::string>();
}

std::string get(const std::string& target, const std::string& extra = "") {
  return "GET " + target + " HTTP/1.1\r\nHost: test\r\n" + extra + "\r\n";
}

std::string post(const std::string& target, const std::string& body,
                 const std::string& extra = "") {
  return "POST " + target + " HTTP/1.1\r\nHost: test\r\nContent-Length: " +
         std::to_string(body.size()) + "\r\n" + extra + "\r\n" + body;
}

/// Waits until the server's count of open connections drops to `n` (bounded).
bool wait_open(const server& s, std::size_t n, std::chrono::milliseconds within = 3000ms) {
  auto deadline = clock_type::now() + within;
  while (s.open_connections() != n) {
    if (clock_type::now() > deadline) return false;
    std::this_thread::sleep_for(10ms);
  }
  return true;
}

/// Sends half a header: the server (header timeout 300 ms) must close soon after it.
void check_header_timeout(client& c) {
  auto begin = clock_type::now();
  CAF_REQUIRE(c.send("POST /asr HTTP/1.1\r\nHost: t\r\nContent-Le"));
  CAF_CHECK(c.closed_by_peer(5000ms));
  auto took = clock_type::now() - begin;
  CAF_CHECK(took >= 250ms);
  CAF_CHECK(took < 2000ms);
}

void check_error(const std::optional<reply>& r, unsigned status, const std::string& code) {
  CAF_REQUIRE(r);
  CAF_CHECK_EQUAL(r->status, status);
  auto j = body_json(*r);
  CAF_CHECK_EQUAL(j["response_code"], 1);
  CAF_CHECK_EQUAL(j["error"]["code"], code);
}

/// The error message of a reply's JSON body ("" when there is none).
std::string error_message(const std::optional<reply>& r) {
  if (!r) return "";
  auto j = nlohmann::json::parse(r->body, nullptr, false);
  if (!j.is_object() || !j.contains("error")) return "";
  return j["error"].value("message", "");
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

/// Waits until the server's reserved body bytes are `n` (bounded).
bool wait_reserved(const server& s, std::size_t n, std::chrono::milliseconds within = 3000ms) {
  auto deadline = clock_type::now() + within;
  while (s.body_bytes_reserved() != n) {
    if (clock_type::now() > deadline) return false;
    std::this_thread::sleep_for(10ms);
  }
  return true;
}

/// Sends `total` bytes of `fill` in pieces; stops quietly when the server has closed.
void send_filler(client& c, std::size_t total, char fill) {
  const std::string piece(16 * 1024, fill);
  for (std::size_t sent = 0; sent < total; sent += piece.size())
    if (!c.send(piece)) return;
}

const std::string chunked_head =
    "POST /asr HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n";

/// Limits where only a bound can end a request early: the body timeout is far away.
server_limits patient_limits() {
  auto l = small_limits();
  l.body_timeout = 60000ms;
  return l;
}

}  // namespace

CAF_TEST(get and post round trip with headers and body) {
  auto srv = start_echo();
  client c(srv->port());
  CAF_REQUIRE(c.send(get("/healthz?x=1", "X-Test: hello\r\n")));
  auto r = c.read();
  CAF_REQUIRE(r);
  CAF_CHECK_EQUAL(r->status, 200u);
  CAF_CHECK_EQUAL(r->header("Server").value_or(""), "sova-dc");
  CAF_CHECK_EQUAL(r->header("Content-Type").value_or(""), "application/json");
  CAF_CHECK_EQUAL(r->header("X-Echo").value_or(""), "yes");
  CAF_CHECK_EQUAL(r->header("Content-Length").value_or(""), std::to_string(r->body.size()));
  auto j = body_json(*r);
  CAF_CHECK_EQUAL(j["method"], "GET");
  CAF_CHECK_EQUAL(j["target"], "/healthz?x=1");
  CAF_CHECK_EQUAL(j["x_test"], "hello");
  CAF_CHECK_EQUAL(j["header_count"], 2u);
  CAF_CHECK_EQUAL(j["body"], "");
  CAF_CHECK_EQUAL(j["remote"].get<std::string>().rfind("127.0.0.1:", 0), 0u);

  CAF_REQUIRE(c.send(post("/asr?backend=cpu", "the body\r\n", "X-Test: again\r\n")));
  r = c.read();
  CAF_REQUIRE(r);
  CAF_CHECK_EQUAL(r->status, 200u);
  j = body_json(*r);
  CAF_CHECK_EQUAL(j["method"], "POST");
  CAF_CHECK_EQUAL(j["target"], "/asr?backend=cpu");
  CAF_CHECK_EQUAL(j["x_test"], "again");
  CAF_CHECK_EQUAL(j["body"], "the body\r\n");
}

CAF_TEST(three requests on one keep alive connection) {
  std::atomic<int> calls{0};
  auto srv = server::start("127.0.0.1", 0, small_limits(), counting_echo(calls));
  client c(srv->port());
  std::string remote;
  for (int i = 0; i < 3; ++i) {
    CAF_REQUIRE(c.send(post("/n", std::to_string(i))));
    auto r = c.read();
    CAF_REQUIRE(r);
    CAF_CHECK_EQUAL(r->status, 200u);
    auto j = body_json(*r);
    CAF_CHECK_EQUAL(j["body"], std::to_string(i));
    if (i == 0) remote = j["remote"];
    CAF_CHECK_EQUAL(j["remote"], remote);  // the same connection every time
  }
  CAF_CHECK_EQUAL(calls.load(), 3);
  CAF_CHECK_EQUAL(srv->open_connections(), 1u);
}

CAF_TEST(pipelined requests wait for the previous reply and are not lost) {
  mailbox box;
  auto srv = server::start("127.0.0.1", 0, small_limits(),
                           [&box](request q, responder r) { box.put(std::move(q), r); });
  client c(srv->port());
  auto first = send_and_take(c, box, post("/a", "first") + post("/b", "second") + get("/c"));
  std::this_thread::sleep_for(200ms);
  CAF_CHECK_EQUAL(box.call_count(), 1u);  // the next request is not read meanwhile
  for (auto name : {"first", "second", ""}) {
    auto item = name == std::string("first") ? std::move(first) : box.take();
    CAF_REQUIRE(item);
    CAF_CHECK_EQUAL(item->first.body, name);
    item->second(response{200, "text/plain", {}, "re:" + item->first.target});
    auto r = c.read();
    CAF_REQUIRE(r);
    CAF_CHECK_EQUAL(r->body, "re:" + item->first.target);
  }
}

CAF_TEST(a large body in pieces with the next request behind it is read whole) {
  // The rest of a body of a known length is read straight into the request's body: the
  // bytes that came with the header, then whatever each read brings, and not one byte of
  // the request after it.
  std::string body(300000, '\0');
  for (std::size_t i = 0; i < body.size(); ++i) body[i] = static_cast<char>(i * 7 + i / 251);
  mailbox box;
  auto limits = small_limits();
  limits.max_body = 1 << 20;
  limits.body_budget = 4 << 20;
  auto srv = server::start("127.0.0.1", 0, limits,
                           [&box](request q, responder r) { box.put(std::move(q), r); });
  client c(srv->port());
  auto whole = post("/asr", body) + post("/next", "after");
  auto cut = whole.size() - 150000;
  CAF_REQUIRE(c.send(whole.substr(0, 1000)));
  std::this_thread::sleep_for(50ms);
  CAF_REQUIRE(c.send(whole.substr(1000, cut - 1000)));
  std::this_thread::sleep_for(50ms);
  CAF_REQUIRE(c.send(whole.substr(cut)));
  for (auto [target, expected] : {std::pair<std::string, const std::string*>{"/asr", &body},
                                  {"/next", nullptr}}) {
    auto item = box.take();
    CAF_REQUIRE(item);
    CAF_CHECK_EQUAL(item->first.target, target);
    if (expected) CAF_CHECK(item->first.body == *expected);
    else CAF_CHECK_EQUAL(item->first.body, "after");
    item->second(response{200, "text/plain", {}, "ok"});
    auto r = c.read();
    CAF_REQUIRE(r);
    CAF_CHECK_EQUAL(r->body, "ok");
  }
}

CAF_TEST(connection close and http 1.0 end the connection) {
  auto srv = start_echo();
  {
    client c(srv->port());
    CAF_REQUIRE(c.send(get("/", "Connection: close\r\n")));
    auto r = c.read();
    CAF_REQUIRE(r);
    CAF_CHECK_EQUAL(r->status, 200u);
    CAF_CHECK_EQUAL(r->header("Connection").value_or(""), "close");
    CAF_CHECK(c.closed_by_peer());
  }
  {
    client c(srv->port());
    CAF_REQUIRE(c.send("GET / HTTP/1.0\r\n\r\n"));
    auto r = c.read();
    CAF_REQUIRE(r);
    CAF_CHECK_EQUAL(r->status, 200u);
    CAF_CHECK(c.closed_by_peer());
  }
  {
    client c(srv->port());
    for (int i = 0; i < 2; ++i) {
      CAF_REQUIRE(c.send("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"));
      auto r = c.read();
      CAF_REQUIRE(r);
      CAF_CHECK_EQUAL(r->status, 200u);
      CAF_CHECK_EQUAL(r->header("Connection").value_or(""), "keep-alive");
    }
  }
  CAF_CHECK(wait_open(*srv, 0));
}

CAF_TEST(head gets the length without a body) {
  auto srv = start_echo();
  client c(srv->port());
  CAF_REQUIRE(c.send("HEAD / HTTP/1.1\r\nHost: t\r\n\r\n"));
  auto r = c.read(true);
  CAF_REQUIRE(r);
  CAF_CHECK_EQUAL(r->status, 200u);
  CAF_CHECK_NOT_EQUAL(r->header("Content-Length").value_or("0"), "0");
  CAF_REQUIRE(c.send(get("/next")));  // framing intact: the next reply parses
  r = c.read();
  CAF_REQUIRE(r);
  CAF_CHECK_EQUAL(field(*r, "target"), "/next");
}

CAF_TEST(content length over the limit is 413 without reading the body) {
  std::atomic<int> calls{0};
  auto srv = server::start("127.0.0.1", 0, small_limits(), counting_echo(calls));
  {
    client c(srv->port());  // header only: the server must not wait for the body
    CAF_REQUIRE(c.send("POST /asr HTTP/1.1\r\nHost: t\r\nContent-Length: 5000\r\n\r\n"));
    auto r = c.read();
    check_error(r, 413, "too_large");
    CAF_CHECK_EQUAL(r->header("Connection").value_or(""), "close");
    CAF_CHECK(c.closed_by_peer());
  }
  {
    client c(srv->port());  // the body sent anyway: the reply must still arrive intact
    CAF_REQUIRE(c.send(post("/asr", std::string(5000, 'x'))));
    check_error(c.read(), 413, "too_large");
    CAF_CHECK(c.closed_by_peer());
  }
  {
    client c(srv->port());  // exactly at the limit is fine
    CAF_REQUIRE(c.send(post("/asr", std::string(1000, 'y'))));
    auto r = c.read();
    CAF_REQUIRE(r);
    CAF_CHECK_EQUAL(r->status, 200u);
  }
  CAF_CHECK_EQUAL(calls.load(), 1);
}

CAF_TEST(the refusal hook hears of each answer the server gives by itself) {
  std::atomic<int> calls{0};
  std::mutex mu;
  std::vector<refusal> heard;
  auto srv = server::start("127.0.0.1", 0, small_limits(), counting_echo(calls),
                           [&](const refusal& r, response& out) {
                             std::lock_guard<std::mutex> lock(mu);
                             heard.push_back(r);
                             out.headers.emplace_back("X-Request-Id", "from-the-hook");
                           });
  {
    client c(srv->port());  // too large: the header was read, so the hook sees it
    CAF_REQUIRE(c.send("POST /asr?x=1 HTTP/1.1\r\nHost: t\r\nX-Request-Id: abc\r\n"
                       "Content-Length: 5000\r\n\r\n"));
    auto r = c.read();
    check_error(r, 413, "too_large");
    CAF_CHECK_EQUAL(r->header("X-Request-Id").value_or(""), "from-the-hook");
  }
  {
    client c(srv->port());  // malformed: nothing of the request is known
    CAF_REQUIRE(c.send("NOT HTTP AT ALL\r\n\r\n"));
    auto r = c.read();
    check_error(r, 400, "bad_request");
    CAF_CHECK_EQUAL(r->header("X-Request-Id").value_or(""), "from-the-hook");
  }
  CAF_CHECK_EQUAL(calls.load(), 0);  // the handler saw neither
  std::lock_guard<std::mutex> lock(mu);
  CAF_REQUIRE_EQUAL(heard.size(), 2u);
  CAF_CHECK_EQUAL(heard[0].status, 413u);
  CAF_CHECK_EQUAL(heard[0].method, "POST");
  CAF_CHECK_EQUAL(heard[0].target, "/asr?x=1");
  bool has_id = false;
  for (const auto& [name, value] : heard[0].headers)
    has_id = has_id || (name == "X-Request-Id" && value == "abc");
  CAF_CHECK(has_id);
  CAF_CHECK(!heard[0].remote.empty());
  CAF_CHECK_EQUAL(heard[1].status, 400u);
}

CAF_TEST(chunked body over the limit is 413) {
  std::atomic<int> calls{0};
  auto srv = server::start("127.0.0.1", 0, small_limits(), counting_echo(calls));
  std::string chunk(600, 'z');
  auto chunked = "POST /asr HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n";
  {
    client c(srv->port());
    CAF_REQUIRE(c.send(chunked + std::string("258\r\n") + chunk + "\r\n258\r\n" + chunk +
                       "\r\n0\r\n\r\n"));
    check_error(c.read(), 413, "too_large");
    CAF_CHECK(c.closed_by_peer());
  }
  {
    client c(srv->port());  // one chunk under the limit passes
    CAF_REQUIRE(c.send(chunked + std::string("258\r\n") + chunk + "\r\n0\r\n\r\n"));
    auto r = c.read();
    CAF_REQUIRE(r);
    CAF_CHECK_EQUAL(r->status, 200u);
    CAF_CHECK_EQUAL(field(*r, "body"), chunk);
  }
  CAF_CHECK_EQUAL(calls.load(), 1);
}

CAF_TEST(expect 100 continue is answered before the body) {
  auto srv = start_echo();
  client c(srv->port());
  CAF_REQUIRE(c.send(
      "POST /asr HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n"));
  auto go_on = c.read();
  CAF_REQUIRE(go_on);
  CAF_CHECK_EQUAL(go_on->status, 100u);
  CAF_REQUIRE(c.send("hello"));
  auto r = c.read();
  CAF_REQUIRE(r);
  CAF_CHECK_EQUAL(r->status, 200u);
  CAF_CHECK_EQUAL(field(*r, "body"), "hello");
}

CAF_TEST(malformed requests are 400 and closed) {
  std::atomic<int> calls{0};
  auto srv = server::start("127.0.0.1", 0, small_limits(), counting_echo(calls));
  for (auto bad : {"GARBAGE\r\n\r\n", "GET / HTTP/1.1\r\nHost: t\r\nno colon here\r\n\r\n",
                   "GET / HTTP/9.9\r\n\r\n"}) {
    client c(srv->port());
    CAF_REQUIRE(c.send(bad));
    check_error(c.read(), 400, "bad_request");
    CAF_CHECK(c.closed_by_peer());
  }
  {
    client c(srv->port());  // a header far over any sane size
    CAF_REQUIRE(c.send(get("/", "X-Huge: " + std::string(70000, 'h') + "\r\n")));
    check_error(c.read(), 431, "too_large");
    CAF_CHECK(c.closed_by_peer());
  }
  CAF_CHECK_EQUAL(calls.load(), 0);
}

CAF_TEST(header timeout closes without calling the handler) {
  std::atomic<int> calls{0};
  auto limits = small_limits();
  limits.header_timeout = 300ms;
  auto srv = server::start("127.0.0.1", 0, limits, counting_echo(calls));
  client c(srv->port());
  check_header_timeout(c);
  CAF_CHECK_EQUAL(calls.load(), 0);
  CAF_CHECK(wait_open(*srv, 0));
}

CAF_TEST(body and idle timeouts close the connection) {
  std::atomic<int> calls{0};
  auto limits = small_limits();
  limits.body_timeout = 300ms;
  limits.idle_timeout = 300ms;
  auto srv = server::start("127.0.0.1", 0, limits, counting_echo(calls));
  {
    client c(srv->port());
    CAF_REQUIRE(c.send("POST /asr HTTP/1.1\r\nHost: t\r\nContent-Length: 100\r\n\r\nabc"));
    CAF_CHECK(c.closed_by_peer(3000ms));
    CAF_CHECK_EQUAL(calls.load(), 0);
  }
  {
    client c(srv->port());
    CAF_REQUIRE(c.send(get("/")));
    CAF_REQUIRE(c.read());
    auto begin = clock_type::now();
    CAF_CHECK(c.closed_by_peer(3000ms));
    CAF_CHECK(clock_type::now() - begin >= 250ms);
  }
}

CAF_TEST(a header begun after an idle wait has the header timeout not the idle one) {
  std::atomic<int> calls{0};
  auto limits = small_limits();
  limits.header_timeout = 300ms;
  limits.idle_timeout = 10000ms;
  auto srv = server::start("127.0.0.1", 0, limits, counting_echo(calls));
  client c(srv->port());
  CAF_REQUIRE(c.send(get("/")));
  CAF_REQUIRE(c.read());
  std::this_thread::sleep_for(100ms);  // idle, under the idle timeout
  check_header_timeout(c);
  CAF_CHECK_EQUAL(calls.load(), 1);
}

CAF_TEST(a busy connection outlives its first deadlines) {
  // Each step moves the deadline later; requests spread over several header timeouts
  // must all be served on one connection.
  std::atomic<int> calls{0};
  auto limits = small_limits();
  limits.header_timeout = 600ms;
  limits.body_timeout = 600ms;
  limits.idle_timeout = 600ms;
  auto srv = server::start("127.0.0.1", 0, limits, counting_echo(calls));
  client c(srv->port());
  auto begin = clock_type::now();
  for (int i = 0; i < 8; ++i) {
    CAF_REQUIRE(c.send(post("/asr", "abc")));
    CAF_REQUIRE(c.read());
    std::this_thread::sleep_for(150ms);  // idle well under the timeout
  }
  CAF_CHECK(clock_type::now() - begin > 1000ms);  // longer than any one deadline
  CAF_CHECK_EQUAL(calls.load(), 8);
}

CAF_TEST(connections over the limit get 503) {
  auto limits = small_limits();
  limits.max_connections = 2;
  auto srv = start_echo(limits);
  auto a = std::make_unique<client>(srv->port());
  client b(srv->port());
  for (auto* c : {a.get(), &b}) {  // both admitted before the third arrives
    CAF_REQUIRE(c->send(get("/")));
    CAF_REQUIRE(c->read());
  }
  {
    client third(srv->port());
    check_error(third.read(), 503, "overloaded");
    CAF_CHECK(third.closed_by_peer());
  }
  a.reset();  // frees a place once the server notices
  CAF_CHECK(wait_open(*srv, 1));
  client fourth(srv->port());
  CAF_REQUIRE(fourth.send(get("/")));
  auto r = fourth.read();
  CAF_REQUIRE(r);
  CAF_CHECK_EQUAL(r->status, 200u);
}

CAF_TEST(a reply made later from another thread arrives) {
  mailbox box;
  auto srv = server::start("127.0.0.1", 0, small_limits(),
                           [&box](request q, responder r) { box.put(std::move(q), r); });
  client c(srv->port());
  auto item = send_and_take(c, box, post("/synthesize", "{}"));
  std::thread later([r = item->second] {
    std::this_thread::sleep_for(200ms);
    r(response{201, "text/plain", {{"X-Late", "1"}}, "late"});
  });
  auto got = c.read();
  later.join();
  CAF_REQUIRE(got);
  CAF_CHECK_EQUAL(got->status, 201u);
  CAF_CHECK_EQUAL(got->body, "late");
  CAF_CHECK_EQUAL(got->header("X-Late").value_or(""), "1");
  item->second(response{200, "text/plain", {}, "twice"});  // a second call does nothing
  auto next = send_and_take(c, box, get("/again"));
  next->second(response{200, "text/plain", {}, "again"});
  got = c.read();
  CAF_REQUIRE(got);
  CAF_CHECK_EQUAL(got->body, "again");
}

CAF_TEST(a reply after the client disconnected is harmless) {
  mailbox box;
  auto srv = server::start("127.0.0.1", 0, small_limits(),
                           [&box](request q, responder r) { box.put(std::move(q), r); });
  {
    client c(srv->port());
    auto item = send_and_take(c, box, post("/asr", std::string(500, 'a')));
    c.close();
    std::this_thread::sleep_for(50ms);
    std::thread later([r = item->second] { r(response{200, "text/plain", {}, "nobody"}); });
    later.join();
  }
  CAF_CHECK(wait_open(*srv, 0));  // the failed write or the EOF after it ends the session
  client c(srv->port());             // and the server still serves
  auto item = send_and_take(c, box, get("/"));
  item->second(response{200, "text/plain", {}, "alive"});
  auto r = c.read();
  CAF_REQUIRE(r);
  CAF_CHECK_EQUAL(r->body, "alive");
}

CAF_TEST(handler exceptions and dropped responders become 500) {
  auto srv = server::start("127.0.0.1", 0, small_limits(), [](request q, responder r) {
    if (q.target == "/throw") throw std::runtime_error("boom");
    if (q.target == "/drop") return;
    echo(std::move(q), std::move(r));
  });
  client c(srv->port());
  CAF_REQUIRE(c.send(get("/throw")));
  check_error(c.read(), 500, "internal");
  CAF_REQUIRE(c.send(get("/drop")));
  check_error(c.read(), 500, "internal");
  CAF_REQUIRE(c.send(get("/fine")));  // the same connection still serves
  auto r = c.read();
  CAF_REQUIRE(r);
  CAF_CHECK_EQUAL(r->status, 200u);
}

CAF_TEST(stop with open connections returns promptly) {
  mailbox box;
  auto srv = server::start("127.0.0.1", 0, small_limits(),
                           [&box](request q, responder r) { box.put(std::move(q), r); });
  client busy(srv->port());
  client idle(srv->port());
  client partial(srv->port());
  client forgotten(srv->port());
  auto parked = send_and_take(busy, box, get("/busy"));
  auto never = send_and_take(forgotten, box, get("/forgotten"));
  auto answered = send_and_take(idle, box, get("/idle"));
  answered->second(response{200, "text/plain", {}, "ok"});
  CAF_REQUIRE(idle.read());
  CAF_REQUIRE(partial.send("GET / HTTP/1.1\r\nHo"));
  CAF_CHECK(wait_open(*srv, 4));
  auto begin = clock_type::now();
  srv->stop();
  CAF_CHECK(clock_type::now() - begin < 2000ms);  // in practice a few milliseconds
  CAF_CHECK_EQUAL(srv->open_connections(), 0u);
  CAF_CHECK(busy.closed_by_peer());
  CAF_CHECK(idle.closed_by_peer());
  CAF_CHECK(partial.closed_by_peer());
  CAF_CHECK(forgotten.closed_by_peer());
  parked->second(response{});  // after stop: dropped
  srv->stop();                 // idempotent
  srv.reset();
  parked->second(response{});  // after the server died: dropped
  never.reset();  // never called, outlives the server: its destructor must stay harmless
}

CAF_TEST(stop finishing replies writes a reply already given and closes the rest) {
  mailbox box;
  auto srv = server::start("127.0.0.1", 0, small_limits(),
                           [&box](request q, responder r) { box.put(std::move(q), r); });
  client slow(srv->port());     // gets a reply too big for the socket buffers, reads it late
  client waiting(srv->port());  // its handler has not answered: closed at once
  client idle(srv->port());     // between requests: closed at once
  auto big = send_and_take(slow, box, get("/big"));
  auto pending = send_and_take(waiting, box, get("/pending"));
  auto answered = send_and_take(idle, box, get("/idle"));
  answered->second(response{200, "text/plain", {}, "ok"});
  CAF_REQUIRE(idle.read());
  const std::string body(32 * 1024 * 1024, 'x');
  big->second(response{200, "text/plain", {}, body});
  std::atomic<bool> stopped{false};
  std::thread stopper([&] {
    srv->stop(10000ms);
    stopped = true;
  });
  CAF_CHECK(waiting.closed_by_peer());
  CAF_CHECK(idle.closed_by_peer());
  CAF_CHECK(!stopped);  // still writing to `slow`, which has not read yet
  auto got = slow.read(false, 10000ms);
  stopper.join();
  CAF_REQUIRE(got);
  CAF_CHECK_EQUAL(got->status, 200u);
  CAF_CHECK_EQUAL(got->body.size(), body.size());
  CAF_CHECK(slow.closed_by_peer());  // then the connection ends
  CAF_CHECK_EQUAL(srv->open_connections(), 0u);
  pending->second(response{});  // after stop: dropped
}

CAF_TEST(concurrent clients on two io threads) {
  auto limits = small_limits();
  limits.threads = 2;
  auto srv = start_echo(limits);
  std::atomic<int> ok{0};
  std::vector<std::thread> clients;
  for (int t = 0; t < 4; ++t)
    clients.emplace_back([&ok, t, port = srv->port()] {
      try {
        client c(port);
        for (int i = 0; i < 25; ++i) {
          auto body = std::to_string(t) + "/" + std::to_string(i);
          if (!c.send(post("/", body))) return;
          auto r = c.read();
          if (r && r->status == 200 && nlohmann::json::parse(r->body)["body"] == body) ++ok;
        }
      } catch (const std::exception&) {  // counted as missing replies
      }
    });
  for (auto& t : clients) t.join();
  CAF_CHECK_EQUAL(ok.load(), 100);
}

CAF_TEST(binding a port in use names the address) {
  auto srv = start_echo();
  auto port = std::to_string(srv->port());
  try {
    server::start("127.0.0.1", srv->port(), small_limits(), echo);
    CAF_FAIL("the second bind succeeded");
  } catch (const std::runtime_error& e) {
    CAF_CHECK(std::string(e.what()).find("127.0.0.1:" + port) != std::string::npos);
  }
  bool threw = false;
  try {
    server::start("no.such.host.invalid", 0, small_limits(), echo);
  } catch (const std::runtime_error&) {
    threw = true;
  }
  CAF_CHECK(threw);
}

// --- Hostile clients: every buffer bounded ---------------------------------------------

CAF_TEST(an endless chunk extension or chunk size line is 431 at once) {
  std::atomic<int> calls{0};
  auto srv = server::start("127.0.0.1", 0, patient_limits(), counting_echo(calls));
  {
    client c(srv->port());  // the extension never ends: once over 64 KiB, the answer
    CAF_REQUIRE(c.send(chunked_head + "1;ext="));
    send_filler(c, 256 * 1024, 'a');
    auto r = c.read();
    check_error(r, 431, "too_large");
    CAF_CHECK(contains(error_message(r), "chunk"));
    CAF_CHECK_EQUAL(r->header("Connection").value_or(""), "close");
    CAF_CHECK(c.closed_by_peer());
  }
  {
    client c(srv->port());  // a chunk size of endless leading zeros
    CAF_REQUIRE(c.send(chunked_head));
    send_filler(c, 256 * 1024, '0');
    auto r = c.read();
    check_error(r, 431, "too_large");
    CAF_CHECK(contains(error_message(r), "chunk size line"));
    CAF_CHECK(c.closed_by_peer());
  }
  CAF_CHECK_EQUAL(calls.load(), 0);
}

CAF_TEST(chunk extensions count together against the header limit) {
  std::atomic<int> calls{0};
  auto srv = server::start("127.0.0.1", 0, patient_limits(), counting_echo(calls));
  {
    client c(srv->port());  // each line is short; 80 of them are 80 KB of extensions
    std::string chunks;
    for (int i = 0; i < 80; ++i) chunks += "1;x=" + std::string(1000, 'e') + "\r\nz\r\n";
    CAF_REQUIRE(c.send(chunked_head));
    c.send(chunks + "0\r\n\r\n");  // the server may close before it has all of it
    auto r = c.read();
    check_error(r, 431, "too_large");
    CAF_CHECK(contains(error_message(r), "chunk extensions"));
    CAF_CHECK(c.closed_by_peer());
  }
  {
    client c(srv->port());  // a few small extensions are fine
    CAF_REQUIRE(c.send(chunked_head + "2;a=b\r\nzz\r\n1;name=\"quoted\"\r\ny\r\n0;last\r\n\r\n"));
    auto r = c.read();
    CAF_REQUIRE(r);
    CAF_CHECK_EQUAL(r->status, 200u);
    CAF_CHECK_EQUAL(field(*r, "body"), "zzy");
  }
  CAF_CHECK_EQUAL(calls.load(), 1);
}

CAF_TEST(a trailer over the header limit is 431 at once) {
  std::atomic<int> calls{0};
  auto srv = server::start("127.0.0.1", 0, patient_limits(), counting_echo(calls));
  {
    client c(srv->port());  // the trailer's field never ends
    CAF_REQUIRE(c.send(chunked_head + "5\r\nhello\r\n0\r\nX-Big: "));
    send_filler(c, 256 * 1024, 'b');
    auto r = c.read();
    check_error(r, 431, "too_large");
    CAF_CHECK(contains(error_message(r), "trailer"));
    CAF_CHECK(c.closed_by_peer());
  }
  {
    client c(srv->port());  // many complete fields, over 64 KiB in all
    std::string trailer;
    while (trailer.size() < 100 * 1024) trailer += "X-T: " + std::string(100, 't') + "\r\n";
    CAF_REQUIRE(c.send(chunked_head + "5\r\nhello\r\n0\r\n"));
    c.send(trailer + "\r\n");
    auto r = c.read();
    check_error(r, 431, "too_large");
    CAF_CHECK(contains(error_message(r), "trailer"));
    CAF_CHECK(c.closed_by_peer());
  }
  {
    client c(srv->port());  // a small trailer is fine
    CAF_REQUIRE(c.send(chunked_head + "5\r\nhello\r\n0\r\nX-Trailer: yes\r\n\r\n"));
    auto r = c.read();
    CAF_REQUIRE(r);
    CAF_CHECK_EQUAL(r->status, 200u);
    CAF_CHECK_EQUAL(field(*r, "body"), "hello");
  }
  CAF_CHECK_EQUAL(calls.load(), 1);
}

CAF_TEST(fields are counted header and trailer together) {
  // 64 KiB of tiny fields cost Beast 20 times as much memory: their number is bounded.
  std::atomic<int> calls{0};
  auto srv = server::start("127.0.0.1", 0, patient_limits(), counting_echo(calls));
  auto fields = [](int n) {
    std::string out;
    for (int i = 0; i < n; ++i) out += "a" + std::to_string(i) + ":\r\n";
    return out;
  };
  {
    client c(srv->port());  // well under 64 KiB, but 5,000 fields
    CAF_REQUIRE(c.send("POST /asr HTTP/1.1\r\nHost: t\r\n" + fields(5000) +
                       "Content-Length: 100\r\n\r\n"));
    auto r = c.read();  // at once: not after waiting for the body
    check_error(r, 431, "too_large");
    CAF_CHECK(contains(error_message(r), "100 fields"));
    CAF_CHECK(c.closed_by_peer());
  }
  {
    client c(srv->port());  // a trailer of 60 fields after a header of 50
    CAF_REQUIRE(c.send("POST /asr HTTP/1.1\r\nHost: t\r\n" + fields(47) +
                       "Transfer-Encoding: chunked\r\n\r\n1\r\nz\r\n0\r\n" + fields(60) + "\r\n"));
    auto r = c.read();
    check_error(r, 431, "too_large");
    CAF_CHECK(contains(error_message(r), "trailer included"));
  }
  {
    client c(srv->port());  // 100 in all is fine
    CAF_REQUIRE(c.send("POST /asr HTTP/1.1\r\nHost: t\r\n" + fields(47) +
                       "Transfer-Encoding: chunked\r\n\r\n1\r\nz\r\n0\r\n" + fields(51) + "\r\n"));
    auto r = c.read();
    CAF_REQUIRE(r);
    CAF_CHECK_EQUAL(r->status, 200u);
    auto j = body_json(*r);
    CAF_CHECK_EQUAL(j["header_count"], 100u);
  }
  CAF_CHECK_EQUAL(calls.load(), 1);
}

CAF_TEST(one address cannot take every connection) {
  std::mutex mu;
  std::vector<refusal> heard;
  auto limits = small_limits();
  limits.max_connections = 4;
  limits.max_connections_per_address = 2;
  auto srv = server::start("127.0.0.1", 0, limits, echo, [&](const refusal& r, response&) {
    std::lock_guard<std::mutex> lock(mu);
    heard.push_back(r);
  });
  auto a1 = std::make_unique<client>(srv->port(), "127.0.0.1");
  client a2(srv->port(), "127.0.0.1");
  for (auto* c : {a1.get(), &a2}) {  // both admitted before the third arrives
    CAF_REQUIRE(c->send(get("/")));
    CAF_REQUIRE(c->read());
  }
  {
    client a3(srv->port(), "127.0.0.1");
    auto r = a3.read();
    check_error(r, 429, "too_many_connections");
    CAF_CHECK(contains(error_message(r), "127.0.0.1"));
    CAF_CHECK(a3.closed_by_peer());
  }
  client b1(srv->port(), "127.0.0.2");  // another address still gets in
  CAF_REQUIRE(b1.send(get("/")));
  auto r = b1.read();
  CAF_REQUIRE(r);
  CAF_CHECK_EQUAL(r->status, 200u);
  a1.reset();  // frees a place of 127.0.0.1 once the server notices
  CAF_CHECK(wait_open(*srv, 2));
  client a4(srv->port(), "127.0.0.1");
  CAF_REQUIRE(a4.send(get("/")));
  r = a4.read();
  CAF_REQUIRE(r);
  CAF_CHECK_EQUAL(r->status, 200u);
  std::lock_guard<std::mutex> lock(mu);
  CAF_REQUIRE_EQUAL(heard.size(), 1u);
  CAF_CHECK_EQUAL(heard[0].status, 429u);
  CAF_CHECK_EQUAL(heard[0].code, "too_many_connections");
}

CAF_TEST(connections being refused are bounded too) {
  // One place, taken; a burst of ten more. Each gets its 503 or is closed at once, and
  // the server never holds more than the cap again in refusals (answering, lingering).
  auto limits = small_limits();
  limits.max_connections = 1;
  auto srv = start_echo(limits);
  client held(srv->port());
  CAF_REQUIRE(held.send(get("/")));
  CAF_REQUIRE(held.read());
  std::vector<std::unique_ptr<client>> burst;
  for (int i = 0; i < 10; ++i) burst.push_back(std::make_unique<client>(srv->port()));
  int answered = 0;
  for (auto& c : burst) {
    auto r = c->read(false, 3000ms);
    if (r) {
      ++answered;
      CAF_CHECK_EQUAL(r->status, 503u);
    }
    CAF_CHECK(c->closed_by_peer(3000ms));
    CAF_CHECK_LESS_OR_EQUAL(srv->open_connections(), 2u);
  }
  CAF_CHECK_GREATER_OR_EQUAL(answered, 1);
  CAF_CHECK_LESS(answered, 10);
}

CAF_TEST(bodies over the budget are 503 with retry after and not read) {
  mailbox box;
  auto limits = small_limits();  // bodies up to 1000 bytes
  limits.body_budget = 2500;
  std::mutex mu;
  std::vector<refusal> heard;
  auto srv = server::start(
      "127.0.0.1", 0, limits, [&box](request q, responder r) { box.put(std::move(q), r); },
      [&](const refusal& r, response&) {
        std::lock_guard<std::mutex> lock(mu);
        heard.push_back(r);
      });
  client c1(srv->port());
  client c2(srv->port());
  auto first = send_and_take(c1, box, post("/asr", std::string(1000, 'a')));
  auto second = send_and_take(c2, box, post("/asr", std::string(1000, 'b')));
  CAF_CHECK_EQUAL(srv->body_bytes_reserved(), 2000u);  // held while the handler works
  {
    client c3(srv->port());  // header only: the answer must not wait for the body
    CAF_REQUIRE(c3.send("POST /asr HTTP/1.1\r\nHost: t\r\nContent-Length: 1000\r\n\r\n"));
    auto r = c3.read();
    check_error(r, 503, "busy");
    CAF_CHECK_EQUAL(r->header("Retry-After").value_or(""), "1");
    CAF_CHECK_EQUAL(r->header("Connection").value_or(""), "close");
    CAF_CHECK(contains(error_message(r), "2500"));
    CAF_CHECK(c3.closed_by_peer());
  }
  {
    client c3(srv->port());  // 100-continue: refused before the client sends the body
    CAF_REQUIRE(c3.send("POST /asr HTTP/1.1\r\nHost: t\r\nContent-Length: 1000\r\n"
                        "Expect: 100-continue\r\n\r\n"));
    check_error(c3.read(), 503, "busy");
  }
  client c4(srv->port());  // a smaller body still fits
  auto third = send_and_take(c4, box, post("/asr", std::string(400, 'c')));
  CAF_CHECK_EQUAL(srv->body_bytes_reserved(), 2400u);
  first->second(response{200, "text/plain", {}, "one"});  // its reservation comes back
  CAF_REQUIRE(c1.read());
  CAF_CHECK(wait_reserved(*srv, 1400));
  client c5(srv->port());
  auto fourth = send_and_take(c5, box, post("/asr", std::string(1000, 'd')));
  for (auto* item : {&second, &third, &fourth}) (*item)->second(response{});
  CAF_CHECK(wait_reserved(*srv, 0));
  CAF_CHECK_EQUAL(box.call_count(), 4u);
  std::lock_guard<std::mutex> lock(mu);
  CAF_REQUIRE_EQUAL(heard.size(), 2u);
  CAF_CHECK_EQUAL(heard[0].status, 503u);
  CAF_CHECK_EQUAL(heard[0].code, "busy");
  CAF_CHECK_EQUAL(heard[0].method, "POST");
}

CAF_TEST(chunked bodies reserve chunk by chunk) {
  mailbox box;
  auto limits = patient_limits();
  limits.body_budget = 1500;
  auto srv = server::start("127.0.0.1", 0, limits,
                           [&box](request q, responder r) { box.put(std::move(q), r); });
  client c1(srv->port());
  auto held = send_and_take(c1, box, post("/asr", std::string(1000, 'a')));
  {
    client c2(srv->port());
    std::string chunk(300, 'z');  // 0x12c bytes
    CAF_REQUIRE(c2.send(chunked_head + "12c\r\n" + chunk + "\r\n"));
    CAF_CHECK(wait_reserved(*srv, 1300));  // the first chunk fits
    CAF_REQUIRE(c2.send("12c\r\n" + chunk + "\r\n"));
    auto r = c2.read();
    check_error(r, 503, "busy");
    CAF_CHECK_EQUAL(r->header("Retry-After").value_or(""), "1");
    CAF_CHECK(c2.closed_by_peer());
  }
  CAF_CHECK(wait_reserved(*srv, 1000));
  held->second(response{});
  CAF_CHECK(wait_reserved(*srv, 0));
  CAF_CHECK_EQUAL(box.call_count(), 1u);
}

CAF_TEST(the budget comes back after errors disconnects timeouts and dropped replies) {
  mailbox box;
  auto limits = small_limits();
  limits.body_timeout = 300ms;
  limits.body_budget = 2500;
  auto srv = server::start("127.0.0.1", 0, limits, [&box](request q, responder r) {
    if (q.target == "/throw") throw std::runtime_error("boom");
    if (q.target == "/drop") return;
    box.put(std::move(q), r);
  });
  {
    client c(srv->port());  // gone in the middle of the body
    CAF_REQUIRE(c.send("POST /asr HTTP/1.1\r\nHost: t\r\nContent-Length: 1000\r\n\r\nabc"));
    CAF_CHECK(wait_reserved(*srv, 1000));
  }
  CAF_CHECK(wait_reserved(*srv, 0));
  {
    client c(srv->port());  // too slow: the body timeout closes it
    CAF_REQUIRE(c.send("POST /asr HTTP/1.1\r\nHost: t\r\nContent-Length: 1000\r\n\r\nabc"));
    CAF_CHECK(c.closed_by_peer(3000ms));
    CAF_CHECK(wait_reserved(*srv, 0));
  }
  {
    client c(srv->port());  // a chunked body cut by the body limit, then a malformed one
    CAF_REQUIRE(c.send(chunked_head + "258\r\n" + std::string(600, 'x') + "\r\n258\r\n"));
    check_error(c.read(), 413, "too_large");
    CAF_CHECK(wait_reserved(*srv, 0));
    client d(srv->port());
    CAF_REQUIRE(d.send(chunked_head + "258\r\n" + std::string(600, 'x') + "\r\nnot hex\r\n"));
    check_error(d.read(), 400, "bad_request");
    CAF_CHECK(wait_reserved(*srv, 0));
  }
  {
    client c(srv->port());  // the handler throws, or drops the responder: 500s
    CAF_REQUIRE(c.send(post("/throw", std::string(700, 't'))));
    check_error(c.read(), 500, "internal");
    CAF_REQUIRE(c.send(post("/drop", std::string(700, 'd'))));
    check_error(c.read(), 500, "internal");
    CAF_CHECK(wait_reserved(*srv, 0));
  }
  std::optional<std::pair<request, responder>> orphan;
  {
    client c(srv->port());  // the client leaves while the handler still holds the body
    orphan = send_and_take(c, box, post("/asr", std::string(800, 'o')));
  }
  // (nothing is read while the handler works: the server learns of it when it replies)
  CAF_CHECK_EQUAL(srv->body_bytes_reserved(), 800u);  // the body is still in memory
  orphan->second(response{});                          // until the handler lets it go
  CAF_CHECK_EQUAL(srv->body_bytes_reserved(), 0u);
  client c(srv->port());  // and a stop with a request in the handler's hands
  auto parked = send_and_take(c, box, post("/asr", std::string(900, 'p')));
  srv->stop();
  CAF_CHECK_EQUAL(srv->body_bytes_reserved(), 900u);
  parked.reset();  // dropped without a reply
  CAF_CHECK_EQUAL(srv->body_bytes_reserved(), 0u);
}

CAF_TEST(a body budget below the body limit cannot start) {
  auto limits = small_limits();  // bodies up to 1000 bytes
  limits.body_budget = 999;      // such a body could never be read
  bool threw = false;
  try {
    server::start("127.0.0.1", 0, limits, echo);
  } catch (const std::invalid_argument& e) {
    threw = true;
    CAF_CHECK(contains(e.what(), "999"));
  }
  CAF_CHECK(threw);
  limits.body_budget = 1000;
  CAF_CHECK(server::start("127.0.0.1", 0, limits, echo) != nullptr);
}

CAF_TEST(error response is the json of api md) {
  auto r = error_response(503, "no_backend", "no healthy tts backend is known in the network");
  CAF_CHECK_EQUAL(r.status, 503u);
  CAF_CHECK_EQUAL(r.content_type, "application/json");
  CAF_CHECK_EQUAL(r.body,
                  R"({"response_code": 1, "error": {"code": "no_backend", "message": )"
                  R"("no healthy tts backend is known in the network"}})");
  auto expected = nlohmann::json{
      {"response_code", 1},
      {"error",
       {{"code", "no_backend"}, {"message", "no healthy tts backend is known in the network"}}}};
  CAF_CHECK_EQUAL(nlohmann::json::parse(r.body), expected);
  std::string tricky = "quote \" backslash \\ newline \n tab \t bell \a";
  auto e = nlohmann::json::parse(error_response(400, "bad_request", tricky).body);
  CAF_CHECK_EQUAL(e["error"]["message"], tricky);
}
