#pragma once
// The real datagram port: one UDP socket served by its own Asio thread. Received
// datagrams pass the inbound gate, then go to a handler (the node posts them to its transport actor); sends are
// posted to the socket's thread, so they never block the caller.

#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "net/datagram_port.hpp"
#include "net/inbound_gate.hpp"

namespace sova::net {

class udp_port : public datagram_port {
public:
  using receive_handler = std::function<void(const endpoint& from, std::string datagram)>;

  /// The kernel receive buffer asked for (the kernel caps it at net.core.rmem_max).
  static constexpr int receive_buffer_bytes = 4 * 1024 * 1024;

  /// Binds `host:port` (port 0: any free port). Throws std::runtime_error with a
  /// message naming the address when the socket cannot be bound.
  static std::shared_ptr<udp_port> bind(const std::string& host, std::uint16_t port,
                                        inbound_limits limits = {});
  ~udp_port() override;

  /// Starts receiving on the port's own thread.
  void start(receive_handler on_receive);
  /// Closes the socket and joins the thread; idempotent.
  void stop();

  void send(const endpoint& to, std::string datagram) override;
  endpoint local_endpoint() const override;
  void handled(const endpoint& from, std::size_t datagram_size) override;
  drops dropped() const override;

  struct impl;

private:
  udp_port() = default;
  std::unique_ptr<impl> impl_;
};

/// Resolves "host:port" entries (names or IPs) to UDP endpoints with numeric hosts,
/// preferring IPv4. Entries that do not resolve are reported through `bad`.
std::vector<endpoint> resolve_endpoints(const std::vector<std::string>& entries,
                                        std::vector<std::string>* bad);

}  // namespace sova::net
