#include "http/client.hpp"
#include "http/appended_body.hpp"
#include "http/bulk_io.hpp"
#include "http/io_runtime_impl.hpp"
#include "http/parse_feed.hpp"
#include "http/request_bounds.hpp"
#include "http/text.hpp"
#include "http/wire_head.hpp"

#include <sys/socket.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <deque>
#include <functional>
#include <future>
#include <mutex>
#include <optional>
#include <thread>
#include <unordered_map>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/asio/connect.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/asio/write.hpp>

namespace sova::http {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;
using error_code = boost::system::error_code;
using clock_type = std::chrono::steady_clock;
using strand_type = asio::any_io_executor;  // a strand, or the io_context with one thread

namespace {

char lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }


std::string lowercase(std::string s) {
  for (auto& c : s) c = lower(c);
  return s;
}

std::string_view view(beast::string_view s) { return {s.data(), s.size()}; }

// ---- redirects ----

std::optional<std::uint16_t> parse_port(std::string_view s) {
  if (s.empty()) return std::uint16_t{80};
  unsigned value = 0;
  for (char c : s) {
    if (c < '0' || c > '9' || value > 65535) return std::nullopt;
    value = value * 10 + static_cast<unsigned>(c - '0');
  }
  if (value == 0 || value > 65535) return std::nullopt;
  return static_cast<std::uint16_t>(value);
}

/// Splits `host[:port]` or `[v6]:port`; nothing when malformed.
std::optional<std::pair<std::string_view, std::uint16_t>> split_authority(std::string_view a) {
  if (a.find('@') != std::string_view::npos) return std::nullopt;
  std::string_view host = a;
  std::string_view port;
  if (!a.empty() && a.front() == '[') {
    auto close = a.find(']');
    if (close == std::string_view::npos) return std::nullopt;
    host = a.substr(1, close - 1);
    auto after = a.substr(close + 1);
    if (!after.empty() && after.front() != ':') return std::nullopt;
    if (!after.empty()) port = after.substr(1);
  } else if (auto colon = a.rfind(':'); colon != std::string_view::npos) {
    host = a.substr(0, colon);
    port = a.substr(colon + 1);
  }
  auto p = parse_port(port);
  if (!p || host.empty()) return std::nullopt;
  return std::make_pair(host, *p);
}

std::string without_fragment(std::string_view target) {
  return std::string(target.substr(0, target.find('#')));
}

/// The target to request after a redirect to `location`, when it stays on host:port:
/// an absolute path, or an http URL naming the same host and port.
std::optional<std::string> same_origin_target(std::string_view location, std::string_view host,
                                              std::uint16_t port) {
  location = trim_blanks(location);
  bool network_path = location.substr(0, 2) == "//";
  if (!location.empty() && location.front() == '/' && !network_path)
    return without_fragment(location);
  std::string_view rest;
  if (location.size() >= 7 && iequals(location.substr(0, 7), "http://"))
    rest = location.substr(7);
  else if (network_path)
    rest = location.substr(2);
  else
    return std::nullopt;
  auto path_start = std::min(rest.find_first_of("/?#"), rest.size());
  auto authority = split_authority(rest.substr(0, path_start));
  if (!authority || !iequals(authority->first, host) || authority->second != port)
    return std::nullopt;
  auto path = rest.substr(path_start);
  if (path.empty() || path.front() != '/') return "/" + without_fragment(path);
  return without_fragment(path);
}

// ---- connections ----

/// One kept-alive connection. Its stream runs on its own strand, which every exchange
/// using the connection adopts, so the stream is only ever touched from that strand.
struct connection {
  explicit connection(const strand_type& s) : strand(s), socket(s) {}
  strand_type strand;
  tcp::socket socket;
  // Capped: a backend's endless header or chunk line is refused before it could grow more.
  beast::flat_buffer buffer{read_buffer_limit};
  clock_type::time_point idle_since{};
};

using connection_ptr = std::unique_ptr<connection>;

/// Whether a pooled connection is still usable: a non-blocking peek that would block
/// means the server neither closed it nor sent anything unasked while it was idle.
/// One recv(2) with MSG_DONTWAIT: toggling Asio's non-blocking mode around a peek cost
/// three ioctl(2) calls more on every reuse (measured with strace under load).
bool looks_alive(connection& c) {
  auto& socket = c.socket;
  if (!socket.is_open()) return false;
  char byte = 0;
  auto n = ::recv(socket.native_handle(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
  return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
}

void close(connection& c) {
  error_code ignored;
  c.socket.shutdown(tcp::socket::shutdown_both, ignored);
  c.socket.close(ignored);
}

std::string pool_key(const std::string& host, std::uint16_t port) {
  return lowercase(host) + ' ' + std::to_string(port);
}

std::string host_header(const std::string& host, std::uint16_t port) {
  auto name = host.find(':') == std::string::npos ? host : "[" + host + "]";
  return port == 80 ? name : name + ":" + std::to_string(port);
}

using response_type = bhttp::response<appended_body>;

client_response to_response(response_type& msg) {
  client_response out;
  out.status = msg.result_int();
  for (const auto& field : msg)
    out.headers.emplace_back(view(field.name_string()), view(field.value()));
  out.body = std::move(msg.body());
  return out;
}

client_result failure(client_errc e, std::string message) {
  return client_result{false, e, std::move(message), {}, {}};
}

class exchange;

}  // namespace

// ---- the client's shared state ----

// Held by the client object and by every exchange: on a runtime shared with others,
// exchanges may finish after stop() returned.
struct client::impl {
  impl(const options& o, std::shared_ptr<io_runtime> rt, bool owned)
      : runtime(std::move(rt)), owns_runtime(owned), io(runtime->internals().io), opts(o) {}

  std::shared_ptr<io_runtime> runtime;  // first: the io_context outlives the pooled sockets
  bool owns_runtime;
  asio::io_context& io;
  options opts;

  mutable std::mutex mutex;  // guards everything below
  bool stopped = false;
  std::unordered_map<std::string, std::deque<connection_ptr>> idle;  // oldest first
  std::size_t idle_count = 0;
  std::unordered_map<std::uint64_t, std::weak_ptr<exchange>> in_flight;
  std::uint64_t next_id = 0;

  /// Drops the connections idle for longer than idle_expiry. Needs the lock.
  void prune(std::deque<connection_ptr>& list, clock_type::time_point now) {
    while (!list.empty() && now - list.front()->idle_since > opts.idle_expiry) {
      list.pop_front();
      --idle_count;
    }
  }

  /// The most recently used idle connection to `key`, if any. Needs the lock.
  connection_ptr take_idle(const std::string& key) {
    auto it = idle.find(key);
    if (it == idle.end()) return nullptr;
    prune(it->second, clock_type::now());
    if (it->second.empty()) return nullptr;
    auto c = std::move(it->second.back());
    it->second.pop_back();
    --idle_count;
    return c;
  }

  /// Pools a connection after a complete response, or drops it when full or stopped.
  void give_back(const std::string& key, connection_ptr c) {
    std::lock_guard<std::mutex> lock(mutex);
    if (stopped || opts.max_idle_per_host == 0) return;
    auto& list = idle[key];
    auto now = clock_type::now();
    prune(list, now);
    if (list.size() >= opts.max_idle_per_host) return;
    c->idle_since = now;
    list.push_back(std::move(c));
    ++idle_count;
  }

  void forget(std::uint64_t id) {
    std::lock_guard<std::mutex> lock(mutex);
    in_flight.erase(id);
  }
};

namespace {

// ---- one request, from the pool or a fresh connection to the callback ----

/// Every handler runs on `strand_`; each step first checks `finished_`, since abort() or
/// the deadline may have completed the exchange while an operation was pending. One timer
/// bounds the whole exchange (Beast's stream armed one per operation), and responses are
/// read with plain socket reads fed to Beast's parser (cheaper than its composed reads).
class exchange : public std::enable_shared_from_this<exchange> {
public:
  exchange(std::shared_ptr<client::impl> owner, std::uint64_t id, std::string host, std::uint16_t port,
           std::string key, client_request req, client_callback done, strand_type strand,
           connection_ptr pooled)
      : owner_(std::move(owner)), id_(id), host_(std::move(host)), port_(port), key_(std::move(key)),
        deadline_(clock_type::now() + req.timeout), follow_redirect_(req.follow_redirect),
        head_(req.method == "HEAD"), done_(std::move(done)), strand_(strand),
        resolver_(strand), deadline_timer_(strand), conn_(std::move(pooled)),
        request_(std::move(req)), host_header_(host_header(host_, port_)) {
    chunk_header_ = [this](std::uint64_t, beast::string_view extensions, error_code& ec) {
      ec = count_chunk_extensions(chunk_extension_bytes_, extensions.size());
    };
    write_head();
  }

  const strand_type& strand() const { return strand_; }

  void start() {
    if (finished_) return;
    deadline_timer_.expires_at(deadline_);
    deadline_timer_.async_wait([self = shared_from_this()](error_code ec) {
      if (!ec) self->expired();
    });
    if (conn_ && looks_alive(*conn_)) {
      reused_ = true;
      write();
      return;
    }
    conn_.reset();
    open();
  }

  void abort() {
    if (finished_) return;
    resolver_.cancel();
    fail(client_errc::shut_down, "the client stopped");
  }

private:
  /// Where the exchange is, for the message when the deadline passes.
  enum class stage { resolving, connecting, sending, reading };

  std::string peer() const { return host_ + ":" + std::to_string(port_); }

  void expired() {
    if (finished_) return;
    resolver_.cancel();
    switch (stage_) {
      case stage::resolving: return fail(client_errc::timeout, "resolving " + host_ + " timed out");
      case stage::connecting:
        return fail(client_errc::timeout, "connecting to " + peer() + " timed out");
      case stage::sending: return fail(client_errc::timeout, "no response from " + peer() + " in time");
      case stage::reading:
        return fail(client_errc::timeout,
                    parser_ && (parser_->got_some() || conn_->buffer.size() > 0)
                        ? "no complete response from " + peer() + " in time"
                        : "no response from " + peer() + " in time");
    }
  }

  void open() {
    error_code ec;
    auto address = asio::ip::make_address(host_, ec);
    if (ec) return resolve();
    connect({tcp::endpoint(address, port_)});
  }

  void resolve() {
    stage_ = stage::resolving;
    resolver_.async_resolve(
        host_, std::to_string(port_),
        [self = shared_from_this()](error_code ec, tcp::resolver::results_type found) {
          self->on_resolve(ec, found);
        });
  }

  void on_resolve(error_code ec, const tcp::resolver::results_type& results) {
    if (finished_) return;
    if (ec)
      return fail(client_errc::connect_failed, "cannot resolve " + host_ + ": " + ec.message());
    std::vector<tcp::endpoint> endpoints;
    for (const auto& entry : results) endpoints.push_back(entry.endpoint());
    connect(endpoints);
  }

  void connect(std::vector<tcp::endpoint> endpoints) {
    if (const auto& refuse = owner_->opts.refuse) {
      std::string why, address;
      endpoints.erase(std::remove_if(endpoints.begin(), endpoints.end(),
                                     [&](const tcp::endpoint& ep) {
                                       auto ip = ep.address().to_string();
                                       auto r = refuse(ip, ep.port());
                                       if (r && why.empty()) {
                                         why = *r;
                                         address = ip;
                                       }
                                       return r.has_value();
                                     }),
                      endpoints.end());
      if (endpoints.empty())
        return fail(client_errc::refused,
                    "not connecting to " + peer() +
                        (address == host_ ? "" : ", which resolves to " + address) + ": " + why);
    }
    stage_ = stage::connecting;
    conn_ = std::make_unique<connection>(strand_);
    asio::async_connect(conn_->socket, endpoints,
                        [self = shared_from_this()](error_code ec, const tcp::endpoint&) {
                          self->on_connect(ec);
                        });
  }

  void on_connect(error_code ec) {
    if (finished_) return;
    if (ec)
      return fail(client_errc::connect_failed, "cannot connect to " + peer() + ": " + ec.message());
    write();
  }

  void write_head() {
    write_request_head(request_head_, request_.method, request_.target, host_header_,
                       request_.headers, request_.content_type, request_.body.size());
  }

  void write() {
    stage_ = stage::sending;
    std::array<asio::const_buffer, 2> out{asio::buffer(request_head_),
                                          asio::buffer(request_.body)};
    asio::async_write(conn_->socket, out, everything_left{},
                      [self = shared_from_this()](error_code ec, std::size_t) {
                        self->on_write(ec);
                      });
  }

  void on_write(error_code ec) {
    if (finished_) return;
    if (ec) return lost_before_response(ec);
    read();
  }

  void read() {
    stage_ = stage::reading;
    parser_.emplace();
    parser_->header_limit(head_limit);
    parser_->body_limit(owner_->opts.max_response_body);
    parser_->on_chunk_header(chunk_header_);
    chunk_extension_bytes_ = 0;
    if (head_) parser_->skip(true);
    header_seen_ = false;
    parse_buffered();
  }

  /// Feeds what is buffered to the parser, then finishes or reads more. A backend may be
  /// hostile (anyone can announce one): its response is held to the server's bounds.
  void parse_buffered() {
    for (;;) {
      error_code ec;
      switch (feed_bounded(*parser_, conn_->buffer, header_seen_, ec)) {
        case feed_result::error: return read_failed(ec);
        case feed_result::header:
          if (!header_read()) return;
          break;
        case feed_result::done: return on_response();
        case feed_result::need_more: return read_more();
      }
    }
  }

  /// Checks a header just parsed; false when the exchange failed on it.
  bool header_read() {
    auto length = parser_->content_length();
    if (!head_ && length && *length > owner_->opts.max_response_body) {
      read_failed(bhttp::error::body_limit);
      return false;
    }
    return true;
  }

  void read_more() {
    if (auto left = body_left_to_read(*parser_))
      return read_body_rest(conn_->socket, parser_->get().body(), left,
                            [self = shared_from_this()](error_code ec) { self->on_body_read(ec); });
    conn_->socket.async_read_some(conn_->buffer.prepare(next_read_size(conn_->buffer, header_seen_)),
                                  [self = shared_from_this()](error_code ec, std::size_t n) {
                                    self->on_read(ec, n);
                                  });
  }

  void on_read(error_code ec, std::size_t n) {
    if (finished_) return;
    if (!ec) {
      conn_->buffer.commit(n);
      return parse_buffered();
    }
    bool nothing_yet = !parser_->got_some() && conn_->buffer.size() == 0;
    if (nothing_yet) return lost_before_response(ec);
    if (ec == asio::error::eof) {  // a response without a length ends with the connection
      error_code end;
      parser_->put_eof(end);
      if (!end && parser_->is_done()) return on_response();
      return read_failed(end ? end : bhttp::error::partial_message);
    }
    read_failed(ec);
  }

  void on_body_read(error_code ec) {
    if (finished_) return;
    if (ec == asio::error::eof) return read_failed(bhttp::error::partial_message);
    if (ec) return read_failed(ec);
    on_response();
  }

  void read_failed(error_code ec) {
    if (auto what = over_bound(ec); !what.empty())
      return fail(client_errc::too_large,
                  "the response from " + peer() + " is too large: " + what);
    fail(client_errc::protocol, "bad response from " + peer() + ": " + ec.message());
  }

  /// Which bound `ec` says the response is over, or "" when it is another error.
  std::string over_bound(const error_code& ec) const {
    auto over = " over " + std::to_string(head_limit) + " bytes";
    if (ec == bhttp::error::body_limit)
      return "body over " + std::to_string(owner_->opts.max_response_body) + " bytes";
    if (ec == bhttp::error::header_limit) return "header" + over;
    if (ec == bound_error::chunk_line) return "chunk size line (extensions included)" + over;
    if (ec == bound_error::chunk_extensions) return "chunk extensions" + over + " in all";
    if (ec == bound_error::trailer) return "trailer" + over;
    if (ec == bound_error::too_many_fields)
      return "more than " + std::to_string(field_limit) + " fields (header and trailer included)";
    return {};
  }

  /// The request failed before a single response byte. On a connection from the pool
  /// this is how a connection the server closed meanwhile shows itself: one retry on a
  /// fresh connection (within the same deadline).
  void lost_before_response(error_code ec) {
    if (reused_ && !retried_) {
      retried_ = true;
      reused_ = false;
      close(*conn_);
      conn_.reset();
      return open();
    }
    fail(client_errc::protocol,
         "connection to " + peer() + " lost before a response: " + ec.message());
  }

  void on_response() {
    auto msg = parser_->release();
    // Bytes past the response would be read as the start of the next one: not reusable.
    bool keep = msg.keep_alive() && conn_->buffer.size() == 0;
    if (!keep) close(*conn_);
    if (auto target = redirect_target(msg)) return follow(*target, keep);
    auto response = to_response(msg);
    if (keep) {
      shrink_when_idle(conn_->buffer);
      owner_->give_back(key_, std::move(conn_));
    }
    finish(client_result{true, client_errc::protocol, {}, std::move(response), {}});
  }

  std::optional<std::string> redirect_target(const response_type& msg) const {
    auto status = msg.result_int();
    if (!follow_redirect_ || (status != 307 && status != 308)) return std::nullopt;
    return same_origin_target(view(msg[bhttp::field::location]), host_, port_);
  }

  void follow(const std::string& target, bool keep) {
    follow_redirect_ = false;  // at most one: a second redirect is returned as is
    request_.target = target;
    write_head();
    if (!keep) {
      conn_.reset();
      return open();
    }
    reused_ = true;  // the server may still close it right after the redirect
    write();
  }

  void fail(client_errc e, std::string message) {
    if (conn_) close(*conn_);
    finish(failure(e, std::move(message)));
  }

  void finish(client_result result) {
    if (finished_) return;
    finished_ = true;
    deadline_timer_.cancel();
    owner_->forget(id_);
    // Moved out unless a write that was cut short by the deadline may still read it.
    if (stage_ == stage::sending)
      result.request_body = request_.body;
    else
      result.request_body = std::move(request_.body);
    auto done = std::move(done_);
    done_ = nullptr;
    done(std::move(result));
  }

  std::shared_ptr<client::impl> owner_;
  std::uint64_t id_;
  std::string host_;
  std::uint16_t port_;
  std::string key_;
  clock_type::time_point deadline_;
  bool follow_redirect_;
  bool head_;
  client_callback done_;
  strand_type strand_;
  tcp::resolver resolver_;
  asio::steady_timer deadline_timer_;
  connection_ptr conn_;
  client_request request_;
  std::string host_header_;
  std::string request_head_;  // request_ as bytes, without the body
  std::optional<bhttp::response_parser<appended_body>> parser_;
  // Beast keeps a reference to the callback, which must outlive each parser.
  std::function<void(std::uint64_t, beast::string_view, error_code&)> chunk_header_;
  std::size_t chunk_extension_bytes_ = 0;  // of the current response
  stage stage_ = stage::connecting;
  bool header_seen_ = false;  // the current parser's header was told by feed()
  bool finished_ = false;
  bool reused_ = false;   // conn_ came from the pool
  bool retried_ = false;  // the one retry on a fresh connection is spent
};

}  // namespace

// ---- public interface ----

std::string client_response::header(std::string_view name) const {
  for (const auto& [n, value] : headers)
    if (iequals(n, name)) return value;
  return {};
}

const char* to_string(client_errc e) {
  switch (e) {
    case client_errc::connect_failed: return "connect_failed";
    case client_errc::timeout: return "timeout";
    case client_errc::protocol: return "protocol";
    case client_errc::too_large: return "too_large";
    case client_errc::redirect: return "redirect";
    case client_errc::shut_down: return "shut_down";
    case client_errc::refused: return "refused";
  }
  return "unknown";
}

std::string describe_failure(const client_result& r) {
  return std::string(to_string(r.error)) + ": " + r.message;
}

std::shared_ptr<client> client::create(options opts, std::shared_ptr<io_runtime> runtime) {
  bool owned = !runtime;
  if (owned) runtime = io_runtime::start(opts.threads);
  std::shared_ptr<client> c(new client());
  c->impl_ = std::make_shared<impl>(opts, std::move(runtime), owned);
  return c;
}

client::~client() { stop(); }

void client::send(const std::string& host, std::uint16_t port, client_request req,
                  client_callback done) {
  auto refuse = [&](client_errc e, std::string message) {
    auto r = failure(e, std::move(message));
    r.request_body = std::move(req.body);
    done(std::move(r));
  };
  if (!sendable_request_line(req.method, req.target))
    return refuse(client_errc::protocol, "cannot send the request line \"" + req.method + " " +
                                             req.target + "\": invalid characters");
  auto& state = *impl_;
  {
    std::lock_guard<std::mutex> lock(state.mutex);
    if (!state.stopped) {
      auto key = pool_key(host, port);
      auto pooled = state.take_idle(key);
      auto strand = pooled ? pooled->strand : state.runtime->internals().serial_executor();
      auto id = ++state.next_id;
      auto ex = std::make_shared<exchange>(impl_, id, host, port, std::move(key), std::move(req),
                                           std::move(done), strand, std::move(pooled));
      state.in_flight.emplace(id, ex);
      // Posted under the lock, so that stop() sees either no exchange or a started one.
      asio::post(strand, [ex] { ex->start(); });
      return;
    }
  }
  refuse(client_errc::shut_down, "the client is stopped");
}

void client::stop() {
  auto& state = *impl_;
  {
    std::lock_guard<std::mutex> lock(state.mutex);
    if (state.stopped) return;
    state.stopped = true;
    for (auto& [id, weak] : state.in_flight)
      if (auto ex = weak.lock()) asio::post(ex->strand(), [ex] { ex->abort(); });
    state.idle.clear();
    state.idle_count = 0;
  }
  // After the aborts were posted: the threads run them before they end.
  if (state.owns_runtime) state.runtime->stop();
}

std::size_t client::idle_connections() const {
  std::lock_guard<std::mutex> lock(impl_->mutex);
  auto now = clock_type::now();
  for (auto& entry : impl_->idle) impl_->prune(entry.second, now);
  return impl_->idle_count;
}

client_result send_and_wait(client& c, const std::string& host, std::uint16_t port,
                            client_request req) {
  auto done = std::make_shared<std::promise<client_result>>();
  auto result = done->get_future();
  c.send(host, port, std::move(req), [done](client_result r) { done->set_value(std::move(r)); });
  return result.get();
}

}  // namespace sova::http
