#pragma once
// Which addresses a node may send client data to, decided on the address a backend's
// host resolved to (at connect time), never on how a record spells it: `0`, `2130706433`,
// `[::ffff:127.0.0.1]` and an /etc/hosts name all end up as 127.0.0.1. No I/O here.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sova::net {

enum class address_class {
  public_address,
  private_address,  // 10/8, 172.16/12, 192.168/16, 100.64/10 (carrier NAT), fc00::/7
  loopback,         // 127/8, ::1
  unspecified,      // 0/8, :: (the host itself on most systems)
  link_local,       // 169.254/16 (cloud metadata services), fe80::/10
  multicast,        // 224/4, ff00::/8
  broadcast,        // 255.255.255.255
  reserved,         // 240/4
};

/// The class of a numeric IPv4 or IPv6 address; an IPv4 address inside IPv6
/// (::ffff:a.b.c.d, ::a.b.c.d, 64:ff9b::a.b.c.d) is classified as that IPv4 address.
/// Nothing when `ip` is not a numeric address.
std::optional<address_class> classify_address(std::string_view ip);

/// "loopback", "link-local", ... for messages.
const char* to_string(address_class c);

struct address_policy {
  bool allow_loopback = false;
  bool allow_private = true;  // LAN deployments are the normal case
  /// This node's own HTTP endpoints (numeric address, port): never a backend, so that a
  /// record cannot make the node forward to itself. An unspecified address (0.0.0.0, ::)
  /// stands for every loopback address and each of `local_addresses`.
  std::vector<std::pair<std::string, std::uint16_t>> own;
  std::vector<std::string> local_addresses;
  /// This node's own backends (`--services`), as they resolved at start (numeric address,
  /// port): allowed on loopback and private addresses whatever the flags, since the node
  /// owns them (a backend next to its node is the normal case); the flags judge backends
  /// learnt from the network.
  std::vector<std::pair<std::string, std::uint16_t>> own_backends;

  /// Why the node must not connect to ip:port ("127.0.0.1 is a loopback address ..."), or
  /// nothing when it may.
  std::optional<std::string> refusal(std::string_view ip, std::uint16_t port) const;
};

}  // namespace sova::net
