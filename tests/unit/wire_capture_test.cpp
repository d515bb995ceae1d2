// Every datagram captured from original Python kademlia 2.2.2 nodes must decode
// to the fields shown in the capture and re-encode to the very same bytes.
#define CAF_SUITE wire_capture
#include "caf/test/unit_test.hpp"

#include <fstream>
#include <map>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "net/wire.hpp"

using nlohmann::json;
using namespace sova::net;
using namespace sova::net::wire;

namespace {

const char* capture_path = SOVA_SHARED_DIR "/protocol/kademlia-2.2.2-capture.jsonl";
constexpr std::size_t capture_lines = 48;

std::string unhex(const std::string& hex) {
  std::string out;
  for (std::size_t i = 0; i + 1 < hex.size(); i += 2)
    out.push_back(static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16)));
  return out;
}

using sova::net::to_hex;

std::string msg_id_hex(const msg_id& id) {
  return to_hex(std::string(reinterpret_cast<const char*>(id.data()), id.size()));
}

std::vector<json> load_capture() {
  std::ifstream in(capture_path);
  std::vector<json> lines;
  std::string line;
  while (std::getline(in, line))
    if (!line.empty()) lines.push_back(json::parse(line));
  return lines;
}

/// The kind of every call, by message id, so that replies can be decoded.
std::map<std::string, rpc_kind> kinds_by_msg_id(const std::vector<json>& lines) {
  std::map<std::string, rpc_kind> out;
  for (const auto& l : lines)
    if (l["kind"] == "request")
      if (auto k = rpc_kind_from_name(l["decoded"][0].get<std::string>())) out[l["msg_id"]] = *k;
  return out;
}

/// A value in the capture is a JSON string or an array of strings.
std::vector<std::string> json_values(const json& v) {
  if (v.is_string()) return {v.get<std::string>()};
  return v.get<std::vector<std::string>>();
}

void check_values(const std::vector<std::string>& got, bool got_as_array, const json& want) {
  CAF_CHECK_EQUAL(got_as_array, want.is_array());
  CAF_CHECK_EQUAL(got, json_values(want));
}

void check_contacts(const std::vector<contact>& got, const json& want) {
  CAF_REQUIRE(want.is_array());
  CAF_REQUIRE_EQUAL(got.size(), want.size());
  for (std::size_t i = 0; i < got.size(); ++i) {
    CAF_CHECK_EQUAL(got[i].id.to_hex(), want[i][0]["hex"].get<std::string>());
    CAF_CHECK_EQUAL(got[i].ep.host, want[i][1].get<std::string>());
    CAF_CHECK_EQUAL(got[i].ep.port, want[i][2].get<int>());
  }
}

void check_request_fields(const request& r, const json& decoded) {
  CAF_CHECK_EQUAL(std::string(to_string(r.kind)), decoded[0].get<std::string>());
  const json& args = decoded[1];
  if (r.kind == rpc_kind::stun) {
    CAF_CHECK(args.empty());
    return;
  }
  CAF_CHECK_EQUAL(r.sender.to_hex(), args[0]["hex"].get<std::string>());
  if (r.kind == rpc_kind::ping) return;
  CAF_CHECK_EQUAL(r.key.to_hex(), args[1]["hex"].get<std::string>());
  if (r.kind == rpc_kind::store) check_values(r.values, r.values_as_array, args[2]);
}

void check_reply_fields(rpc_kind k, const reply& r, const json& decoded) {
  switch (k) {
    case rpc_kind::ping: CAF_CHECK_EQUAL(r.id.to_hex(), decoded["hex"].get<std::string>()); break;
    case rpc_kind::store: CAF_CHECK(r.stored && decoded == true); break;
    case rpc_kind::find_node: check_contacts(r.contacts, decoded); break;
    case rpc_kind::find_value:
      CAF_CHECK_EQUAL(r.has_value, decoded.is_object());
      if (decoded.is_object())
        check_values(r.values, r.values_as_array, decoded["value"]);
      else
        check_contacts(r.contacts, decoded);
      break;
    case rpc_kind::stun:
      CAF_CHECK_EQUAL(r.observed.host, decoded[0].get<std::string>());
      CAF_CHECK_EQUAL(r.observed.port, decoded[1].get<int>());
      break;
  }
}

}  // namespace

CAF_TEST(capture_is_complete) {
  auto lines = load_capture();
  CAF_CHECK_EQUAL(lines.size(), capture_lines);
  auto kinds = kinds_by_msg_id(lines);
  std::set<rpc_kind> seen;
  for (const auto& [id, k] : kinds) seen.insert(k);
  CAF_CHECK_EQUAL(seen.size(), 5u);
  for (const auto& l : lines)
    if (l["kind"] == "response") CAF_CHECK(kinds.count(l["msg_id"]) == 1);
}

CAF_TEST(requests_decode_and_reencode_identically) {
  std::size_t count = 0;
  std::set<rpc_kind> seen;
  for (const auto& l : load_capture()) {
    if (l["kind"] != "request") continue;
    auto body = unhex(l["body_hex"]);
    decode_error err;
    auto r = decode_request(body, &err);
    CAF_REQUIRE(r);
    CAF_CHECK_EQUAL(err.what, "");
    CAF_CHECK_EQUAL(to_hex(encode_request(*r)), l["body_hex"].get<std::string>());
    check_request_fields(*r, l["decoded"]);
    seen.insert(r->kind);
    ++count;
  }
  CAF_CHECK_EQUAL(count, capture_lines / 2);
  CAF_CHECK_EQUAL(seen.size(), 5u);
}

CAF_TEST(replies_decode_and_reencode_identically) {
  auto lines = load_capture();
  auto kinds = kinds_by_msg_id(lines);
  std::size_t count = 0, values_found = 0, values_missing = 0;
  std::set<rpc_kind> seen;
  for (const auto& l : lines) {
    if (l["kind"] != "response") continue;
    auto k = kinds.at(l["msg_id"]);
    auto body = unhex(l["body_hex"]);
    decode_error err;
    auto r = decode_reply(k, body, &err);
    CAF_REQUIRE(r);
    CAF_CHECK_EQUAL(err.what, "");
    CAF_CHECK_EQUAL(to_hex(encode_reply(k, *r)), l["body_hex"].get<std::string>());
    check_reply_fields(k, *r, l["decoded"]);
    if (k == rpc_kind::find_value) ++(r->has_value ? values_found : values_missing);
    seen.insert(k);
    ++count;
  }
  CAF_CHECK_EQUAL(count, capture_lines / 2);
  CAF_CHECK_EQUAL(seen.size(), 5u);
  // Both shapes of a find_value reply are in the capture.
  CAF_CHECK_GREATER(values_found, 0u);
  CAF_CHECK_GREATER(values_missing, 0u);
}

CAF_TEST(frames_round_trip) {
  std::size_t count = 0;
  for (const auto& l : load_capture()) {
    bool is_response = l["kind"] == "response";
    auto body = unhex(l["body_hex"]);
    std::string datagram(1, is_response ? '\x01' : '\x00');
    datagram += unhex(l["msg_id"]) + body;
    auto f = parse_frame(datagram);
    CAF_REQUIRE(f);
    CAF_CHECK_EQUAL(f->is_response, is_response);
    CAF_CHECK_EQUAL(msg_id_hex(f->id), l["msg_id"].get<std::string>());
    CAF_CHECK_EQUAL(f->body, body);
    CAF_CHECK_EQUAL(encode_frame(*f), datagram);
    ++count;
  }
  CAF_CHECK_EQUAL(count, capture_lines);
}

namespace {

/// The header bytes of a store request's value, as Python's msgpack writes them.
std::string store_value_header(const request& r) {
  auto body = encode_request(r);
  // [fixarray 2] [fixstr "store"] [fixarray 3] [bin8 20 id] x2 = 1 + 6 + 1 + 44 bytes.
  return to_hex(body.substr(52, 3));
}

}  // namespace

CAF_TEST(encoding_picks_the_smallest_header_like_python) {
  request r;
  r.kind = rpc_kind::store;
  r.values = {std::string(31, 'v')};
  CAF_CHECK_EQUAL(store_value_header(r).substr(0, 2), "bf");  // fixstr
  r.values = {std::string(32, 'v')};
  CAF_CHECK_EQUAL(store_value_header(r).substr(0, 4), "d920");  // str 8
  r.values = {std::string(255, 'v')};
  CAF_CHECK_EQUAL(store_value_header(r).substr(0, 4), "d9ff");
  r.values = {std::string(256, 'v')};
  CAF_CHECK_EQUAL(store_value_header(r), "da0100");  // str 16
  r.values = std::vector<std::string>(16, "v");
  r.values_as_array = true;
  CAF_CHECK_EQUAL(store_value_header(r), "dc0010");  // array 16
  r.values = {"v"};
  CAF_CHECK_EQUAL(store_value_header(r).substr(0, 2), "91");  // a one-element set stays an array
  r.values = {"a", "b"};
  r.values_as_array = false;
  CAF_CHECK_EQUAL(store_value_header(r).substr(0, 2), "92");  // two values need an array
  for (auto& v : {std::string(31, 'v'), std::string(32, 'v'), std::string(256, 'v')}) {
    r.values = {v};
    auto back = decode_request(encode_request(r));
    CAF_REQUIRE(back);
    CAF_CHECK_EQUAL(back->values, r.values);
  }
  reply no;
  CAF_CHECK_EQUAL(to_hex(encode_reply(rpc_kind::store, no)), "c2");
}

CAF_TEST(ports_use_minimal_ints) {
  auto port_hex = [](std::uint16_t port) {
    reply r;
    r.observed = endpoint{"1.2.3.4", port};
    // [fixarray 2] [fixstr 7 "1.2.3.4"] then the port.
    return to_hex(encode_reply(rpc_kind::stun, r).substr(9));
  };
  CAF_CHECK_EQUAL(port_hex(0), "00");
  CAF_CHECK_EQUAL(port_hex(127), "7f");
  CAF_CHECK_EQUAL(port_hex(128), "cc80");
  CAF_CHECK_EQUAL(port_hex(255), "ccff");
  CAF_CHECK_EQUAL(port_hex(256), "cd0100");
  CAF_CHECK_EQUAL(port_hex(65535), "cdffff");
  reply r;
  r.observed = endpoint{"1.2.3.4", 65535};
  auto back = decode_reply(rpc_kind::stun, encode_reply(rpc_kind::stun, r));
  CAF_REQUIRE(back);
  CAF_CHECK_EQUAL(back->observed.port, 65535);
}
