#pragma once
// Which address a node announces as its services' endpoint ("tts/cpu/<host>:<http port>"),
// so that other nodes, ours and the original Python ones, send requests to it. In order:
// --public-address when given, else the IP a peer sees this node from (the `stun` RPC),
// else the --bind address. An unspecified (0.0.0.0, ::), link-local, multicast or
// broadcast address is never announced; a loopback one only while the network is on this
// machine alone: the node is bound to a loopback address (then every peer must be local),
// or every peer it knows is on loopback. No I/O here.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace sova::net {

struct announce_inputs {
  std::string public_host;        // --public-address's host ("" when not given)
  std::uint16_t public_port = 0;  // its port (0: the HTTP port)
  std::string observed_ip;        // what a peer's stun answered ("" while unknown)
  std::string bind_host;          // --bind
  std::uint16_t http_port = 0;    // 0 while not bound yet
  std::vector<std::string> peer_ips;  // the routing table's contacts and the neighbours
};

struct announce_decision {
  std::string host;  // "" when nothing may be announced
  std::uint16_t port = 0;
  std::string source;    // "public-address", "stun" or "bind"
  std::string why_none;  // when host is "": why, for the log and /status

  /// "host:port" (IPv6 in brackets), or "" when none.
  std::string endpoint() const;
};

/// The address to announce, or why none may be.
announce_decision decide_announce_address(const announce_inputs& in);

/// `--public-address`: "host", "host:port", "[v6]", "[v6]:port" or a bare IPv6 address;
/// port 0 when not given. Nothing (and `error` says why) when it is not one of those.
struct public_address {
  std::string host;
  std::uint16_t port = 0;
};
std::optional<public_address> parse_public_address(const std::string& text,
                                                   std::string* error = nullptr);

/// Whether the network is on this machine alone, as far as the node can tell: bound to
/// a loopback address, or every peer known is on loopback (and there is one).
bool local_network_only(const std::string& bind_host, const std::vector<std::string>& peer_ips);

}  // namespace sova::net
