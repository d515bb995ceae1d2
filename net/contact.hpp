#pragma once
// Where a peer lives (endpoint) and who it is (contact = id + endpoint).

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>

#include "net/node_id.hpp"

namespace sova::net {

/// A UDP address. `host` is a numeric IP as it appears on the wire
/// ("127.0.0.1"); names are resolved before they become endpoints.
struct endpoint {
  std::string host;
  std::uint16_t port = 0;

  std::string to_string() const;
  friend bool operator==(const endpoint& a, const endpoint& b) {
    return a.port == b.port && a.host == b.host;
  }
  friend bool operator!=(const endpoint& a, const endpoint& b) { return !(a == b); }
  friend bool operator<(const endpoint& a, const endpoint& b) {
    return std::tie(a.host, a.port) < std::tie(b.host, b.port);
  }
  template <class Inspector>
  friend typename Inspector::result_type inspect(Inspector& f, endpoint& x) {
    return f(x.host, x.port);
  }
};

/// Parses "host:port" (host may be a name, an IPv4 address or [IPv6]);
/// port must be 1..65535 (or 0 when `any_port`: an address to listen on, "any free
/// port"). Returns nothing on any error.
std::optional<endpoint> parse_host_port(std::string_view text, bool any_port = false);

/// localhost, 127.0.0.0/8 or ::1: an address only this machine can reach.
bool is_loopback_host(std::string_view host);
/// A numeric IPv4 or IPv6 address (no name to resolve).
bool is_ip_literal(std::string_view host);

/// A peer of the DHT: its id and where it answers.
struct contact {
  node_id id;
  endpoint ep;

  std::string to_string() const;  // "<hex id prefix>@host:port"
  friend bool operator==(const contact& a, const contact& b) {
    return a.id == b.id && a.ep == b.ep;
  }
  friend bool operator!=(const contact& a, const contact& b) { return !(a == b); }
  template <class Inspector>
  friend typename Inspector::result_type inspect(Inspector& f, contact& x) {
    return f(x.id, x.ep);
  }
};

}  // namespace sova::net
