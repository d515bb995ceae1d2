// The DHT wire codec against whatever a peer may send: a datagram either is refused or
// decodes to a value that survives encode -> decode unchanged, and whose encoding is a
// fixed point no larger than what came in (ours is minimal msgpack, as Python's).

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz/check.hpp"
#include "net/wire.hpp"

namespace {

using namespace sova::net;
using namespace sova::net::wire;

constexpr rpc_kind all_kinds[] = {rpc_kind::ping, rpc_kind::store, rpc_kind::find_node,
                                  rpc_kind::find_value, rpc_kind::stun};

bool same(const request& a, const request& b) {
  return a.kind == b.kind && a.sender == b.sender && a.key == b.key && a.values == b.values &&
         a.values_as_array == b.values_as_array;
}

bool same(const reply& a, const reply& b) {
  return a.id == b.id && a.stored == b.stored && a.contacts == b.contacts &&
         a.has_value == b.has_value && a.values == b.values &&
         a.values_as_array == b.values_as_array && a.observed == b.observed;
}

void check_frame(std::string_view datagram) {
  auto f = parse_frame(datagram);
  if (!f) {
    FUZZ_CHECK(datagram.size() <= header_size || static_cast<std::uint8_t>(datagram[0]) > 1);
    return;
  }
  FUZZ_CHECK(encode_frame(*f) == datagram);
}

void check_request(std::string_view body) {
  decode_error err;
  auto r = decode_request(body, &err);
  if (!r) {
    FUZZ_CHECK(!err.what.empty());  // every refusal says why (logs, counters)
    return;
  }
  auto bytes = encode_request(*r);
  FUZZ_CHECK(bytes.size() <= body.size());
  auto again = decode_request(bytes);
  FUZZ_CHECK(again.has_value());
  FUZZ_CHECK(same(*r, *again));
  FUZZ_CHECK(encode_request(*again) == bytes);
}

void check_reply(rpc_kind k, std::string_view body) {
  decode_error err;
  auto r = decode_reply(k, body, &err);
  if (!r) {
    FUZZ_CHECK(!err.what.empty());
    return;
  }
  auto bytes = encode_reply(k, *r);
  FUZZ_CHECK(bytes.size() <= body.size());
  auto again = decode_reply(k, bytes);
  FUZZ_CHECK(again.has_value());
  FUZZ_CHECK(same(*r, *again));
  FUZZ_CHECK(encode_reply(k, *again) == bytes);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view datagram(reinterpret_cast<const char*>(data), size);
  check_frame(datagram);
  // The transport decodes the body of a well-formed frame; a mutated header should not
  // keep the fuzzer away from the body decoders, so a bad frame is tried as a body.
  auto f = parse_frame(datagram);
  std::string body = f ? f->body : std::string(datagram);
  check_request(body);
  for (auto k : all_kinds) check_reply(k, body);
  return 0;
}
