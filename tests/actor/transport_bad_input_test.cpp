// Deterministic CAF tests of the rpc transport against a hostile or broken peer:
// malformed datagrams, unsolicited and late replies, replies that do not decode,
// the exact bytes of the answers an original (Python kademlia 2.2.2) peer expects,
// the bounds on what a peer can make us store, and calls ended when the transport stops. A probe endpoint stands in for
// the peer: what the node sends it is captured, what it "sends" is injected.
#define CAF_SUITE transport_bad_input
#include "caf/test/dsl.hpp"

#include <algorithm>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "actors/interfaces.hpp"
#include "net/wire.hpp"
#include "sim_network.hpp"

using namespace sova;
using namespace std::chrono_literals;
using actors::contacts;
using actors::strings;
using net::wire::rpc_kind;

namespace {

/// Hand-made msgpack, so that malformed bodies can be written byte by byte.
/// Only the small forms are needed (fixarray, fixmap, fixstr/str8/str16, bin8).
class mp {
public:
  mp& array(std::size_t n) { return byte(0x90 | n); }
  mp& map(std::size_t n) { return byte(0x80 | n); }
  mp& str(std::string_view s) {
    if (s.size() < 32) {
      byte(0xa0 | s.size());
    } else if (s.size() < 256) {
      byte(0xd9).byte(s.size());
    } else {
      byte(0xda).byte(s.size() >> 8).byte(s.size() & 0xff);
    }
    out_.append(s);
    return *this;
  }
  mp& bin(std::string_view s) {
    byte(0xc4).byte(s.size());
    out_.append(s);
    return *this;
  }
  mp& id(const net::node_id& x) { return bin(x.to_binary()); }
  mp& fixint(unsigned v) { return byte(v & 0x7f); }
  mp& nil() { return byte(0xc0); }
  mp& raw(std::string_view s) {
    out_.append(s);
    return *this;
  }
  mp& byte(std::size_t b) {
    out_.push_back(static_cast<char>(static_cast<unsigned char>(b)));
    return *this;
  }
  const std::string& bytes() const { return out_; }

private:
  std::string out_;
};

net::wire::msg_id make_msg_id(std::uint64_t n) {
  net::wire::msg_id id{};
  for (std::size_t i = 0; i < 8; ++i) id[i] = static_cast<std::uint8_t>(n >> (8 * i));
  id[19] = 0x5a;  // never all zero
  return id;
}

std::string frame(bool response, const net::wire::msg_id& id, std::string body) {
  net::wire::frame f;
  f.is_response = response;
  f.id = id;
  f.body = std::move(body);
  return net::wire::encode_frame(f);
}

std::string id_string(const net::wire::msg_id& id) { return std::string(id.begin(), id.end()); }

net::node_id id_of(const net::endpoint& ep) {
  return net::node_id::digest("probe@" + ep.to_string());
}

net::node_id key_of(const std::string& name) { return net::node_id::digest(name); }

/// Bytes as hex, for readable failure messages.
std::string hex(std::string_view s) { return net::to_hex(s); }

struct fixture : test_coordinator_fixture<> {
  sim::sim_network net{sys, 2024};
  const net::endpoint probe{"127.9.0.1", 4000};
  std::uint64_t next_msg = 0;

  /// Node 0, the node under test.
  void start(actors::dht_config c = {}) {
    CAF_REQUIRE_EQUAL(net.add_node(net.make_config(c)), 0u);
    sent_to(probe);  // the probe captures from the start
    sched.run();
  }

  const net::node_id& node_id() { return net.node(0).cfg.self; }

  template <class T>
  T await(const sim::answer<T>& a, caf::timespan limit = 60s) {
    CAF_REQUIRE(sim::drive(sched, [&] { return sim::ready(a); }, limit));
    CAF_REQUIRE(**a);
    return ***a;
  }

  actors::transport_stats stats() {
    return await(sim::ask<actors::transport_stats>(sys, net.node(0).transport,
                                                   actors::stats_atom::value));
  }

  strings local(const net::node_id& key) {
    return await(sim::ask<strings>(sys, net.node(0).transport, actors::local_atom::value, key));
  }

  contacts table() {
    return await(sim::ask<contacts>(sys, net.node(0).table, actors::table_atom::value));
  }

  bool in_table(const net::node_id& id) {
    auto t = table();
    return std::any_of(t.begin(), t.end(), [&](const auto& c) { return c.id == id; });
  }

  /// Everything the node sent to `ep` so far (registers `ep` as a probe).
  sim::captured& sent_to(const net::endpoint& ep) { return net.capture(ep); }

  /// Injects a request from `from` with a fresh message id; does not run the scheduler.
  net::wire::msg_id send_request(const net::endpoint& from, const net::wire::request& r) {
    sent_to(from);
    auto id = make_msg_id(++next_msg);
    net.inject_datagram(from, 0, frame(false, id, net::wire::encode_request(r)));
    return id;
  }

  net::wire::request request_of(rpc_kind kind, const net::endpoint& from) {
    net::wire::request r;
    r.kind = kind;
    r.sender = id_of(from);
    return r;
  }

  net::wire::request store_request(const net::endpoint& from, const net::node_id& key,
                                   strings values) {
    auto r = request_of(rpc_kind::store, from);
    r.key = key;
    r.values_as_array = values.size() != 1;
    r.values = std::move(values);
    return r;
  }

  /// The body of the node's response to `id` as captured at `ep`, if any.
  std::optional<std::string> response_body(const net::endpoint& ep, const net::wire::msg_id& id) {
    std::optional<std::string> out;
    for (const auto& [from, bytes] : sent_to(ep)) {
      auto f = net::wire::parse_frame(bytes);
      if (!f || !f->is_response || f->id != id) continue;
      CAF_CHECK_EQUAL(from, net.endpoint_of(0));
      CAF_CHECK(!out);  // answered at most once
      out = f->body;
    }
    return out;
  }

  /// All responses captured at `ep`, by message id.
  std::map<std::string, std::string> responses(const net::endpoint& ep) {
    std::map<std::string, std::string> out;
    for (const auto& [from, bytes] : sent_to(ep)) {
      auto f = net::wire::parse_frame(bytes);
      if (f && f->is_response) out.emplace(id_string(f->id), f->body);
    }
    return out;
  }

  /// Requests (calls of the node) captured at `ep`.
  std::vector<net::wire::frame> calls_to(const net::endpoint& ep) {
    std::vector<net::wire::frame> out;
    for (const auto& [from, bytes] : sent_to(ep)) {
      auto f = net::wire::parse_frame(bytes);
      if (f && !f->is_response) out.push_back(*f);
    }
    return out;
  }

  /// The probe at `from` pings the node and must get the node's id back.
  void expect_ping_answered(const net::endpoint& from) {
    auto id = send_request(from, request_of(rpc_kind::ping, from));
    sched.run();
    auto body = response_body(from, id);
    CAF_REQUIRE(body);
    auto rep = net::wire::decode_reply(rpc_kind::ping, *body);
    CAF_REQUIRE(rep);
    CAF_CHECK_EQUAL(rep->id.to_hex(), node_id().to_hex());
  }

  /// A store from `from`; the node's answer (nothing when it did not answer).
  std::optional<bool> store(const net::endpoint& from, const net::node_id& key, strings values) {
    auto id = send_request(from, store_request(from, key, std::move(values)));
    sched.run();
    auto body = response_body(from, id);
    if (!body) return std::nullopt;
    // The original expects a msgpack bool: c3 (true) or c2 (false).
    CAF_CHECK(*body == "\xc3" || *body == "\xc2");
    auto rep = net::wire::decode_reply(rpc_kind::store, *body);
    CAF_REQUIRE(rep);
    return rep->stored;
  }

  /// `n` stores under distinct keys "<prefix>/<i>" from `from`, all injected before the
  /// node runs; returns how many were answered `true` (all must be answered).
  std::size_t store_burst(const net::endpoint& from, const std::string& prefix, std::size_t n) {
    std::vector<net::wire::msg_id> ids;
    ids.reserve(n);
    for (std::size_t i = 0; i < n; ++i)
      ids.push_back(send_request(
          from, store_request(from, key_of(prefix + "/" + std::to_string(i)),
                              {"asr/cpu/192.0.2." + std::to_string(i % 250) + ":8888"})));
    sched.run();
    auto got = responses(from);
    std::size_t answered = 0, accepted = 0;
    for (const auto& id : ids) {
      auto it = got.find(id_string(id));
      if (it == got.end()) continue;
      ++answered;
      auto rep = net::wire::decode_reply(rpc_kind::store, it->second);
      if (rep && rep->stored) ++accepted;
    }
    CAF_CHECK_EQUAL(answered, n);
    return accepted;
  }
};

strings numbered_values(std::size_t n) {
  strings out;
  for (std::size_t i = 0; i < n; ++i)
    out.push_back("asr/cpu/127.0." + std::to_string(i) + ".1:8888");
  return out;
}

}  // namespace

CAF_TEST_FIXTURE_SCOPE(transport_bad_input_tests, fixture)

// -- malformed datagrams ----------------------------------------------------------

CAF_TEST(malformed_datagrams_are_dropped_counted_and_never_answered) {
  start();
  auto& got = sent_to(probe);
  auto me = id_of(probe);
  auto key = key_of("asr/cpu");
  net::wire::msg_id mid = make_msg_id(777);
  auto req = [&](const std::string& body) { return frame(false, mid, body); };

  // Sanity: the hand-made encoding of a valid request is byte-identical to the codec's,
  // so each malformed body below differs from a valid one only where intended.
  CAF_REQUIRE_EQUAL(hex(mp{}.array(2).str("ping").array(1).id(me).bytes()),
                    hex(net::wire::encode_request(request_of(rpc_kind::ping, probe))));
  auto valid_ping = mp{}.array(2).str("ping").array(1).id(me).bytes();

  std::vector<std::pair<std::string, std::string>> cases{
      {"empty datagram", std::string()},
      {"1-byte datagram", std::string(1, '\0')},
      {"21-byte datagram (header only)", std::string(21, '\0')},
      {"first byte 0x02", "\x02" + req(valid_ping).substr(1)},
      {"first byte 0xff", "\xff" + req(valid_ping).substr(1)},
      {"body is not msgpack (0xc1)", req("\xc1")},
      {"body is text, not one msgpack object", req("hello, kademlia")},
      {"truncated msgpack", req(valid_ping.substr(0, valid_ping.size() - 5))},
      {"trailing bytes after the body", req(valid_ping + std::string(1, '\xc0'))},
      {"body is a map, not [name, args]",
       req(mp{}.map(1).str("ping").array(1).id(me).bytes())},
      {"body of 3 elements", req(mp{}.array(3).str("ping").array(1).id(me).nil().bytes())},
      {"function name as bin", req(mp{}.array(2).bin("ping").array(1).id(me).bytes())},
      {"ping with no args", req(mp{}.array(2).str("ping").array(0).bytes())},
      {"ping with 2 args", req(mp{}.array(2).str("ping").array(2).id(me).id(key).bytes())},
      {"ping args not an array", req(mp{}.array(2).str("ping").id(me).bytes())},
      {"store with 2 args", req(mp{}.array(2).str("store").array(2).id(me).id(key).bytes())},
      {"store with 4 args",
       req(mp{}.array(2).str("store").array(4).id(me).id(key).str("v").str("w").bytes())},
      {"store value as int",
       req(mp{}.array(2).str("store").array(3).id(me).id(key).fixint(7).bytes())},
      {"store value array holding an int",
       req(mp{}.array(2).str("store").array(3).id(me).id(key).array(2).str("v").fixint(7).bytes())},
      {"store value not UTF-8",
       req(mp{}.array(2).str("store").array(3).id(me).id(key).str("\xff\xfe").bytes())},
      {"find_node with 1 arg", req(mp{}.array(2).str("find_node").array(1).id(me).bytes())},
      {"find_node with 3 args",
       req(mp{}.array(2).str("find_node").array(3).id(me).id(key).id(key).bytes())},
      {"find_node key as int",
       req(mp{}.array(2).str("find_node").array(2).id(me).fixint(1).bytes())},
      {"find_value with 1 arg", req(mp{}.array(2).str("find_value").array(1).id(me).bytes())},
      {"find_value with 3 args",
       req(mp{}.array(2).str("find_value").array(3).id(me).id(key).nil().bytes())},
      {"stun with 1 arg", req(mp{}.array(2).str("stun").array(1).id(me).bytes())},
      {"sender id of 19 bytes",
       req(mp{}.array(2).str("ping").array(1).bin(me.to_binary().substr(0, 19)).bytes())},
      {"sender id of 21 bytes",
       req(mp{}.array(2).str("ping").array(1).bin(me.to_binary() + "x").bytes())},
      {"key of 19 bytes",
       req(mp{}.array(2).str("find_node").array(2).id(me).bin(key.to_binary().substr(1)).bytes())},
      {"sender id as str instead of bin",
       req(mp{}.array(2).str("ping").array(1).str(std::string(20, 'a')).bytes())},
      {"unknown function \"delete\"",
       req(mp{}.array(2).str("delete").array(2).id(me).id(key).bytes())},
  };

  auto before = stats();
  std::uint64_t drops = before.dropped_malformed;
  for (const auto& [what, bytes] : cases) {
    CAF_MESSAGE("malformed: " << what << " (" << bytes.size() << " bytes)");
    net.inject_datagram(probe, 0, bytes);
    sched.run();
    auto s = stats();
    CAF_CHECK_EQUAL(s.dropped_malformed, drops + 1);
    drops = s.dropped_malformed;
    CAF_CHECK_EQUAL(s.requests_in, 0u);
    CAF_CHECK_EQUAL(s.datagrams_out, 0u);
    CAF_CHECK(got.empty());
  }
  auto after = stats();
  CAF_CHECK_EQUAL(after.dropped_malformed, before.dropped_malformed + cases.size());
  CAF_CHECK_EQUAL(after.datagrams_in, before.datagrams_in + cases.size());
  CAF_CHECK_EQUAL(after.dropped_unsolicited, 0u);
  CAF_CHECK_EQUAL(after.stores_accepted + after.stores_refused, 0u);
  CAF_CHECK_EQUAL(after.records_keys, 0u);
  CAF_CHECK(got.empty());
  // Nothing malformed made the sender a contact.
  CAF_CHECK(!in_table(me));

  // Alive and not blocked: a valid ping is answered with the node's id.
  expect_ping_answered(probe);
  CAF_CHECK_EQUAL(got.size(), 1u);
  auto last = stats();
  CAF_CHECK_EQUAL(last.requests_in, 1u);
  CAF_CHECK_EQUAL(last.dropped_malformed, after.dropped_malformed);
  CAF_CHECK(in_table(me));
}

// -- replies we did not ask for ---------------------------------------------------

CAF_TEST(a_reply_to_a_call_never_made_is_dropped_as_unsolicited) {
  start();
  auto& got = sent_to(probe);
  net::wire::reply rep;
  rep.id = id_of(probe);
  net.inject_datagram(probe, 0,
                      frame(true, make_msg_id(4242), net::wire::encode_reply(rpc_kind::ping, rep)));
  sched.run();
  // A garbage body under an unknown id is unsolicited too (not even decoded).
  net.inject_datagram(probe, 0, frame(true, make_msg_id(4343), "\xc1\xc1"));
  sched.run();
  auto s = stats();
  CAF_CHECK_EQUAL(s.dropped_unsolicited, 2u);
  CAF_CHECK_EQUAL(s.dropped_malformed, 0u);
  CAF_CHECK_EQUAL(s.replies_in, 0u);
  CAF_CHECK_EQUAL(s.datagrams_out, 0u);
  CAF_CHECK(got.empty());
  CAF_CHECK(!in_table(id_of(probe)));

  // A second reply to a call that was already answered is unsolicited as well.
  auto a = sim::ask<net::node_id>(sys, net.node(0).transport, actors::ping_atom::value, probe);
  sched.run();
  auto calls = calls_to(probe);
  CAF_REQUIRE_EQUAL(calls.size(), 1u);
  auto answer = frame(true, calls[0].id, net::wire::encode_reply(rpc_kind::ping, rep));
  net.inject_datagram(probe, 0, answer);
  sched.run();
  CAF_REQUIRE(sim::ready(a));
  CAF_REQUIRE(**a);
  CAF_CHECK_EQUAL((**a)->to_hex(), id_of(probe).to_hex());
  net.inject_datagram(probe, 0, answer);
  sched.run();
  s = stats();
  CAF_CHECK_EQUAL(s.replies_in, 1u);
  CAF_CHECK_EQUAL(s.dropped_unsolicited, 3u);
  CAF_CHECK_EQUAL(calls_to(probe).size(), 1u);  // no reply to a reply
  expect_ping_answered(probe);
}

CAF_TEST(a_reply_from_another_address_than_the_one_called_is_not_taken) {
  start();
  const net::endpoint forger{"127.9.0.66", 4000};
  auto a = sim::ask<net::node_id>(sys, net.node(0).transport, actors::ping_atom::value, probe);
  sched.run();
  auto calls = calls_to(probe);
  CAF_REQUIRE_EQUAL(calls.size(), 1u);
  net::wire::reply forged;
  forged.id = id_of(forger);
  net.inject_datagram(forger, 0,
                      frame(true, calls[0].id, net::wire::encode_reply(rpc_kind::ping, forged)));
  sched.run();
  CAF_CHECK(!sim::ready(a));  // still waiting for the real peer
  CAF_CHECK_EQUAL(stats().dropped_unsolicited, 1u);
  CAF_CHECK(!in_table(id_of(forger)));
  net::wire::reply real;
  real.id = id_of(probe);
  net.inject_datagram(probe, 0,
                      frame(true, calls[0].id, net::wire::encode_reply(rpc_kind::ping, real)));
  sched.run();
  CAF_REQUIRE(sim::ready(a));
  CAF_REQUIRE(**a);
  CAF_CHECK_EQUAL((**a)->to_hex(), id_of(probe).to_hex());
}

CAF_TEST(a_reply_after_the_rpc_timeout_fails_the_call_and_is_then_unsolicited) {
  start();
  auto a = sim::ask<net::node_id>(sys, net.node(0).transport, actors::ping_atom::value, probe);
  sched.run();
  auto calls = calls_to(probe);
  CAF_REQUIRE_EQUAL(calls.size(), 1u);
  auto req = net::wire::decode_request(calls[0].body);
  CAF_REQUIRE(req);
  CAF_CHECK(req->kind == rpc_kind::ping);
  CAF_CHECK_EQUAL(req->sender.to_hex(), node_id().to_hex());

  // The probe stays silent past the 5 s timeout.
  CAF_CHECK(!sim::drive(sched, [&] { return sim::ready(a); }, 4900ms));
  CAF_REQUIRE(sim::drive(sched, [&] { return sim::ready(a); }, 200ms));
  CAF_REQUIRE(!**a);
  CAF_CHECK_EQUAL((*a)->error(), actors::make_error(actors::dht_errc::timeout));
  CAF_CHECK_EQUAL(stats().calls_timed_out, 1u);

  // Then its reply arrives.
  net::wire::reply rep;
  rep.id = id_of(probe);
  net.inject_datagram(probe, 0,
                      frame(true, calls[0].id, net::wire::encode_reply(rpc_kind::ping, rep)));
  sched.run();
  auto s = stats();
  CAF_CHECK_EQUAL(s.dropped_unsolicited, 1u);
  CAF_CHECK_EQUAL(s.replies_in, 0u);
  CAF_CHECK_EQUAL(s.dropped_malformed, 0u);
  CAF_CHECK_EQUAL(s.calls_timed_out, 1u);
  CAF_CHECK(!in_table(id_of(probe)));  // a late answer does not make a contact
  CAF_CHECK_EQUAL(calls_to(probe).size(), 1u);
  expect_ping_answered(probe);
}

CAF_TEST(a_reply_that_does_not_decode_for_its_call_fails_the_call_at_once) {
  start();
  auto target = key_of("tts/gpu");
  actors::contact peer{id_of(probe), probe};

  // find_node answered with a bare int.
  auto a = sim::ask<contacts>(sys, net.node(0).transport, actors::find_node_atom::value, peer,
                              target);
  sched.run();
  auto calls = calls_to(probe);
  CAF_REQUIRE_EQUAL(calls.size(), 1u);
  auto req = net::wire::decode_request(calls[0].body);
  CAF_REQUIRE(req);
  CAF_CHECK(req->kind == rpc_kind::find_node);
  CAF_CHECK_EQUAL(req->key.to_hex(), target.to_hex());
  CAF_CHECK(!sim::ready(a));
  net.inject_datagram(probe, 0, frame(true, calls[0].id, mp{}.fixint(5).bytes()));
  sched.run();  // no simulated time passes
  CAF_REQUIRE(sim::ready(a));
  CAF_REQUIRE(!**a);
  CAF_CHECK_EQUAL((*a)->error(), actors::make_error(actors::dht_errc::bad_reply));
  auto s = stats();
  CAF_CHECK_EQUAL(s.dropped_malformed, 1u);
  CAF_CHECK_EQUAL(s.replies_in, 0u);
  CAF_CHECK_EQUAL(s.dropped_unsolicited, 0u);

  // ping answered with a 19-byte id: also bad_reply, also at once.
  auto b = sim::ask<net::node_id>(sys, net.node(0).transport, actors::ping_atom::value, probe);
  sched.run();
  calls = calls_to(probe);
  CAF_REQUIRE_EQUAL(calls.size(), 2u);
  net.inject_datagram(probe, 0,
                      frame(true, calls[1].id, mp{}.bin(std::string(19, '\x01')).bytes()));
  sched.run();
  CAF_REQUIRE(sim::ready(b));
  CAF_REQUIRE(!**b);
  CAF_CHECK_EQUAL((*b)->error(), actors::make_error(actors::dht_errc::bad_reply));
  CAF_CHECK_EQUAL(stats().dropped_malformed, 2u);

  // The calls' timers later find nothing to time out; the failed peer is not kept.
  sim::drive(sched, [] { return false; }, 6s);
  s = stats();
  CAF_CHECK_EQUAL(s.calls_timed_out, 0u);
  CAF_CHECK_EQUAL(s.dropped_malformed, 2u);
  CAF_CHECK(!in_table(id_of(probe)));
  expect_ping_answered(probe);
}

// -- answers as the original ------------------------------------------------------

CAF_TEST(ping_stun_and_store_answer_with_the_bytes_of_the_original) {
  start();
  // ping -> the node's id as bin 8 of 20 bytes: c4 14 <id>.
  auto pid = send_request(probe, request_of(rpc_kind::ping, probe));
  sched.run();
  auto body = response_body(probe, pid);
  CAF_REQUIRE(body);
  CAF_CHECK_EQUAL(hex(*body), hex("\xc4\x14" + node_id().to_binary()));
  // The reply frame: 0x01, the request's message id, the body.
  CAF_REQUIRE_EQUAL(sent_to(probe).size(), 1u);
  CAF_CHECK_EQUAL(hex(sent_to(probe)[0].second), hex(frame(true, pid, *body)));
  auto rep = net::wire::decode_reply(rpc_kind::ping, *body);
  CAF_REQUIRE(rep);
  CAF_CHECK_EQUAL(rep->id.to_hex(), node_id().to_hex());

  // stun -> [ip (str), port (int)] of the caller: 92 a9 "127.9.0.1" cd 0f a0.
  net::wire::request stun;
  stun.kind = rpc_kind::stun;
  auto sid = send_request(probe, stun);
  sched.run();
  body = response_body(probe, sid);
  CAF_REQUIRE(body);
  CAF_CHECK_EQUAL(hex(*body), hex(std::string("\x92\xa9" "127.9.0.1" "\xcd\x0f\xa0")));
  rep = net::wire::decode_reply(rpc_kind::stun, *body);
  CAF_REQUIRE(rep);
  CAF_CHECK_EQUAL(rep->observed, probe);

  // store -> true (c3), and the value is then held.
  auto key = key_of("asr/cpu");
  auto stored = store(probe, key, {"asr/cpu/192.0.2.1:8888"});
  CAF_REQUIRE(stored);
  CAF_CHECK(*stored);
  CAF_CHECK_EQUAL(local(key), strings{"asr/cpu/192.0.2.1:8888"});
  // A second store adds to the set.
  stored = store(probe, key, {"asr/cpu/192.0.2.2:8888", "asr/cpu/192.0.2.1:8888"});
  CAF_REQUIRE(stored);
  CAF_CHECK(*stored);
  CAF_CHECK_EQUAL(local(key), (strings{"asr/cpu/192.0.2.1:8888", "asr/cpu/192.0.2.2:8888"}));

  // find_value for a held key -> {"value": [...]}: 81 a5 "value" 92 <str> <str>.
  auto fv = request_of(rpc_kind::find_value, probe);
  fv.key = key;
  auto fid = send_request(probe, fv);
  sched.run();
  body = response_body(probe, fid);
  CAF_REQUIRE(body);
  CAF_CHECK_EQUAL(hex(*body), hex(mp{}.map(1).str("value").array(2).str("asr/cpu/192.0.2.1:8888")
                                      .str("asr/cpu/192.0.2.2:8888").bytes()));
  rep = net::wire::decode_reply(rpc_kind::find_value, *body);
  CAF_REQUIRE(rep);
  CAF_CHECK(rep->has_value);
  CAF_CHECK(rep->values_as_array);
  CAF_CHECK_EQUAL(rep->values, (strings{"asr/cpu/192.0.2.1:8888", "asr/cpu/192.0.2.2:8888"}));

  auto s = stats();
  CAF_CHECK_EQUAL(s.requests_in, 5u);
  CAF_CHECK_EQUAL(s.stores_accepted, 2u);
  CAF_CHECK_EQUAL(s.stores_refused, 0u);
  CAF_CHECK_EQUAL(s.dropped_malformed, 0u);
}

CAF_TEST(find_node_and_find_value_answer_contacts_without_the_caller) {
  start();
  // Three other peers make themselves known by pinging.
  std::vector<net::endpoint> others{{"127.9.0.2", 4000}, {"127.9.0.3", 4001}, {"127.9.0.4", 4002}};
  for (const auto& ep : others) expect_ping_answered(ep);
  expect_ping_answered(probe);
  // The caller is in the table, so leaving it out of the answer is a real choice.
  CAF_REQUIRE(in_table(id_of(probe)));
  CAF_REQUIRE_EQUAL(table().size(), 4u);

  auto check_contacts = [&](const std::vector<actors::contact>& cs, const net::node_id& target) {
    CAF_CHECK_EQUAL(cs.size(), others.size());
    for (const auto& c : cs) {
      CAF_CHECK_NOT_EQUAL(c.id.to_hex(), id_of(probe).to_hex());
      CAF_CHECK_NOT_EQUAL(c.ep, probe);
      CAF_CHECK_NOT_EQUAL(c.id.to_hex(), node_id().to_hex());
      CAF_CHECK_EQUAL(c.id.to_hex(), id_of(c.ep).to_hex());  // each with its own endpoint
      CAF_CHECK(std::find(others.begin(), others.end(), c.ep) != others.end());
    }
    CAF_CHECK(std::is_sorted(cs.begin(), cs.end(), [&](const auto& x, const auto& y) {
      return net::closer_to(target, x.id, y.id);
    }));
  };

  // Even a lookup for the caller's own id leaves the caller out.
  for (const auto& target : {key_of("tts/gpu"), id_of(probe)}) {
    for (auto kind : {rpc_kind::find_node, rpc_kind::find_value}) {
      auto r = request_of(kind, probe);
      r.key = target;
      auto id = send_request(probe, r);
      sched.run();
      auto body = response_body(probe, id);
      CAF_REQUIRE(body);
      // An array of [id (bin), ip (str), port (int)], exactly as the codec writes it.
      CAF_CHECK_EQUAL(static_cast<unsigned char>((*body)[0]), 0x93u);
      auto rep = net::wire::decode_reply(kind, *body);
      CAF_REQUIRE(rep);
      CAF_CHECK(!rep->has_value);
      check_contacts(rep->contacts, target);
      net::wire::reply expected;
      expected.contacts = rep->contacts;
      CAF_CHECK_EQUAL(hex(*body), hex(net::wire::encode_reply(kind, expected)));
    }
  }
  auto s = stats();
  CAF_CHECK_EQUAL(s.requests_in, 4u + 4u);
  CAF_CHECK_EQUAL(s.dropped_malformed, 0u);
}

CAF_TEST(a_caller_alone_in_the_table_gets_an_empty_list_not_itself) {
  start();
  expect_ping_answered(probe);
  CAF_REQUIRE_EQUAL(table().size(), 1u);
  for (auto kind : {rpc_kind::find_node, rpc_kind::find_value}) {
    auto r = request_of(kind, probe);
    r.key = id_of(probe);
    auto id = send_request(probe, r);
    sched.run();
    auto body = response_body(probe, id);
    CAF_REQUIRE(body);
    CAF_CHECK_EQUAL(hex(*body), "90");  // an empty array
  }
}

// -- bounds on what a peer can make us store ----------------------------------------

CAF_TEST(at_most_64_values_per_key_and_512_bytes_per_value) {
  actors::dht_config c;
  c.limits.max_values_per_source_per_key = 64;  // one probe fills the key here
  start(c);
  expect_ping_answered(probe);
  auto key = key_of("asr/cpu");
  auto values = numbered_values(64);
  for (const auto& v : values) {
    auto ok = store(probe, key, {v});
    CAF_REQUIRE(ok);
    CAF_CHECK(*ok);
  }
  CAF_CHECK_EQUAL(local(key), values);

  // The 65th distinct value is refused; all 64 are still held.
  auto ok = store(probe, key, {"asr/cpu/10.1.0.1:8888"});
  CAF_REQUIRE(ok);
  CAF_CHECK(!*ok);
  CAF_CHECK_EQUAL(local(key), values);
  // All or nothing: a held value plus a new one is refused as a whole.
  ok = store(probe, key, {values[3], "asr/cpu/10.1.0.2:8888"});
  CAF_REQUIRE(ok);
  CAF_CHECK(!*ok);
  CAF_CHECK_EQUAL(local(key), values);
  // Re-storing what is held is accepted at the bound (a refresh), alone or as a set.
  ok = store(probe, key, {values[10]});
  CAF_REQUIRE(ok);
  CAF_CHECK(*ok);
  ok = store(probe, key, {values[63], values[0]});
  CAF_REQUIRE(ok);
  CAF_CHECK(*ok);
  CAF_CHECK_EQUAL(local(key), values);  // no duplicate, same order
  // 65 values in one store on a fresh key: refused, the key is not created.
  auto fresh = key_of("tts/cpu");
  ok = store(probe, fresh, numbered_values(65));
  CAF_REQUIRE(ok);
  CAF_CHECK(!*ok);
  CAF_CHECK(local(fresh).empty());

  // 512 bytes per value: 512 accepted, 513 refused; the 512 one is kept.
  auto big = key_of("tts/gpu");
  std::string v512(512, 'a'), v513(513, 'b');
  ok = store(probe, big, {v512});
  CAF_REQUIRE(ok);
  CAF_CHECK(*ok);
  ok = store(probe, big, {v513});
  CAF_REQUIRE(ok);
  CAF_CHECK(!*ok);
  CAF_CHECK_EQUAL(local(big), strings{v512});
  // One oversized value spoils the whole store.
  auto other = key_of("asr/gpu");
  ok = store(probe, other, {"asr/gpu/192.0.2.7:8888", v513});
  CAF_REQUIRE(ok);
  CAF_CHECK(!*ok);
  CAF_CHECK(local(other).empty());

  auto s = stats();
  CAF_CHECK_EQUAL(s.stores_accepted, 64u + 2u + 1u);
  CAF_CHECK_EQUAL(s.stores_refused, 1u + 1u + 1u + 1u + 1u);
  CAF_CHECK_EQUAL(s.records_keys, 2u);
  CAF_CHECK_EQUAL(s.records_values, 65u);
  CAF_CHECK_EQUAL(s.dropped_malformed, 0u);
}

CAF_TEST(at_most_10000_keys_and_nothing_held_is_lost) {
  actors::dht_config c;
  c.limits.stores_per_second = 1e9;  // keep the rate limit out of this test
  c.limits.store_burst = 1e9;
  start(c);
  expect_ping_answered(probe);
  CAF_CHECK_EQUAL(store_burst(probe, "key", 10000), 10000u);
  auto s = stats();
  CAF_REQUIRE_EQUAL(s.records_keys, 10000u);
  CAF_CHECK_EQUAL(s.stores_accepted, 10000u);
  CAF_CHECK_EQUAL(s.stores_refused, 0u);

  // The 10,001st key is refused, from any source.
  auto ok = store(probe, key_of("key/10000"), {"asr/cpu/192.0.2.1:8888"});
  CAF_REQUIRE(ok);
  CAF_CHECK(!*ok);
  const net::endpoint elsewhere{"127.9.0.2", 4000};
  ok = store(elsewhere, key_of("key/10001"), {"asr/cpu/192.0.2.1:8888"});
  CAF_REQUIRE(ok);
  CAF_CHECK(!*ok);
  CAF_CHECK(local(key_of("key/10000")).empty());
  // Earlier keys are still readable, and a held key may still take a new value.
  CAF_CHECK_EQUAL(local(key_of("key/0")), strings{"asr/cpu/192.0.2.0:8888"});
  CAF_CHECK_EQUAL(local(key_of("key/9999")), strings{"asr/cpu/192.0.2.249:8888"});
  ok = store(probe, key_of("key/0"), {"asr/cpu/192.0.2.99:9999"});
  CAF_REQUIRE(ok);
  CAF_CHECK(*ok);
  CAF_CHECK_EQUAL(local(key_of("key/0")),
                  (strings{"asr/cpu/192.0.2.0:8888", "asr/cpu/192.0.2.99:9999"}));
  s = stats();
  CAF_CHECK_EQUAL(s.records_keys, 10000u);
  CAF_CHECK_EQUAL(s.records_values, 10001u);
  CAF_CHECK_EQUAL(s.stores_accepted, 10001u);
  CAF_CHECK_EQUAL(s.stores_refused, 2u);
}

CAF_TEST(stores_are_rate_limited_per_source_address) {
  start();  // default limits: burst 200, 50 per second
  CAF_REQUIRE_EQUAL(net.node(0).cfg.limits.store_burst, 200.0);
  CAF_REQUIRE_EQUAL(net.node(0).cfg.limits.stores_per_second, 50.0);
  const net::endpoint same_host{"127.9.0.1", 4001};  // the probe's address, another port
  const net::endpoint other{"127.9.0.2", 4000};
  for (const auto& ep : {probe, same_host, other}) expect_ping_answered(ep);  // pings are free

  // A burst of 250 at one instant: the first 200 pass, the rest are refused.
  CAF_CHECK_EQUAL(store_burst(probe, "a", 250), 200u);
  auto s = stats();
  CAF_CHECK_EQUAL(s.stores_accepted, 200u);
  CAF_CHECK_EQUAL(s.stores_refused, 50u);
  CAF_CHECK_EQUAL(s.records_keys, 200u);
  // The bound is per address: another port of the same host is refused too ...
  auto ok = store(same_host, key_of("b"), {"asr/cpu/192.0.2.1:8888"});
  CAF_REQUIRE(ok);
  CAF_CHECK(!*ok);
  // ... while another address is still accepted.
  CAF_CHECK_EQUAL(store_burst(other, "c", 10), 10u);
  // Refused stores lost nothing already held.
  CAF_CHECK_EQUAL(local(key_of("a/0")), strings{"asr/cpu/192.0.2.0:8888"});
  CAF_CHECK_EQUAL(local(key_of("a/199")), strings{"asr/cpu/192.0.2.199:8888"});
  CAF_CHECK(local(key_of("a/200")).empty());

  // One simulated second later the first source has earned 50 stores.
  sched.advance_time(1s);
  sched.run();
  CAF_CHECK_EQUAL(store_burst(probe, "d", 60), 50u);
  // Long idle: the allowance refills up to the burst and no further.
  sched.advance_time(10s);
  sched.run();
  CAF_CHECK_EQUAL(store_burst(probe, "e", 210), 200u);

  s = stats();
  CAF_CHECK_EQUAL(s.stores_accepted, 200u + 10u + 50u + 200u);
  CAF_CHECK_EQUAL(s.stores_refused, 50u + 1u + 10u + 10u);
  CAF_CHECK_EQUAL(s.records_keys, 200u + 10u + 50u + 200u);
  CAF_CHECK_EQUAL(s.dropped_malformed, 0u);
}

CAF_TEST_FIXTURE_SCOPE_END()

CAF_TEST_FIXTURE_SCOPE(transport_bounds_tests, fixture)
// -- bounded work per datagram ---------------------------------------------------------

namespace {

/// Answers every ping the node sent to `ep` and has not been answered yet, as `who`.
std::size_t answer_pings(fixture& f, const net::endpoint& ep, const net::node_id& who,
                         std::size_t& answered_so_far) {
  auto calls = f.calls_to(ep);
  std::size_t n = 0;
  for (std::size_t i = answered_so_far; i < calls.size(); ++i) {
    auto req = net::wire::decode_request(calls[i].body);
    if (!req || req->kind != rpc_kind::ping) continue;
    net::wire::reply rep;
    rep.id = who;
    f.net.inject_datagram(ep, 0, frame(true, calls[i].id, net::wire::encode_reply(rpc_kind::ping, rep)));
    ++n;
  }
  answered_so_far = calls.size();
  return n;
}

std::size_t count_calls(fixture& f, const net::endpoint& ep, rpc_kind kind) {
  std::size_t n = 0;
  for (const auto& c : f.calls_to(ep)) {
    auto req = net::wire::decode_request(c.body);
    if (req && req->kind == kind) ++n;
  }
  return n;
}

std::size_t bytes_sent_to(fixture& f, const net::endpoint& ep) {
  std::size_t n = 0;
  for (const auto& [from, bytes] : f.sent_to(ep)) n += bytes.size();
  return n;
}

}  // namespace

CAF_TEST(a_ping_from_a_new_id_costs_one_ping_back_until_the_address_answers_it) {
  start();
  // The node holds 1,000 keys: handing them all to whoever pings was a x1,889 amplifier.
  for (int i = 0; i < 1000; ++i)
    CAF_REQUIRE(await(sim::ask<bool>(sys, net.node(0).transport, actors::local_atom::value,
                                     actors::store_atom::value, key_of("k/" + std::to_string(i)),
                                     strings{"tts/cpu/192.0.2.1:8899"})));
  // 100 pings, each from a made-up id, from an address that never answers.
  std::size_t bytes_in = 0;
  for (int i = 0; i < 100; ++i) {
    auto r = request_of(rpc_kind::ping, probe);
    r.sender = key_of("forged/" + std::to_string(i));
    sent_to(probe);
    auto id = make_msg_id(++next_msg);
    auto datagram = frame(false, id, net::wire::encode_request(r));
    bytes_in += datagram.size();
    net.inject_datagram(probe, 0, datagram);
  }
  sched.run();
  CAF_CHECK_EQUAL(responses(probe).size(), 100u);       // every ping answered
  CAF_CHECK_EQUAL(count_calls(*this, probe, rpc_kind::ping), 1u);  // one ping back
  CAF_CHECK_EQUAL(count_calls(*this, probe, rpc_kind::store), 0u);
  CAF_CHECK_LESS_OR_EQUAL(bytes_sent_to(*this, probe), bytes_in + 100u);
  // Only 4 of the 100 ids got into the routing table (contacts per address).
  auto t = table();
  CAF_CHECK_EQUAL(std::count_if(t.begin(), t.end(), [&](const auto& c) { return c.ep == probe; }),
                  4);

  // The address answers as one of its ids: that contact gets at most 100 stores, once.
  std::size_t answered = 0;
  auto who = t.front().id;
  CAF_REQUIRE_EQUAL(answer_pings(*this, probe, who, answered), 1u);
  sched.run();
  auto stores = count_calls(*this, probe, rpc_kind::store);
  CAF_CHECK_GREATER(stores, 0u);
  CAF_CHECK_LESS_OR_EQUAL(stores, 100u);
  CAF_CHECK_EQUAL(stats().handovers, 1u);
  // The stores go unanswered: the contact leaves the table on the timeouts, then comes
  // back with a ping. It was handed the keys within the TTL: nothing is sent again.
  sched.advance_time(6s);
  sched.run();
  CAF_CHECK(!in_table(who));
  auto again = request_of(rpc_kind::ping, probe);
  again.sender = who;
  send_request(probe, again);
  sched.run();
  CAF_CHECK(in_table(who));
  CAF_CHECK_EQUAL(count_calls(*this, probe, rpc_kind::store), stores);
  CAF_CHECK_EQUAL(stats().handovers, 1u);
}

CAF_TEST(hand_overs_are_rate_limited_across_newcomers) {
  actors::dht_config c;
  c.handover_rate = {1, 3};
  start(c);
  CAF_REQUIRE(await(sim::ask<bool>(sys, net.node(0).transport, actors::local_atom::value,
                                   actors::store_atom::value, key_of("k"), strings{"v"})));
  // Ten newcomers at once, each answering our ping.
  for (int i = 0; i < 10; ++i) {
    net::endpoint ep{"127.9.2." + std::to_string(i + 1), 4000};
    send_request(ep, request_of(rpc_kind::ping, ep));
  }
  sched.run();
  for (int i = 0; i < 10; ++i) {
    net::endpoint ep{"127.9.2." + std::to_string(i + 1), 4000};
    std::size_t answered = 0;
    CAF_CHECK_EQUAL(answer_pings(*this, ep, id_of(ep), answered), 1u);
  }
  sched.run();
  auto s = stats();
  CAF_CHECK_EQUAL(s.handovers, 3u);
  CAF_CHECK_EQUAL(s.handovers_skipped, 7u);
}

CAF_TEST(a_large_reply_waits_until_the_caller_answers_a_ping) {
  start();
  // Twenty peers in the table: a find_node answer is then ~20 contacts, ten times the
  // request.
  for (int i = 0; i < 20; ++i) expect_ping_answered(net::endpoint{"127.9.1." + std::to_string(i + 1), 4000});
  const net::endpoint stranger{"127.9.3.1", 4000};
  auto r = request_of(rpc_kind::find_node, stranger);
  r.key = key_of("tts/cpu");
  auto id = send_request(stranger, r);
  sched.run();
  CAF_CHECK(!response_body(stranger, id));
  auto calls = calls_to(stranger);
  CAF_REQUIRE_EQUAL(calls.size(), 1u);  // our ping, no bigger than its request
  CAF_CHECK_LESS_OR_EQUAL(sent_to(stranger)[0].second.size(),
                          frame(false, id, net::wire::encode_request(r)).size());
  CAF_CHECK_EQUAL(stats().replies_deferred, 1u);
  // It answers: the held reply goes out, complete.
  std::size_t answered = 0;
  answer_pings(*this, stranger, id_of(stranger), answered);
  sched.run();
  auto body = response_body(stranger, id);
  CAF_REQUIRE(body);
  auto rep = net::wire::decode_reply(rpc_kind::find_node, *body);
  CAF_REQUIRE(rep);
  CAF_CHECK_EQUAL(rep->contacts.size(), 20u);
  // From now on it is answered at once.
  auto id2 = send_request(stranger, r);
  sched.run();
  CAF_CHECK(response_body(stranger, id2));

  // A forged source never answers: after the RPC timeout its reply is dropped unsent.
  const net::endpoint victim{"127.9.3.2", 4000};
  std::size_t in = 0;
  for (int i = 0; i < 50; ++i) {
    auto fr = request_of(rpc_kind::find_node, victim);
    fr.key = key_of("k" + std::to_string(i));
    sent_to(victim);
    auto datagram = frame(false, make_msg_id(++next_msg), net::wire::encode_request(fr));
    in += datagram.size();
    net.inject_datagram(victim, 0, datagram);
  }
  sched.run();
  sched.advance_time(6s);
  sched.run();
  CAF_CHECK(responses(victim).empty());
  CAF_CHECK_LESS_OR_EQUAL(bytes_sent_to(*this, victim), in);
  auto s = stats();
  CAF_CHECK_EQUAL(s.replies_withheld, 50u);  // 8 held, then withheld; 42 withheld at once
}

CAF_TEST(calls_waiting_for_answers_are_bounded) {
  actors::dht_config c;
  c.max_pending_calls = 10;
  start(c);
  std::vector<sim::answer<net::node_id>> asks;
  for (int i = 0; i < 15; ++i)
    asks.push_back(sim::ask<net::node_id>(sys, net.node(0).transport, actors::ping_atom::value,
                                          net::endpoint{"127.9.4." + std::to_string(i + 1), 4000}));
  sched.run();
  std::size_t overloaded = 0;
  for (auto& a : asks)
    if (sim::ready(a) && !**a && (*a)->error() == actors::make_error(actors::dht_errc::overloaded))
      ++overloaded;
  CAF_CHECK_EQUAL(overloaded, 5u);
}

CAF_TEST(calls_still_waiting_when_the_transport_stops_end_with_stopped) {
  start();
  std::vector<sim::answer<net::node_id>> asks;
  for (int i = 0; i < 3; ++i)
    asks.push_back(sim::ask<net::node_id>(sys, net.node(0).transport, actors::ping_atom::value,
                                          net::endpoint{"127.9.5." + std::to_string(i + 1), 4000}));
  sched.run();
  for (auto& a : asks) CAF_CHECK(!sim::ready(a));  // nobody answers those addresses
  caf::anon_send_exit(net.node(0).transport, caf::exit_reason::user_shutdown);
  sched.run();
  for (auto& a : asks) {
    CAF_REQUIRE(sim::ready(a));
    CAF_CHECK(!**a);
    if (!**a) CAF_CHECK((*a)->error() == actors::make_error(actors::dht_errc::stopped));
  }
}

CAF_TEST_FIXTURE_SCOPE_END()
