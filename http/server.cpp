#include "http/server.hpp"
#include "http/address_counts.hpp"
#include "http/appended_body.hpp"
#include "http/body_budget.hpp"
#include "http/bulk_io.hpp"
#include "http/io_runtime_impl.hpp"
#include "http/parse_feed.hpp"
#include "http/request_bounds.hpp"
#include "http/text.hpp"
#include "http/wire_head.hpp"

#include <algorithm>
#include <array>
#include <atomic>
#include <cctype>
#include <condition_variable>
#include <cstdio>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <thread>
#include <unordered_map>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>

namespace sova::http {

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;
using error_code = boost::system::error_code;
using namespace std::chrono_literals;

/// What a refusal for the body budget tells the client to wait, in seconds: bodies come
/// back as requests finish.
constexpr const char* budget_retry_after = "1";
/// After the last response on a connection, how long unread request bytes are drained
/// so that closing does not reset the connection before the client read the response.
constexpr std::chrono::milliseconds max_linger = 2s;
/// Pause after a failed accept (e.g. out of descriptors), so the loop does not spin.
constexpr std::chrono::milliseconds accept_retry = 50ms;

std::string_view sv(beast::string_view s) { return {s.data(), s.size()}; }


std::string json_string(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          char esc[8];
          std::snprintf(esc, sizeof esc, "\\u%04x", static_cast<unsigned>(c));
          out += esc;
        } else {
          out += c;
        }
    }
  }
  return out + "\"";
}

std::string to_string(const tcp::endpoint& ep) {
  auto addr = ep.address();
  auto host = addr.is_v6() ? "[" + addr.to_string() + "]" : addr.to_string();
  return host + ":" + std::to_string(ep.port());
}

/// Shared by the server and every responder: once closed, a late reply is dropped, and the
/// check and the post happen under one lock so that the io_context cannot die in between.
struct reply_gate {
  std::mutex mutex;
  bool closed = false;
};

class session;

}  // namespace

// ---------------------------------------------------------------------------------------

// Shared by the server object and every pending handler (they hold it, not a plain
// reference): on a runtime shared with others, handlers may still run after stop().
struct server::impl : std::enable_shared_from_this<server::impl> {
  impl(std::shared_ptr<io_runtime> rt, bool owned)
      : runtime(std::move(rt)), owns_runtime(owned), io(runtime->internals().io) {}

  std::shared_ptr<io_runtime> runtime;  // first: the io_context outlives the sockets below
  bool owns_runtime;
  asio::io_context& io;
  server_limits limits;
  handler on_request;
  refusal_hook on_refusal;
  tcp::acceptor acceptor{asio::make_strand(io)};
  asio::steady_timer retry{acceptor.get_executor()};
  std::shared_ptr<reply_gate> gate = std::make_shared<reply_gate>();
  std::once_flag stopped;
  std::uint16_t port = 0;

  mutable std::mutex mutex;  // guards the fields below
  std::condition_variable closed_one;  // a session forgot itself
  std::unordered_map<session*, std::shared_ptr<session>> sessions;
  std::size_t serving = 0;   // sessions that are not being refused
  std::size_t refusing = 0;  // sessions being refused (answered, then lingering)
  address_counts per_address;  // of the sessions being served
  bool stopping = false;

  std::shared_ptr<body_budget> budget;  // thread-safe by itself

  /// What becomes of a new connection.
  enum class admission {
    serve,
    too_many,               // 503: max_connections are served
    too_many_from_address,  // 429: its address has max_connections_per_address
    close,                  // as many are being refused already: closed without a word
    stopping,
  };

  void bind(const std::string& host, std::uint16_t port);
  void accept_next();
  void on_accept(const error_code& ec, tcp::socket socket);
  /// Registers a new session unless it is closed at once (`close`, `stopping`).
  admission admit(const std::shared_ptr<session>& s, const std::string& address);
  void forget(session* s, bool refused, const std::string& address);
  void stop(std::chrono::milliseconds finish_replies);
};

namespace {

/// One connection: reads a request, waits for its reply, writes it, and again.
/// It reads with plain socket reads and feeds Beast's parser itself, and keeps one lazy
/// deadline timer (see expire_in): Beast's composed reads and per-operation timers cost
/// more than the rest of proxying a small request (issue 3, measured with callgrind).
class session : public std::enable_shared_from_this<session> {
public:
  session(std::shared_ptr<server::impl> owner, tcp::socket socket);
  asio::any_io_executor executor() { return socket_.get_executor(); }
  /// The client's address, as connections are counted per address.
  const std::string& address() const { return address_; }
  void start() { read_header(owner_->limits.header_timeout); }
  /// Answers a connection that admit() turned away, and closes it.
  void refuse(server::impl::admission why);
  /// Answers with an error of status, code and message and closes: the hook hears of it
  /// first. Whatever the request reserved of the body budget goes back.
  void answer_without_handler(unsigned status, std::string code, std::string message,
                              std::vector<std::pair<std::string, std::string>> headers = {});
  void deliver(std::uint64_t seq, response r);
  void close_now();
  /// The server stops: a reply being written is finished first, anything else closes now.
  void shut_down();

private:
  using clock = std::chrono::steady_clock;

  void read_header(std::chrono::milliseconds timeout);
  void parse_buffered();
  bool header_read();
  void read_more();
  void on_read(const error_code& ec, std::size_t n);
  void on_read_error(const error_code& ec);
  /// Beast's callback for each chunk's size line (after body_limit checked the size).
  void on_chunk_header(std::uint64_t size, beast::string_view extensions, error_code& ec);
  void dispatch();
  void write(response r, bool keep_alive);
  void on_write(const error_code& ec, bool keep_alive);
  void wait_idle();
  void linger();
  void drain();

  /// The connection closes when `d` has passed without another expire_in or expire_never.
  /// Moving the deadline later only stores it: the timer, when it fires, waits again for
  /// the rest. Only an earlier deadline re-arms it.
  void expire_in(std::chrono::milliseconds d);
  void expire_never() { deadline_ = clock::time_point::max(); }
  void arm_timer();
  void on_timer(const error_code& ec, std::uint64_t wait);

  std::shared_ptr<server::impl> owner_;
  tcp::socket socket_;
  asio::steady_timer timer_;
  clock::time_point deadline_ = clock::time_point::max();
  clock::time_point timer_at_ = clock::time_point::max();  // max: the timer is not waiting
  std::uint64_t timer_wait_ = 0;  // numbers the timer's waits: only the latest counts
  beast::flat_buffer buffer_{read_buffer_limit};
  std::optional<bhttp::request_parser<appended_body>> parser_;
  // Beast keeps a reference to the callback, which must outlive each parser.
  std::function<void(std::uint64_t, beast::string_view, error_code&)> chunk_header_;
  std::size_t chunk_extension_bytes_ = 0;  // of the current request
  body_reservation reservation_;  // the current request's body, until dispatched
  bool header_seen_ = false;  // the current parser's header was told by feed()
  std::string out_head_;  // the reply being written: head, then body (kept for reuse)
  std::string out_body_;
  std::string remote_;
  std::string address_;  // address_key() of the client
  std::array<char, 4096> scratch_{};  // where lingering input is discarded
  std::uint64_t seq_ = 0;  // numbers requests, so a reply finds only its own request
  bool waiting_ = false;   // the handler owns the current request
  bool keep_alive_ = false;
  bool head_ = false;
  unsigned version_ = 11;
  bool refused_ = false;
  bool closed_ = false;
  bool writing_ = false;  // a reply is on its way out
  bool closing_ = false;  // the server stops: close once the reply is out
};

/// Behind every copy of one responder: delivers at most one reply, and a 500 when the
/// handler drops the request without replying. The request's body stays reserved against
/// the body budget as long as the handler may hold it: until it replies, or drops every
/// copy of the responder.
struct reply_slot {
  std::shared_ptr<reply_gate> gate;
  std::weak_ptr<session> target;
  std::uint64_t seq;
  std::atomic<bool> used{false};
  body_reservation body;  // touched only by the first deliver(), or the destructor

  reply_slot(std::shared_ptr<reply_gate> g, std::weak_ptr<session> t, std::uint64_t n,
             body_reservation b)
      : gate(std::move(g)), target(std::move(t)), seq(n), body(std::move(b)) {}
  reply_slot(const reply_slot&) = delete;
  reply_slot& operator=(const reply_slot&) = delete;

  void deliver(response r) {
    if (used.exchange(true)) return;
    body.release();
    std::lock_guard<std::mutex> lock(gate->mutex);
    if (gate->closed) return;
    if (auto s = target.lock()) {
      auto ex = s->executor();
      asio::post(ex, [s = std::move(s), n = seq, r = std::move(r)]() mutable {
        s->deliver(n, std::move(r));
      });
    }
  }

  ~reply_slot() {
    if (used) return;
    try {
      deliver(error_response(500, "internal", "the request was dropped without a reply"));
    } catch (...) {  // nothing sensible left to do in a destructor
    }
  }
};

request to_request(bhttp::request<appended_body>&& msg, const std::string& remote) {
  request r;
  r.method = std::string(sv(msg.method_string()));
  r.target = std::string(sv(msg.target()));
  for (const auto& f : msg) r.headers.emplace_back(sv(f.name_string()), sv(f.value()));
  r.body = std::move(msg.body());
  r.remote = remote;
  return r;
}

session::session(std::shared_ptr<server::impl> owner, tcp::socket socket)
    : owner_(std::move(owner)), socket_(std::move(socket)), timer_(socket_.get_executor()) {
  error_code ec;
  auto ep = socket_.remote_endpoint(ec);
  if (!ec) {
    remote_ = to_string(ep);
    address_ = address_key(ep.address());
  }
  chunk_header_ = [this](std::uint64_t size, beast::string_view extensions, error_code& e) {
    on_chunk_header(size, extensions, e);
  };
}

void session::refuse(server::impl::admission why) {
  refused_ = true;
  if (why == server::impl::admission::too_many_from_address)
    return answer_without_handler(
        429, "too_many_connections",
        "more than " + std::to_string(owner_->limits.max_connections_per_address) +
            " open connections from " + address_ + "; close some before opening more");
  answer_without_handler(503, "overloaded", "too many open connections");
}

void session::answer_without_handler(unsigned status, std::string code, std::string message,
                                     std::vector<std::pair<std::string, std::string>> headers) {
  reservation_.release();  // the body will not be kept
  auto r = error_response(status, code, message);
  r.headers = std::move(headers);
  if (owner_->on_refusal) {
    refusal what;
    what.status = r.status;
    what.code = std::move(code);
    what.remote = remote_;
    if (parser_) {  // what of the header was read (all of it when the body was too large)
      const auto& head = parser_->get();
      what.method = std::string(sv(head.method_string()));
      what.target = std::string(sv(head.target()));
      for (const auto& f : head) {
        if (what.headers.size() == field_limit) break;  // more were refused
        what.headers.emplace_back(sv(f.name_string()), sv(f.value()));
      }
    }
    try {
      owner_->on_refusal(what, r);
    } catch (...) {  // a log or metric failing must not take the connection with it
    }
  }
  // The connection closes after this answer: what the request took goes at once, not
  // after the linger.
  parser_.reset();
  buffer_.consume(buffer_.size());
  buffer_.shrink_to_fit();
  write(std::move(r), false);
}

void session::expire_in(std::chrono::milliseconds d) {
  deadline_ = clock::now() + d;
  if (deadline_ < timer_at_) arm_timer();
}

void session::arm_timer() {
  timer_at_ = deadline_;
  timer_.expires_at(deadline_);  // a wait already pending ends with operation_aborted
  timer_.async_wait([self = shared_from_this(), n = ++timer_wait_](const error_code& ec) {
    self->on_timer(ec, n);
  });
}

void session::on_timer(const error_code& ec, std::uint64_t wait) {
  if (closed_ || wait != timer_wait_) return;  // closed, or re-armed since
  timer_at_ = clock::time_point::max();
  if (ec || deadline_ == clock::time_point::max()) return;
  if (clock::now() < deadline_) return arm_timer();  // moved later meanwhile
  close_now();  // the pending read or write ends with operation_aborted
}

void session::read_header(std::chrono::milliseconds timeout) {
  parser_.emplace();
  parser_->header_limit(head_limit);
  parser_->body_limit(owner_->limits.max_body);
  parser_->on_chunk_header(chunk_header_);
  chunk_extension_bytes_ = 0;
  reservation_ = body_reservation(owner_->budget);
  header_seen_ = false;
  expire_in(timeout);
  parse_buffered();
}

/// Feeds what is buffered to the parser, then dispatches the request or reads more.
void session::parse_buffered() {
  for (;;) {
    error_code ec;
    switch (feed_bounded(*parser_, buffer_, header_seen_, ec)) {
      case feed_result::error: return on_read_error(ec);
      case feed_result::header:
        if (!header_read()) return;
        break;
      case feed_result::done: return dispatch();
      case feed_result::need_more: return read_more();
    }
  }
}

void session::on_chunk_header(std::uint64_t size, beast::string_view extensions,
                              error_code& ec) {
  ec = count_chunk_extensions(chunk_extension_bytes_, extensions.size());
  if (ec) return;
  if (size > 0 && !reservation_.grow(size)) ec = bound_error::body_budget;
}

/// Checks a header just read; false when the session goes on elsewhere (a refusal, or
/// the 100 Continue being written).
bool session::header_read() {
  auto length = parser_->content_length();
  if (length && *length > owner_->limits.max_body) {  // Beast checks too; be explicit
    on_read_error(bhttp::error::body_limit);
    return false;
  }
  // Before 100 Continue, before a byte of the body: Beast reserves all of it up front.
  if (length && !reservation_.grow(*length)) {
    on_read_error(bound_error::body_budget);
    return false;
  }
  if (parser_->is_done()) return true;
  expire_in(owner_->limits.body_timeout);
  const auto& head = parser_->get();
  if (head.version() >= 11 && iequals(sv(head[bhttp::field::expect]), "100-continue")) {
    static const std::string go_on = "HTTP/1.1 100 Continue\r\n\r\n";
    asio::async_write(socket_, asio::buffer(go_on), everything_left{},
                      [self = shared_from_this()](const error_code& ec, std::size_t) {
                        if (self->closed_) return;
                        if (ec) return self->close_now();
                        self->parse_buffered();
                      });
    return false;
  }
  return true;
}

void session::read_more() {
  if (auto left = body_left_to_read(*parser_))
    return read_body_rest(socket_, parser_->get().body(), left,
                          [self = shared_from_this()](const error_code& ec) {
                            if (self->closed_) return;
                            if (ec) return self->close_now();  // as on_read
                            self->dispatch();
                          });
  socket_.async_read_some(buffer_.prepare(next_read_size(buffer_, header_seen_)),
                          [self = shared_from_this()](const error_code& ec, std::size_t n) {
                            self->on_read(ec, n);
                          });
}

void session::on_read(const error_code& ec, std::size_t n) {
  if (closed_) return;
  // The peer closed (between or inside a message), or the socket failed: nobody is left
  // to read an answer.
  if (ec) return close_now();
  buffer_.commit(n);
  parse_buffered();
}

void session::on_read_error(const error_code& ec) {
  auto limit = std::to_string(head_limit) + " bytes";
  if (ec == bhttp::error::body_limit)
    return answer_without_handler(
        413, "too_large", "request body over " + std::to_string(owner_->limits.max_body) + " bytes");
  if (ec == bhttp::error::header_limit)
    return answer_without_handler(431, "too_large", "request header over " + limit);
  if (ec == bound_error::chunk_line)
    return answer_without_handler(431, "too_large",
                                  "chunk size line (extensions included) over " + limit);
  if (ec == bound_error::chunk_extensions)
    return answer_without_handler(431, "too_large",
                                  "chunk extensions of the request over " + limit + " in all");
  if (ec == bound_error::trailer)
    return answer_without_handler(431, "too_large", "request trailer over " + limit);
  if (ec == bound_error::too_many_fields)
    return answer_without_handler(431, "too_large",
                                  "request with more than " + std::to_string(field_limit) +
                                      " fields (header and trailer included)");
  if (ec == bound_error::body_budget)
    return answer_without_handler(
        503, "busy",
        "the request bodies this node holds would exceed its body budget of " +
            std::to_string(owner_->budget->limit()) + " bytes; retry later",
        {{"Retry-After", budget_retry_after}});
  answer_without_handler(400, "bad_request", "malformed request: " + ec.message());
}

void session::dispatch() {
  expire_never();  // the handler may take its time; nothing is read meanwhile
  auto msg = parser_->release();
  parser_.reset();
  version_ = msg.version();
  keep_alive_ = msg.keep_alive();
  head_ = msg.method() == bhttp::verb::head;
  waiting_ = true;
  auto slot = std::make_shared<reply_slot>(owner_->gate, weak_from_this(), ++seq_,
                                           std::move(reservation_));
  responder reply = [slot](response r) { slot->deliver(std::move(r)); };
  try {
    owner_->on_request(to_request(std::move(msg), remote_), reply);
  } catch (const std::exception& e) {
    reply(error_response(500, "internal", std::string("handler failed: ") + e.what()));
  } catch (...) {
    reply(error_response(500, "internal", "handler failed"));
  }
}

void session::deliver(std::uint64_t seq, response r) {
  if (closed_ || !waiting_ || seq != seq_) return;
  waiting_ = false;
  bool stopping;
  {
    std::lock_guard<std::mutex> lock(owner_->mutex);
    stopping = owner_->stopping;
  }
  write(std::move(r), keep_alive_ && !stopping);
}

void session::write(response r, bool keep_alive) {
  if (r.status < 200 || r.status > 999)
    r = error_response(500, "internal", "the handler gave an invalid status");
  write_response_head(out_head_, version_, r.status, r.content_type, r.headers, keep_alive,
                      r.body.size());  // HEAD: the length of what GET would send
  if (!head_) out_body_ = std::move(r.body);
  std::array<asio::const_buffer, 2> out{asio::buffer(out_head_), asio::buffer(out_body_)};
  writing_ = true;
  expire_in(owner_->limits.body_timeout);
  asio::async_write(socket_, out, everything_left{},
                    [self = shared_from_this(), keep_alive](const error_code& ec, std::size_t) {
                      self->on_write(ec, keep_alive);
                    });
}

void session::on_write(const error_code& ec, bool keep_alive) {
  out_body_ = std::string();  // a large body is not kept while the connection idles
  writing_ = false;
  if (closed_) return;
  if (ec) return close_now();
  if (!keep_alive || closing_) return linger();
  // Pipelined bytes already buffered start the next request at once.
  if (buffer_.size() > 0) return read_header(owner_->limits.header_timeout);
  wait_idle();
}

void session::wait_idle() {
  expire_in(owner_->limits.idle_timeout);
  shrink_when_idle(buffer_);
  socket_.async_read_some(buffer_.prepare(head_read),
                          [self = shared_from_this()](const error_code& ec, std::size_t n) {
                            if (self->closed_) return;
                            if (ec) return self->close_now();
                            self->buffer_.commit(n);
                            self->read_header(self->owner_->limits.header_timeout);
                          });
}

void session::linger() {
  error_code ignored;
  socket_.shutdown(tcp::socket::shutdown_send, ignored);
  expire_in(std::min(max_linger, owner_->limits.idle_timeout));
  drain();
}

void session::drain() {
  socket_.async_read_some(asio::buffer(scratch_),
                          [self = shared_from_this()](const error_code& ec, std::size_t) {
                            if (self->closed_) return;
                            if (ec) return self->close_now();  // EOF, or the socket failed
                            self->drain();
                          });
}

void session::shut_down() {
  closing_ = true;
  if (!writing_) close_now();
}

void session::close_now() {
  if (closed_) return;
  closed_ = true;
  reservation_.release();  // a body being read goes with the connection
  error_code ignored;
  timer_.cancel();
  socket_.close(ignored);
  owner_->forget(this, refused_, address_);
}

}  // namespace

// ---------------------------------------------------------------------------------------

void server::impl::bind(const std::string& host, std::uint16_t port_wanted) {
  auto where = host + ":" + std::to_string(port_wanted);
  error_code ec;
  tcp::endpoint ep;
  auto addr = asio::ip::make_address(host, ec);
  if (!ec) {
    ep = tcp::endpoint(addr, port_wanted);
  } else {
    tcp::resolver resolver(io);
    auto found = resolver.resolve(host, std::to_string(port_wanted), ec);
    if (ec || found.empty())
      throw std::runtime_error("cannot resolve HTTP address " + where + ": " + ec.message());
    ep = found.begin()->endpoint();
  }
  acceptor.open(ep.protocol(), ec);
  if (!ec) acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) acceptor.bind(ep, ec);
  if (!ec) acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) throw std::runtime_error("cannot listen on HTTP " + where + ": " + ec.message());
  port = acceptor.local_endpoint().port();
}

void server::impl::accept_next() {
  acceptor.async_accept(runtime->internals().serial_executor(),
                        [self = shared_from_this()](const error_code& ec, tcp::socket socket) {
                          self->on_accept(ec, std::move(socket));
                        });
}

void server::impl::on_accept(const error_code& ec, tcp::socket socket) {
  if (ec == asio::error::operation_aborted || !acceptor.is_open()) return;
  if (ec) {
    retry.expires_after(accept_retry);
    retry.async_wait([self = shared_from_this()](const error_code& e) {
      if (!e && self->acceptor.is_open()) self->accept_next();
    });
    return;
  }
  auto s = std::make_shared<session>(shared_from_this(), std::move(socket));
  switch (auto why = admit(s, s->address())) {
    case admission::serve: asio::post(s->executor(), [s] { s->start(); }); break;
    case admission::too_many:
    case admission::too_many_from_address:
      asio::post(s->executor(), [s, why] { s->refuse(why); });
      break;
    case admission::close:  // dropping the session closes its socket
    case admission::stopping: break;
  }
  accept_next();
}

server::impl::admission server::impl::admit(const std::shared_ptr<session>& s,
                                            const std::string& address) {
  std::lock_guard<std::mutex> lock(mutex);
  if (stopping) return admission::stopping;
  auto cap = limits.max_connections_per_address;
  bool address_full = cap > 0 && per_address.count(address) >= cap;
  if (!address_full && serving < limits.max_connections) {
    per_address.try_add(address, 0);
    ++serving;
    sessions.emplace(s.get(), s);
    return admission::serve;
  }
  // Refusals are bounded too: a flood of connections beyond the caps cannot pile up
  // sessions (each answered, then lingering) without end.
  if (refusing >= limits.max_connections) return admission::close;
  ++refusing;
  sessions.emplace(s.get(), s);
  return address_full ? admission::too_many_from_address : admission::too_many;
}

void server::impl::forget(session* s, bool refused, const std::string& address) {
  std::lock_guard<std::mutex> lock(mutex);
  if (sessions.erase(s)) {
    if (refused) {
      --refusing;
    } else {
      --serving;
      per_address.remove(address);
    }
  }
  closed_one.notify_all();
}

void server::impl::stop(std::chrono::milliseconds finish_replies) {
  std::vector<std::shared_ptr<session>> open;
  {
    std::lock_guard<std::mutex> lock(mutex);
    stopping = true;  // admit() refuses from now on, so `open` is complete
    for (auto& entry : sessions) open.push_back(entry.second);
  }
  {
    std::lock_guard<std::mutex> lock(gate->mutex);
    gate->closed = true;  // replies given before this are already posted to their session
  }
  asio::post(acceptor.get_executor(), [self = shared_from_this()] {
    error_code ignored;
    self->acceptor.close(ignored);
    self->retry.cancel();
  });
  // Each session forgets itself as it closes (which ends its hold on this state). Posted
  // after any reply delivered before stop(), so a reply handed over is written, not cut.
  bool finish = finish_replies > std::chrono::milliseconds::zero();
  for (auto& s : open)
    asio::post(s->executor(), [s, finish] { finish ? s->shut_down() : s->close_now(); });
  if (finish) {
    std::unique_lock<std::mutex> lock(mutex);
    if (!closed_one.wait_for(lock, finish_replies, [this] { return sessions.empty(); })) {
      lock.unlock();
      for (auto& s : open) asio::post(s->executor(), [s] { s->close_now(); });
    }
  }
  open.clear();
  if (!owns_runtime) return;  // whoever shares the runtime stops it after us
  runtime->stop();
  std::lock_guard<std::mutex> lock(mutex);
  sessions.clear();  // empty by now; sessions must die before the io_context
}

// ---------------------------------------------------------------------------------------

std::shared_ptr<server> server::start(const std::string& host, std::uint16_t port,
                                      server_limits limits, handler on_request,
                                      refusal_hook on_refusal,
                                      std::shared_ptr<io_runtime> runtime) {
  if (limits.body_budget > 0 && limits.body_budget < limits.max_body)
    throw std::invalid_argument(
        "the HTTP body budget of " + std::to_string(limits.body_budget) +
        " bytes is below the largest body accepted (" + std::to_string(limits.max_body) +
        " bytes), which could then never be received: raise the budget or lower the limit");
  bool owned = !runtime;
  if (owned) runtime = io_runtime::start(limits.threads);
  auto state = std::make_shared<impl>(std::move(runtime), owned);
  state->limits = limits;
  state->budget = std::make_shared<body_budget>(limits.body_budget);
  state->on_request = std::move(on_request);
  state->on_refusal = std::move(on_refusal);
  state->bind(host, port);
  state->accept_next();
  std::shared_ptr<server> s(new server());
  s->impl_ = std::move(state);
  return s;
}

server::~server() { stop(); }

void server::stop(std::chrono::milliseconds finish_replies) {
  if (impl_) std::call_once(impl_->stopped, [&] { impl_->stop(finish_replies); });
}

std::uint16_t server::port() const { return impl_->port; }

std::size_t server::open_connections() const {
  std::lock_guard<std::mutex> lock(impl_->mutex);
  return impl_->sessions.size();
}

std::size_t server::body_bytes_reserved() const { return impl_->budget->in_use(); }

std::string request::header(std::string_view name) const {
  for (const auto& [n, v] : headers)
    if (iequals(n, name)) return v;
  return "";
}

response error_response(unsigned status, std::string_view code, std::string_view message) {
  response r;
  r.status = status;
  r.body = "{\"response_code\": 1, \"error\": {\"code\": " + json_string(code) +
           ", \"message\": " + json_string(message) + "}}";
  return r;
}

}  // namespace sova::http
