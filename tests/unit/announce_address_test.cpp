// The address a node announces for its own services: --public-address, else what a peer
// sees (stun), else --bind; never 0.0.0.0/::, and loopback only while every peer is local.
#define CAF_SUITE announce_address
#include "caf/test/unit_test.hpp"

#include "net/announce_address.hpp"

using namespace sova::net;

namespace {

announce_inputs on(const std::string& bind, std::vector<std::string> peers = {}) {
  announce_inputs in;
  in.bind_host = bind;
  in.http_port = 5600;
  in.peer_ips = std::move(peers);
  return in;
}

}  // namespace

CAF_TEST(public_address_wins_and_its_port_defaults_to_the_http_port) {
  auto in = on("0.0.0.0", {"10.0.0.2"});
  in.observed_ip = "192.168.1.9";
  in.public_host = "203.0.113.7";
  auto d = decide_announce_address(in);
  CAF_CHECK_EQUAL(d.endpoint(), "203.0.113.7:5600");
  CAF_CHECK_EQUAL(d.source, "public-address");
  in.public_port = 80;
  CAF_CHECK_EQUAL(decide_announce_address(in).endpoint(), "203.0.113.7:80");
  in.public_host = "node1.example.org";  // a name is taken as given
  CAF_CHECK_EQUAL(decide_announce_address(in).endpoint(), "node1.example.org:80");
  in.public_host = "2001:db8::5";
  CAF_CHECK_EQUAL(decide_announce_address(in).endpoint(), "[2001:db8::5]:80");
}

CAF_TEST(a_public_address_that_peers_cannot_reach_is_not_replaced_by_a_guess) {
  auto in = on("0.0.0.0", {"10.0.0.2"});
  in.observed_ip = "10.0.0.9";
  in.public_host = "127.0.0.1";
  auto d = decide_announce_address(in);
  CAF_CHECK_EQUAL(d.endpoint(), "");
  CAF_CHECK_NOT_EQUAL(d.why_none.find("--public-address 127.0.0.1 is a loopback"),
                      std::string::npos);
}

CAF_TEST(what_a_peer_sees_comes_before_the_bind_address) {
  auto in = on("10.0.0.5", {"203.0.113.1"});
  in.observed_ip = "198.51.100.4";  // behind a NAT
  auto d = decide_announce_address(in);
  CAF_CHECK_EQUAL(d.endpoint(), "198.51.100.4:5600");
  CAF_CHECK_EQUAL(d.source, "stun");
  in.observed_ip.clear();
  d = decide_announce_address(in);
  CAF_CHECK_EQUAL(d.endpoint(), "10.0.0.5:5600");
  CAF_CHECK_EQUAL(d.source, "bind");
}

CAF_TEST(an_unspecified_bind_address_is_never_announced) {
  for (const char* any : {"0.0.0.0", "::"}) {
    auto d = decide_announce_address(on(any, {"10.0.0.2"}));
    CAF_CHECK_EQUAL(d.endpoint(), "");
    CAF_MESSAGE(d.why_none);
    CAF_CHECK_NOT_EQUAL(d.why_none.find("unspecified"), std::string::npos);
    CAF_CHECK_NOT_EQUAL(d.why_none.find("no peer has told"), std::string::npos);
    CAF_CHECK_NOT_EQUAL(d.why_none.find("--public-address"), std::string::npos);
  }
  // Once a peer has said how it sees the node, that address is announced.
  auto in = on("0.0.0.0", {"10.0.0.2"});
  in.observed_ip = "10.0.0.7";
  CAF_CHECK_EQUAL(decide_announce_address(in).endpoint(), "10.0.0.7:5600");
}

CAF_TEST(loopback_is_announced_only_while_every_peer_is_local) {
  // Bound to loopback: every peer is on this machine.
  CAF_CHECK_EQUAL(decide_announce_address(on("127.0.0.2", {})).endpoint(), "127.0.0.2:5600");
  CAF_CHECK_EQUAL(decide_announce_address(on("127.0.0.2", {"127.0.0.3"})).endpoint(),
                  "127.0.0.2:5600");
  // Bound to every interface, peers on loopback only (a test or demo network).
  auto in = on("0.0.0.0", {"127.0.0.3", "::1"});
  in.observed_ip = "127.0.0.1";
  CAF_CHECK_EQUAL(decide_announce_address(in).endpoint(), "127.0.0.1:5600");
  // One peer on another machine: loopback would send it to itself.
  in.peer_ips.push_back("10.0.0.2");
  auto d = decide_announce_address(in);
  CAF_CHECK_EQUAL(d.endpoint(), "");
  CAF_MESSAGE(d.why_none);
  CAF_CHECK_NOT_EQUAL(d.why_none.find("a peer sees this node as 127.0.0.1, a loopback"), std::string::npos);
  // No peer known yet and bound to every interface: nothing tells the network is local.
  CAF_CHECK(!local_network_only("0.0.0.0", {}));
  CAF_CHECK(local_network_only("::1", {"10.0.0.1"}));
}

CAF_TEST(link_local_and_multicast_are_never_announced) {
  auto in = on("169.254.169.254", {"10.0.0.2"});
  CAF_CHECK_EQUAL(decide_announce_address(in).endpoint(), "");
  in.observed_ip = "224.0.0.1";
  CAF_CHECK_EQUAL(decide_announce_address(in).endpoint(), "");
}

CAF_TEST(nothing_is_announced_before_the_http_port_is_bound) {
  auto in = on("10.0.0.5");
  in.http_port = 0;
  auto d = decide_announce_address(in);
  CAF_CHECK_EQUAL(d.endpoint(), "");
  CAF_CHECK_EQUAL(d.why_none, "the HTTP port is not bound yet");
}

CAF_TEST(public_address_takes_a_host_with_or_without_a_port) {
  auto p = parse_public_address("203.0.113.7");
  CAF_REQUIRE(p);
  CAF_CHECK_EQUAL(p->host, "203.0.113.7");
  CAF_CHECK_EQUAL(p->port, 0u);
  p = parse_public_address("node1.example.org:8080");
  CAF_REQUIRE(p);
  CAF_CHECK_EQUAL(p->host, "node1.example.org");
  CAF_CHECK_EQUAL(p->port, 8080u);
  p = parse_public_address("[2001:db8::5]:80");
  CAF_REQUIRE(p);
  CAF_CHECK_EQUAL(p->host, "2001:db8::5");
  CAF_CHECK_EQUAL(p->port, 80u);
  p = parse_public_address("2001:db8::5");
  CAF_REQUIRE(p);
  CAF_CHECK_EQUAL(p->host, "2001:db8::5");
  CAF_CHECK_EQUAL(p->port, 0u);
  std::string why;
  for (const char* bad : {"", ":80", "host:", "host:0", "host:65536", "host:http", "[::1", "[::1]x"}) {
    CAF_CHECK(!parse_public_address(bad, &why));
    CAF_MESSAGE(why);
  }
}
