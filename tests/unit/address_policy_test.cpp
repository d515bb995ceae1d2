// Backend addresses are judged on the numeric address they resolved to: every spelling
// of loopback, unspecified, link-local (cloud metadata), multicast and broadcast is
// refused; private ranges are allowed unless refused; the node's own HTTP API never is.
#define CAF_SUITE address_policy
#include "caf/test/unit_test.hpp"

#include "net/address_policy.hpp"

using namespace sova::net;

namespace {

std::string class_of(const std::string& ip) {
  auto c = classify_address(ip);
  return c ? to_string(*c) : "not an address";
}

bool allowed(const address_policy& p, const std::string& ip, std::uint16_t port = 8899) {
  return !p.refusal(ip, port).has_value();
}

}  // namespace

CAF_TEST(addresses_are_classified_whatever_the_family) {
  CAF_CHECK_EQUAL(class_of("127.0.0.1"), "loopback");
  CAF_CHECK_EQUAL(class_of("127.255.0.9"), "loopback");
  CAF_CHECK_EQUAL(class_of("::1"), "loopback");
  CAF_CHECK_EQUAL(class_of("::ffff:127.0.0.1"), "loopback");  // what [::ffff:127.0.0.1] is
  CAF_CHECK_EQUAL(class_of("::ffff:7f00:1"), "loopback");
  CAF_CHECK_EQUAL(class_of("0:0:0:0:0:0:0:1"), "loopback");
  CAF_CHECK_EQUAL(class_of("::127.0.0.1"), "loopback");  // IPv4-compatible
  CAF_CHECK_EQUAL(class_of("64:ff9b::7f00:1"), "loopback");  // NAT64
  CAF_CHECK_EQUAL(class_of("0.0.0.0"), "unspecified");  // what "0" resolves to
  CAF_CHECK_EQUAL(class_of("0.1.2.3"), "unspecified");
  CAF_CHECK_EQUAL(class_of("::"), "unspecified");
  CAF_CHECK_EQUAL(class_of("169.254.169.254"), "link-local");
  CAF_CHECK_EQUAL(class_of("fe80::1"), "link-local");
  CAF_CHECK_EQUAL(class_of("::ffff:169.254.169.254"), "link-local");
  CAF_CHECK_EQUAL(class_of("224.0.0.1"), "multicast");
  CAF_CHECK_EQUAL(class_of("ff02::1"), "multicast");
  CAF_CHECK_EQUAL(class_of("255.255.255.255"), "broadcast");
  CAF_CHECK_EQUAL(class_of("240.0.0.1"), "reserved");
  CAF_CHECK_EQUAL(class_of("10.1.2.3"), "private");
  CAF_CHECK_EQUAL(class_of("172.16.0.1"), "private");
  CAF_CHECK_EQUAL(class_of("172.31.255.255"), "private");
  CAF_CHECK_EQUAL(class_of("192.168.1.1"), "private");
  CAF_CHECK_EQUAL(class_of("100.64.0.1"), "private");
  CAF_CHECK_EQUAL(class_of("fd12:3456::1"), "private");
  CAF_CHECK_EQUAL(class_of("172.32.0.1"), "public");
  CAF_CHECK_EQUAL(class_of("8.8.8.8"), "public");
  CAF_CHECK_EQUAL(class_of("2001:db8::1"), "public");
  CAF_CHECK_EQUAL(class_of("::ffff:8.8.8.8"), "public");
  CAF_CHECK_EQUAL(class_of("localhost"), "not an address");
  CAF_CHECK_EQUAL(class_of("2130706433"), "not an address");  // resolved before it is judged
}

CAF_TEST(the_default_policy_allows_public_and_private_and_refuses_the_rest) {
  address_policy p;
  CAF_CHECK(allowed(p, "8.8.8.8"));
  CAF_CHECK(allowed(p, "10.1.2.3"));
  CAF_CHECK(allowed(p, "fd00::5"));
  for (const auto* bad : {"127.0.0.1", "::ffff:127.0.0.1", "::1", "0.0.0.0", "::",
                          "169.254.169.254", "fe80::1", "224.0.0.1", "255.255.255.255",
                          "240.0.0.1"})
    CAF_CHECK_EQUAL(std::string(bad) + (allowed(p, bad) ? " allowed" : " refused"),
                    std::string(bad) + " refused");
  auto why = p.refusal("127.0.0.1", 8899);
  CAF_REQUIRE(why.has_value());
  CAF_CHECK_EQUAL(*why, "127.0.0.1 is a loopback address, which other machines cannot reach "
                        "(--allow-loopback allows it)");
  auto metadata = p.refusal("169.254.169.254", 80);
  CAF_REQUIRE(metadata.has_value());
  CAF_CHECK_EQUAL(*metadata, "169.254.169.254 is a link-local address, never a backend");
}

CAF_TEST(flags_allow_loopback_and_refuse_private) {
  address_policy p;
  p.allow_loopback = true;
  p.allow_private = false;
  CAF_CHECK(allowed(p, "127.0.0.2"));
  CAF_CHECK(allowed(p, "::ffff:127.0.0.1"));
  CAF_CHECK(!allowed(p, "0.0.0.0"));  // not loopback: unspecified stays refused
  CAF_CHECK(!allowed(p, "192.168.0.10"));
  CAF_CHECK(!allowed(p, "100.100.0.1"));
  CAF_CHECK(allowed(p, "8.8.4.4"));
}

CAF_TEST(own_backends_may_sit_on_loopback_or_a_private_network_whatever_the_flags) {
  address_policy p;  // no --allow-loopback
  p.allow_private = false;  // --refuse-private
  p.own_backends = {{"127.0.0.1", 8888}, {"192.168.0.10", 8899}};
  CAF_CHECK(allowed(p, "127.0.0.1", 8888));
  CAF_CHECK(allowed(p, "::ffff:127.0.0.1", 8888));
  CAF_CHECK(allowed(p, "192.168.0.10", 8899));
  // Anything else on those networks is still judged by the flags: a record from the
  // network naming another loopback port, or another private host.
  CAF_CHECK(!allowed(p, "127.0.0.1", 8889));
  CAF_CHECK(!allowed(p, "127.0.0.2", 8888));
  CAF_CHECK(!allowed(p, "192.168.0.11", 8899));
  // An own backend never makes the node's own HTTP API or an unspecified address usable.
  p.own = {{"127.0.0.1", 8888}};
  CAF_CHECK(!allowed(p, "127.0.0.1", 8888));
  p.own_backends = {{"0.0.0.0", 8888}};
  CAF_CHECK(!allowed(p, "0.0.0.0", 8888));
}

CAF_TEST(the_nodes_own_http_api_is_never_a_backend) {
  address_policy p;
  p.allow_loopback = true;
  p.own = {{"0.0.0.0", 5600}};
  p.local_addresses = {"192.168.1.20", "fe80::2"};
  CAF_CHECK(!allowed(p, "127.0.0.1", 5600));
  CAF_CHECK(!allowed(p, "127.0.0.7", 5600));
  CAF_CHECK(!allowed(p, "::ffff:192.168.1.20", 5600));
  CAF_CHECK(allowed(p, "192.168.1.20", 8899));  // a backend on this host, another port
  CAF_CHECK(allowed(p, "192.168.1.21", 5600));  // another machine's node port
  p.own = {{"127.0.0.2", 5600}};
  CAF_CHECK(!allowed(p, "127.0.0.2", 5600));
  CAF_CHECK(allowed(p, "127.0.0.3", 5600));  // another node on this machine
  auto why = p.refusal("127.0.0.2", 5600);
  CAF_REQUIRE(why.has_value());
  CAF_CHECK_EQUAL(*why, "127.0.0.2:5600 is this node's own HTTP API (a record pointing back "
                        "at the node)");
}
