// Node ids, the XOR metric and host:port parsing.
#define CAF_SUITE node_id
#include "caf/test/unit_test.hpp"

#include <random>
#include <string>

#include "net/contact.hpp"
#include "net/node_id.hpp"

using namespace sova::net;

namespace {

node_id from_hex(const std::string& hex) {
  auto id = node_id::from_hex(hex);
  CAF_REQUIRE(id);
  return *id;
}

/// An id that is zero except for the last byte.
node_id small(std::uint8_t last) {
  node_id id;
  id.bytes()[node_id::size - 1] = last;
  return id;
}

}  // namespace

CAF_TEST(sha1_digests) {
  CAF_CHECK_EQUAL(node_id::digest("asr/cpu").to_hex(), "5379f5b6162bda705452a971253bcbe8ffda460a");
  CAF_CHECK_EQUAL(node_id::digest("tts/gpu").to_hex(), "b3ec140dfdf0758d0c8c35d547ebf10304e72121");
  CAF_CHECK_EQUAL(node_id::digest("").to_hex(), "da39a3ee5e6b4b0d3255bfef95601890afd80709");
  // More than one 64-byte sha1 block.
  CAF_CHECK_EQUAL(node_id::digest(std::string(1000, 'a')).to_hex(),
                  "291e9a6c66994949b57ba5e650361e98fc36b1ba");
}

CAF_TEST(hex_round_trip) {
  const std::string hex = "fc11083b3dc1211c5ff23aef672ae87946230df4";
  CAF_CHECK_EQUAL(from_hex(hex).to_hex(), hex);
  CAF_CHECK_EQUAL(from_hex("FC11083B3DC1211C5FF23AEF672AE87946230DF4").to_hex(), hex);
  auto id = from_hex(hex);
  CAF_CHECK_EQUAL(id.bytes()[0], 0xfc);
  CAF_CHECK_EQUAL(id.bytes()[19], 0xf4);
  auto raw = id.to_binary();
  CAF_CHECK_EQUAL(raw.size(), node_id::size);
  auto back = node_id::from_bytes(raw);
  CAF_REQUIRE(back);
  CAF_CHECK(*back == id);
}

CAF_TEST(from_bytes_and_from_hex_reject_bad_input) {
  CAF_CHECK(!node_id::from_bytes(""));
  CAF_CHECK(!node_id::from_bytes(std::string(19, 'x')));
  CAF_CHECK(!node_id::from_bytes(std::string(21, 'x')));
  CAF_CHECK(node_id::from_bytes(std::string(20, '\0')));
  CAF_CHECK(!node_id::from_hex(""));
  CAF_CHECK(!node_id::from_hex(std::string(39, 'a')));
  CAF_CHECK(!node_id::from_hex(std::string(41, 'a')));
  CAF_CHECK(!node_id::from_hex(std::string(42, 'a')));
  CAF_CHECK(!node_id::from_hex(std::string(39, 'a') + "g"));
  CAF_CHECK(!node_id::from_hex("x" + std::string(39, '0')));
  CAF_CHECK(!node_id::from_hex(std::string(38, '0') + " 0"));
  CAF_CHECK(!node_id::from_hex(std::string(38, '0') + "0x"));
}

CAF_TEST(xor_distance_and_order) {
  auto a = from_hex("fc11083b3dc1211c5ff23aef672ae87946230df4");
  auto b = from_hex("7a1a0b89f7789e90b89761f489f2191a7025d87a");
  CAF_CHECK_EQUAL((a ^ b).to_hex(), "860b03b2cab9bf8ce7655b1beed8f1633606d58e");
  CAF_CHECK((a ^ a).is_zero());
  CAF_CHECK((a ^ b) == (b ^ a));
  CAF_CHECK(!a.is_zero());
  // Order is big-endian numeric: the first byte weighs most.
  node_id high;
  high.bytes()[0] = 1;
  CAF_CHECK(small(0xff) < high);
  CAF_CHECK(small(1) < small(2));
  CAF_CHECK(!(small(2) < small(2)));
  // closer_to: strictly closer by XOR, not by numeric difference.
  auto target = small(0b1000);
  CAF_CHECK(closer_to(target, small(0b1001), small(0b0111)));  // 1 < 15
  CAF_CHECK(!closer_to(target, small(0b0111), small(0b1001)));
  CAF_CHECK(closer_to(target, target, small(0b1001)));
  CAF_CHECK(!closer_to(target, small(3), small(3)));
  CAF_CHECK(closer_to(a, b, high) == ((b ^ a) < (high ^ a)));
}

CAF_TEST(common_prefix_bits) {
  node_id zero;
  CAF_CHECK_EQUAL(zero.common_prefix_bits(zero), node_id::bits);
  node_id top;
  top.set_bit(0, true);
  CAF_CHECK_EQUAL(zero.common_prefix_bits(top), 0u);
  CAF_CHECK_EQUAL(zero.common_prefix_bits(small(1)), 159u);
  CAF_CHECK_EQUAL(zero.common_prefix_bits(small(0x80)), 152u);
  node_id mid;
  mid.set_bit(13, true);
  CAF_CHECK(mid.bit(13));
  CAF_CHECK(!mid.bit(12) && !mid.bit(14));
  CAF_CHECK_EQUAL(mid.common_prefix_bits(zero), 13u);
  CAF_CHECK_EQUAL(zero.common_prefix_bits(mid), 13u);
  mid.set_bit(13, false);
  CAF_CHECK(mid.is_zero());
}

CAF_TEST(random_in_keeps_the_prefix) {
  std::mt19937_64 rng(42);
  auto prefix = from_hex("fc11083b3dc1211c5ff23aef672ae87946230df4");
  for (std::size_t len : {0u, 1u, 5u, 8u, 13u, 64u, 159u, 160u}) {
    for (int round = 0; round < 20; ++round) {
      auto id = node_id::random_in(prefix, len, rng);
      CAF_CHECK_GREATER_OR_EQUAL(id.common_prefix_bits(prefix), len);
    }
  }
  CAF_CHECK(node_id::random_in(prefix, 160, rng) == prefix);
  // The bits after the prefix vary: 40 draws of 8 free bits are not all equal.
  bool varied = false;
  auto first = node_id::random_in(prefix, 152, rng);
  for (int i = 0; i < 40 && !varied; ++i) varied = node_id::random_in(prefix, 152, rng) != first;
  CAF_CHECK(varied);
  CAF_CHECK(node_id::random(rng) != node_id::random(rng));
}

CAF_TEST(hash_uses_the_leading_bytes) {
  node_id_hash h;
  CAF_CHECK_EQUAL(h(node_id{}), 0u);
  CAF_CHECK(h(from_hex("fc11083b3dc1211c5ff23aef672ae87946230df4")) !=
            h(from_hex("7a1a0b89f7789e90b89761f489f2191a7025d87a")));
}

CAF_TEST(parse_host_port_accepts) {
  auto check = [](const char* text, const std::string& host, int port) {
    auto ep = parse_host_port(text);
    CAF_REQUIRE(ep);
    CAF_CHECK_EQUAL(ep->host, host);
    CAF_CHECK_EQUAL(ep->port, port);
  };
  check("127.0.0.1:5678", "127.0.0.1", 5678);
  check("node-a:5678", "node-a", 5678);
  check("[::1]:5678", "::1", 5678);
  check("x:1", "x", 1);
  check("x:65535", "x", 65535);
}

CAF_TEST(parse_host_port_rejects) {
  for (const char* text : {"", "x", "x:", ":5", "x:0", "x:65536", "x:12ab", "::1:5", "x:-1",
                           "x:+5", "x: 5", "[::1]", "[::1]5678", "[::1:5678", "[]:5",
                           "x:99999999999"})
    CAF_CHECK(!parse_host_port(text));
}

CAF_TEST(parse_host_port_takes_port_zero_only_for_listening) {
  auto any = parse_host_port("127.0.0.1:0", true);
  CAF_REQUIRE(any);
  CAF_CHECK_EQUAL(any->port, 0);
  CAF_CHECK(!parse_host_port("127.0.0.1:0"));
  CAF_CHECK(!parse_host_port("127.0.0.1:65536", true));
}

CAF_TEST(endpoint_and_contact_text) {
  CAF_CHECK_EQUAL((endpoint{"127.0.0.1", 7001}).to_string(), "127.0.0.1:7001");
  CAF_CHECK_EQUAL((endpoint{"::1", 7001}).to_string(), "[::1]:7001");
  auto round = parse_host_port((endpoint{"::1", 7001}).to_string());
  CAF_REQUIRE(round);
  CAF_CHECK(*round == (endpoint{"::1", 7001}));
  contact c{from_hex("fc11083b3dc1211c5ff23aef672ae87946230df4"), endpoint{"127.0.0.1", 7001}};
  CAF_CHECK_EQUAL(c.to_string(), "fc11083b@127.0.0.1:7001");
}
