#pragma once
// rpcudp framing and the msgpack bodies of the five Kademlia RPCs, byte-compatible
// with the original Python network (kademlia 2.2.2 over rpcudp). See shared/PROTOCOL.md.

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "net/contact.hpp"
#include "net/node_id.hpp"

namespace sova::net::wire {

constexpr std::size_t msg_id_size = 20;
constexpr std::size_t header_size = 1 + msg_id_size;
/// rpcudp refuses to send request bodies larger than this.
constexpr std::size_t max_request_body = 8192;

using msg_id = std::array<std::uint8_t, msg_id_size>;

enum class rpc_kind : std::uint8_t { ping, store, find_node, find_value, stun };

/// The function name on the wire: "ping", "store", ...
const char* to_string(rpc_kind k);
std::optional<rpc_kind> rpc_kind_from_name(std::string_view name);

/// One datagram: request/response flag, message id, msgpack body.
struct frame {
  bool is_response = false;
  msg_id id{};
  std::string body;
};

/// Nothing when the datagram is shorter than 22 bytes or its first byte is
/// neither 0x00 (request) nor 0x01 (response).
std::optional<frame> parse_frame(std::string_view datagram);
std::string encode_frame(const frame& f);

/// A decoded request. Fields that a kind does not carry stay default.
struct request {
  rpc_kind kind = rpc_kind::ping;
  node_id sender;                   // every kind but stun
  node_id key;                      // store, find_node, find_value
  std::vector<std::string> values;  // store: one value or a merged set
  bool values_as_array = false;     // store: whether `value` was an array on the wire
};

/// A decoded reply. Which fields matter depends on the kind of the call it answers.
struct reply {
  node_id id;                       // ping: the responder's id
  bool stored = false;              // store
  std::vector<contact> contacts;    // find_node, and find_value without a value
  bool has_value = false;           // find_value: {"value": V} was returned
  std::vector<std::string> values;  // find_value with a value
  bool values_as_array = true;      // find_value: whether V was an array on the wire
  endpoint observed;                // stun: the caller as the responder sees it
};

/// Why a body was rejected (for logs and counters).
struct decode_error {
  std::string what;
};

/// Strictly decodes a request body: `[name (str), args (array)]` with exactly the
/// argument count and types of that RPC (ids and keys: bin of 20 bytes; store value:
/// str or array of str). Unknown function names are an error too.
std::optional<request> decode_request(std::string_view body, decode_error* err = nullptr);
std::string encode_request(const request& r);

/// Strictly decodes the reply to a call of kind `k`.
std::optional<reply> decode_reply(rpc_kind k, std::string_view body, decode_error* err = nullptr);
std::string encode_reply(rpc_kind k, const reply& r);

}  // namespace sova::net::wire
