#include "net/address_policy.hpp"

#include <array>

#include <boost/asio/ip/address.hpp>

namespace sova::net {

namespace {

namespace ip = boost::asio::ip;

address_class classify_v4(const ip::address_v4& a) {
  auto b = a.to_bytes();
  auto in = [&](unsigned first, unsigned mask_bits) {
    std::uint32_t v = a.to_uint();
    std::uint32_t mask = mask_bits == 0 ? 0 : ~std::uint32_t{0} << (32 - mask_bits);
    return (v & mask) == (first & mask);
  };
  auto net = [](unsigned x, unsigned y, unsigned z, unsigned w) {
    return (x << 24) | (y << 16) | (z << 8) | w;
  };
  if (b[0] == 0) return address_class::unspecified;
  if (b[0] == 127) return address_class::loopback;
  if (in(net(169, 254, 0, 0), 16)) return address_class::link_local;
  if (a == ip::address_v4::broadcast()) return address_class::broadcast;
  if (in(net(224, 0, 0, 0), 4)) return address_class::multicast;
  if (in(net(240, 0, 0, 0), 4)) return address_class::reserved;
  if (b[0] == 10 || in(net(172, 16, 0, 0), 12) || in(net(192, 168, 0, 0), 16) ||
      in(net(100, 64, 0, 0), 10))
    return address_class::private_address;
  return address_class::public_address;
}

/// The IPv4 address an IPv6 address carries (mapped, compatible or NAT64), if any.
std::optional<ip::address_v4> embedded_v4(const ip::address_v6& a) {
  auto b = a.to_bytes();
  auto zero = [&](std::size_t from, std::size_t to) {
    for (auto i = from; i < to; ++i)
      if (b[i] != 0) return false;
    return true;
  };
  auto tail = [&] { return ip::address_v4(ip::address_v4::bytes_type{b[12], b[13], b[14], b[15]}); };
  if (a.is_v4_mapped()) return tail();
  // ::a.b.c.d (deprecated "compatible"), but not :: and ::1 themselves.
  if (zero(0, 12) && !(zero(12, 15) && b[15] <= 1)) return tail();
  // 64:ff9b::/96, the well-known NAT64 prefix.
  if (b[0] == 0x00 && b[1] == 0x64 && b[2] == 0xff && b[3] == 0x9b && zero(4, 12)) return tail();
  return std::nullopt;
}

address_class classify(const ip::address& a) {
  if (a.is_v4()) return classify_v4(a.to_v4());
  auto v6 = a.to_v6();
  if (auto v4 = embedded_v4(v6)) return classify_v4(*v4);
  if (v6.is_unspecified()) return address_class::unspecified;
  if (v6.is_loopback()) return address_class::loopback;
  if (v6.is_link_local()) return address_class::link_local;
  if (v6.is_multicast()) return address_class::multicast;
  if ((v6.to_bytes()[0] & 0xfe) == 0xfc) return address_class::private_address;
  return address_class::public_address;
}

std::optional<ip::address> parse(std::string_view text) {
  boost::system::error_code ec;
  auto a = ip::make_address(std::string(text), ec);
  if (ec) return std::nullopt;
  return a;
}

/// The same host, whatever the spelling (IPv4 inside IPv6 compared as IPv4).
bool same_address(const ip::address& a, const ip::address& b) {
  auto v4 = [](const ip::address& x) -> std::optional<ip::address_v4> {
    if (x.is_v4()) return x.to_v4();
    return embedded_v4(x.to_v6());
  };
  auto a4 = v4(a), b4 = v4(b);
  if (a4 || b4) return a4 && b4 && *a4 == *b4;
  return a == b;
}

}  // namespace

std::optional<address_class> classify_address(std::string_view ip) {
  auto a = parse(ip);
  if (!a) return std::nullopt;
  return classify(*a);
}

const char* to_string(address_class c) {
  switch (c) {
    case address_class::public_address: return "public";
    case address_class::private_address: return "private";
    case address_class::loopback: return "loopback";
    case address_class::unspecified: return "unspecified";
    case address_class::link_local: return "link-local";
    case address_class::multicast: return "multicast";
    case address_class::broadcast: return "broadcast";
    case address_class::reserved: return "reserved";
  }
  return "unknown";
}

std::optional<std::string> address_policy::refusal(std::string_view ip, std::uint16_t port) const {
  auto a = parse(ip);
  if (!a) return std::string(ip) + " is not a numeric address";
  auto c = classify(*a);
  auto is = std::string(ip) + (c == address_class::unspecified ? " is an " : " is a ") +
            to_string(c) + " address";
  for (const auto& [own_ip, own_port] : own) {
    if (own_port != port) continue;
    auto o = parse(own_ip);
    if (!o) continue;
    bool mine = same_address(*a, *o);
    if (!mine && classify(*o) == address_class::unspecified) {
      mine = c == address_class::loopback || c == address_class::unspecified;
      for (const auto& local : local_addresses)
        if (auto l = parse(local); l && same_address(*a, *l)) mine = true;
    }
    if (mine)
      return std::string(ip) + ":" + std::to_string(port) +
             " is this node's own HTTP API (a record pointing back at the node)";
  }
  if (c == address_class::loopback || c == address_class::private_address)
    for (const auto& [own_ip, own_port] : own_backends)
      if (auto o = parse(own_ip); o && own_port == port && same_address(*a, *o))
        return std::nullopt;
  switch (c) {
    case address_class::public_address: return std::nullopt;
    case address_class::private_address:
      if (allow_private) return std::nullopt;
      return is + " (--refuse-private is set)";
    case address_class::loopback:
      if (allow_loopback) return std::nullopt;
      return is + ", which other machines cannot reach (--allow-loopback allows it)";
    default: return is + ", never a backend";
  }
}

}  // namespace sova::net
