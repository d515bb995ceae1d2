#pragma once
// What the rpc transport needs from the network: send a datagram, know our address.
// The real one is a UDP socket (udp_port); simulations plug in an in-memory one.

#include <cstddef>
#include <cstdint>
#include <string>

#include "net/contact.hpp"

namespace sova::net {

class datagram_port {
public:
  virtual ~datagram_port() = default;
  /// Queues one datagram; never blocks. Delivery is not guaranteed (it is UDP).
  virtual void send(const endpoint& to, std::string datagram) = 0;
  virtual endpoint local_endpoint() const = 0;
  /// The transport is done with a received datagram from `from` of this size (ports that bound
  /// their backlog count it down; see inbound_gate).
  virtual void handled(const endpoint& /*from*/, std::size_t /*datagram_size*/) {}
  /// Received datagrams dropped before the transport saw them.
  struct drops {
    std::uint64_t rate_limited = 0;  // a request over its address's rate
    std::uint64_t backlog_full = 0;  // the transport was too far behind
  };
  virtual drops dropped() const { return {}; }
};

}  // namespace sova::net
