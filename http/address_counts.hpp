#pragma once
// Open connections per client address, so that one address cannot take every place
// (about 1,030 idle connections from one address denied all other clients, issue
// "hostile clients"). Not thread-safe: the server's mutex guards it.

#include <cstddef>
#include <string>
#include <unordered_map>

#include <boost/asio/ip/address.hpp>

namespace sova::http {

class address_counts {
public:
  /// Counts one more connection of `address` unless it has `cap` already (cap 0: no cap).
  bool try_add(const std::string& address, std::size_t cap);
  /// Forgets one connection of `address`; an address without any is forgotten entirely,
  /// so the table never holds more addresses than there are connections.
  void remove(const std::string& address);
  std::size_t count(const std::string& address) const;
  std::size_t addresses() const { return counts_.size(); }

private:
  std::unordered_map<std::string, std::size_t> counts_;
};

/// The address one client is counted under: an IPv4-mapped IPv6 address (a dual-stack
/// listener's view of an IPv4 client) as the IPv4 address, so both count as one.
std::string address_key(const boost::asio::ip::address& a);

}  // namespace sova::http
