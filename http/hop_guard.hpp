#pragma once
// Requests that come back: a node forwards to whatever a DHT record names, and a record
// can name another node's HTTP API (or a chain of them back to the first). Each node adds
// itself to the request's standard `Via` header as "1.1 sova-dc-<its id>" when it
// forwards, and refuses a request whose Via already names it (a loop) or names
// `max_hops` nodes already (a chain too long to be useful). SOVA servers ignore Via.
// Pure code.

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace sova::http {

inline constexpr std::size_t max_hops = 4;

/// This node's entry in Via: "1.1 sova-dc-" and the first 16 hex digits of its id.
std::string via_entry(std::string_view node_id_hex);

/// Why a request with this Via value must not be forwarded by the node whose entry is
/// `own_entry`, or nothing when it may.
std::optional<std::string> hop_refusal(std::string_view via, std::string_view own_entry,
                                       std::size_t limit = max_hops);

/// Whether a sova-dc node forwarded this request (Via names one): such a request is
/// served by this node's own backends only, never forwarded again (the owner rule).
bool forwarded_by_a_node(std::string_view via);

/// The Via value to send on: the incoming one with our entry appended.
std::string next_via(std::string_view via, std::string_view own_entry);

}  // namespace sova::http
