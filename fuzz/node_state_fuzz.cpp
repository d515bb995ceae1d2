// The --state-dir file (node_state.hpp), which anyone with write access to the directory,
// or a crash mid-edit, can fill with anything: decoding either refuses with a reason or
// gives a state that encodes and decodes back to itself. And the other way round: any
// state the node may hold encodes to a file it can read again (encode drops what decode
// would refuse), so one bad contact cannot cost the node its identity.
//
// Input: the file's text; the same bytes also spell a node_state (see state_from).

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz/byte_reader.hpp"
#include "fuzz/check.hpp"
#include "net/node_state.hpp"

namespace {

using namespace sova::net;
using sova::fuzz::byte_reader;

bool same(const node_state& a, const node_state& b) {
  return a.id == b.id && a.saved_at_unix == b.saved_at_unix && a.contacts == b.contacts;
}

void check_file(std::string_view text) {
  std::string why;
  auto state = decode_node_state(text, &why);
  if (!state) {
    FUZZ_CHECK(!why.empty());
    return;
  }
  auto file = encode_node_state(*state);
  auto again = decode_node_state(file, &why);
  FUZZ_CHECK(again.has_value());
  FUZZ_CHECK(same(*state, *again));
  FUZZ_CHECK(encode_node_state(*again) == file);
}

node_id id_from(byte_reader& in) {
  node_id::bytes_type raw{};
  auto bytes = in.bytes(raw.size());
  std::copy(bytes.begin(), bytes.end(), raw.begin());
  return node_id(raw);
}

/// A state as the node could hold it: any ids (its own among them), hosts as peers
/// announced them (text of any bytes), any port; saved_at is a clock reading, not negative.
node_state state_from(byte_reader& in) {
  node_state s;
  s.id = id_from(in);
  s.saved_at_unix = in.u16() * 65536LL + in.u16();
  while (!in.empty()) {
    contact c;
    c.id = in.u8() % 8 == 0 ? s.id : id_from(in);
    c.ep.host = std::string(in.bytes(in.u8() % 48));
    c.ep.port = in.u16();
    s.contacts.push_back(std::move(c));
  }
  return s;
}

void check_state(const node_state& s) {
  std::string why;
  auto back = decode_node_state(encode_node_state(s), &why);
  FUZZ_CHECK(back.has_value());
  FUZZ_CHECK(back->id == s.id && back->saved_at_unix == s.saved_at_unix);
  FUZZ_CHECK(back->contacts.size() <= s.contacts.size());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  check_file(std::string_view(reinterpret_cast<const char*>(data), size));
  byte_reader in(data, size);
  check_state(state_from(in));
  return 0;
}
