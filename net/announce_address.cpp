#include "net/announce_address.hpp"

#include <algorithm>
#include <string>

#include "net/address_policy.hpp"

namespace sova::net {

namespace {

std::string host_port(const std::string& host, std::uint16_t port) {
  bool v6 = host.find(':') != std::string::npos;
  return (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

/// Why `host` must not be announced ("a loopback address, ..."), or "" when it may (a
/// name is taken as given).
std::string refusal(const std::string& host, bool local_only) {
  auto c = classify_address(host);
  if (!c) return "";
  switch (*c) {
    case address_class::public_address:
    case address_class::private_address:
      return "";
    case address_class::loopback:
      if (local_only) return "";
      return "a loopback address, which peers on other machines cannot reach";
    case address_class::unspecified:
      return "an unspecified address (every interface), not one a peer can reach";
    default:
      return std::string("a ") + to_string(*c) + " address, never announced";
  }
}

}  // namespace

std::string announce_decision::endpoint() const {
  return host.empty() ? std::string{} : host_port(host, port);
}

std::optional<public_address> parse_public_address(const std::string& text, std::string* error) {
  auto bad = [&](const std::string& why) -> std::optional<public_address> {
    if (error) *error = "'" + text + "': " + why;
    return std::nullopt;
  };
  public_address out;
  std::string port;
  if (!text.empty() && text.front() == '[') {
    auto close = text.find(']');
    if (close == std::string::npos) return bad("no ']' after an IPv6 address");
    out.host = text.substr(1, close - 1);
    auto rest = text.substr(close + 1);
    if (!rest.empty() && rest.front() != ':') return bad("expected ':port' after ']'");
    if (!rest.empty()) port = rest.substr(1);
  } else if (std::count(text.begin(), text.end(), ':') > 1) {
    out.host = text;  // a bare IPv6 address
  } else {
    auto colon = text.find(':');
    out.host = text.substr(0, colon);
    if (colon != std::string::npos) port = text.substr(colon + 1);
  }
  if (out.host.empty()) return bad("no host");
  if (out.host.find_first_of(" /\t,") != std::string::npos) return bad("not a host name or address");
  if (!port.empty() || (text.find(':') != std::string::npos && text.front() != '[' &&
                        std::count(text.begin(), text.end(), ':') == 1)) {
    if (port.empty() || port.size() > 5 || port.find_first_not_of("0123456789") != std::string::npos)
      return bad("the port must be a number from 1 to 65535");
    auto n = std::stoul(port);
    if (n == 0 || n > 65535) return bad("the port must be a number from 1 to 65535");
    out.port = static_cast<std::uint16_t>(n);
  }
  return out;
}

bool local_network_only(const std::string& bind_host, const std::vector<std::string>& peer_ips) {
  if (classify_address(bind_host) == address_class::loopback) return true;
  if (peer_ips.empty()) return false;
  return std::all_of(peer_ips.begin(), peer_ips.end(), [](const std::string& ip) {
    return classify_address(ip) == address_class::loopback;
  });
}

announce_decision decide_announce_address(const announce_inputs& in) {
  announce_decision d;
  if (in.http_port == 0) {
    d.why_none = "the HTTP port is not bound yet";
    return d;
  }
  bool local_only = local_network_only(in.bind_host, in.peer_ips);
  if (!in.public_host.empty()) {
    auto why = refusal(in.public_host, local_only);
    if (why.empty()) {
      d.host = in.public_host;
      d.port = in.public_port != 0 ? in.public_port : in.http_port;
      d.source = "public-address";
    } else {
      d.why_none = "--public-address " + in.public_host + " is " + why;
    }
    return d;  // given on purpose: never replaced by a guess
  }
  std::string why_observed;
  if (!in.observed_ip.empty()) {
    why_observed = refusal(in.observed_ip, local_only);
    if (why_observed.empty()) {
      d.host = in.observed_ip;
      d.port = in.http_port;
      d.source = "stun";
      return d;
    }
  }
  auto why_bind = refusal(in.bind_host, local_only);
  if (why_bind.empty()) {
    d.host = in.bind_host;
    d.port = in.http_port;
    d.source = "bind";
    return d;
  }
  d.why_none = "--bind " + in.bind_host + " is " + why_bind;
  if (!why_observed.empty())
    d.why_none = "a peer sees this node as " + in.observed_ip + ", " + why_observed + "; " +
                 d.why_none;
  else if (in.observed_ip.empty())
    d.why_none += ", and no peer has told this node its address yet (stun)";
  d.why_none += "; give --public-address";
  return d;
}

}  // namespace sova::net
