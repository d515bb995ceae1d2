#include "net/udp_port.hpp"

#include <array>
#include <stdexcept>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/udp.hpp>
#include <boost/asio/post.hpp>

namespace sova::net {

namespace asio = boost::asio;
using udp = asio::ip::udp;

struct udp_port::impl {
  explicit impl(inbound_limits limits) : gate(limits) {}
  asio::io_context io;
  udp::socket socket{io};
  std::array<char, 65536> buffer{};
  udp::endpoint sender;
  receive_handler on_receive;
  std::thread thread;
  endpoint local;
  inbound_gate gate;

  void receive_next() {
    socket.async_receive_from(
        asio::buffer(buffer), sender, [this](const boost::system::error_code& ec, std::size_t n) {
          if (ec == asio::error::operation_aborted || !socket.is_open()) return;
          // Other errors (e.g. ICMP port unreachable reported on Linux) concern one
          // datagram only: keep receiving.
          if (!ec && on_receive) {
            auto host = sender.address().to_string();
            std::string_view datagram(buffer.data(), n);
            if (gate.admit(host, datagram, std::chrono::steady_clock::now()) ==
                inbound_verdict::admit)
              on_receive(endpoint{std::move(host), sender.port()}, std::string(datagram));
          }
          receive_next();
        });
  }
};

std::shared_ptr<udp_port> udp_port::bind(const std::string& host, std::uint16_t port,
                                         inbound_limits limits) {
  std::shared_ptr<udp_port> p(new udp_port());
  p->impl_ = std::make_unique<impl>(limits);
  boost::system::error_code ec;
  auto addr = asio::ip::make_address(host, ec);
  if (ec) throw std::runtime_error("bad bind address '" + host + "': " + ec.message());
  udp::endpoint ep(addr, port);
  auto& s = p->impl_->socket;
  s.open(ep.protocol(), ec);
  if (!ec) s.bind(ep, ec);
  if (ec)
    throw std::runtime_error("cannot bind UDP " + endpoint{host, port}.to_string() + ": " +
                             ec.message());
  // A burst (a flood, a round of refreshes) must not push an honest datagram out of the
  // kernel's queue before this thread reads it; the kernel caps this at net.core.rmem_max.
  s.set_option(udp::socket::receive_buffer_size(receive_buffer_bytes), ec);
  auto bound = s.local_endpoint();
  p->impl_->local = endpoint{bound.address().to_string(), bound.port()};
  return p;
}

udp_port::~udp_port() { stop(); }

void udp_port::start(receive_handler on_receive) {
  impl_->on_receive = std::move(on_receive);
  impl_->receive_next();
  impl_->thread = std::thread([this] { impl_->io.run(); });
}

void udp_port::stop() {
  if (!impl_) return;
  asio::post(impl_->io, [this] {
    boost::system::error_code ignored;
    impl_->socket.close(ignored);
  });
  if (impl_->thread.joinable()) {
    impl_->thread.join();
  } else {
    impl_->io.run();  // never started: run the close ourselves
  }
  impl_->on_receive = nullptr;
}

void udp_port::send(const endpoint& to, std::string datagram) {
  boost::system::error_code ec;
  auto addr = asio::ip::make_address(to.host, ec);
  if (ec) return;  // not a numeric address: nothing to send to
  // Handlers run only on the port's thread, which stop() joins before impl dies.
  auto* p = impl_.get();
  auto data = std::make_shared<std::string>(std::move(datagram));
  asio::post(p->io, [p, data, dest = udp::endpoint(addr, to.port)] {
    if (!p->socket.is_open()) return;
    p->socket.async_send_to(asio::buffer(*data), dest,
                            [data](const boost::system::error_code&, std::size_t) {});
  });
}

endpoint udp_port::local_endpoint() const { return impl_->local; }

void udp_port::handled(const endpoint& from, std::size_t datagram_size) {
  impl_->gate.handled(from.host, datagram_size);
}

datagram_port::drops udp_port::dropped() const {
  return drops{impl_->gate.rate_limited(), impl_->gate.backlog_full()};
}

std::vector<endpoint> resolve_endpoints(const std::vector<std::string>& entries,
                                        std::vector<std::string>* bad) {
  asio::io_context io;
  udp::resolver resolver(io);
  std::vector<endpoint> out;
  for (const auto& entry : entries) {
    auto parsed = parse_host_port(entry);
    boost::system::error_code ec;
    udp::resolver::results_type found;
    if (parsed) found = resolver.resolve(parsed->host, std::to_string(parsed->port), ec);
    if (!parsed || ec || found.empty()) {
      if (bad) bad->push_back(entry);
      continue;
    }
    auto pick = *found.begin();
    for (const auto& r : found)
      if (r.endpoint().address().is_v4()) {
        pick = r;
        break;
      }
    out.push_back(endpoint{pick.endpoint().address().to_string(), pick.endpoint().port()});
  }
  return out;
}

}  // namespace sova::net
