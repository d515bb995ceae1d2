#pragma once
// What the rpc transport needs from the network: send a datagram, know our address.
// The real one is a UDP socket (udp_port); simulations plug in an in-memory one.

#include <string>

#include "net/contact.hpp"

namespace sova::net {

class datagram_port {
public:
  virtual ~datagram_port() = default;
  /// Queues one datagram; never blocks. Delivery is not guaranteed (it is UDP).
  virtual void send(const endpoint& to, std::string datagram) = 0;
  virtual endpoint local_endpoint() const = 0;
};

}  // namespace sova::net
