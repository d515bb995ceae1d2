#pragma once
// What a node keeps across restarts: its id and a snapshot of its routing table, so that
// it comes back under the same identity and can rejoin without --neighbours. Pure
// encoding and decoding, plus the crash-safe file I/O to store it.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "net/contact.hpp"
#include "net/node_id.hpp"

namespace sova::net {

struct node_state {
  node_id id;
  std::vector<contact> contacts;   // the routing table when saved, most useful first
  std::int64_t saved_at_unix = 0;  // seconds since the epoch
};

/// JSON, versioned: {"format": "sova-dc node state", "version": 1, "node_id": "<40 hex>",
///  "saved_at": <unix seconds>, "contacts": [{"id": "<40 hex>", "host": "10.0.0.2", "port": 5678}, ...]}
/// pretty-printed (2 spaces) with a trailing newline, so an operator can read it.
std::string encode_node_state(const node_state& s);

/// Nothing, with the reason in *why (naming the field; `why` may be null), for anything
/// malformed: not JSON, wrong format/version, bad hex id, port out of 1..65535, host not a
/// numeric IP literal, a contact with the node's own id. Unknown fields are ignored.
/// A contact whose id appeared earlier is dropped (the first, most useful, one wins).
std::optional<node_state> decode_node_state(std::string_view text, std::string* why);

/// "<dir>/node-state.json"
std::string node_state_path(const std::string& dir);

/// Writes `content` so that a crash at any moment leaves either the old or the new file:
/// a temporary file beside the target ("<path>.XXXXXX", mode 0600), written in full,
/// fsync'ed and renamed over the target, then the directory fsync'ed. Creates the
/// directory of `path` when missing (one level, mode 0700). Throws std::runtime_error
/// naming the path and strerror(errno) on any failure, leaving no temporary behind.
void write_file_atomically(const std::string& path, std::string_view content);

/// The file's content; nothing when it does not exist (ENOENT); throws std::runtime_error
/// naming the path and the error for anything else (permission, is a directory, ...).
std::optional<std::string> read_file_if_exists(const std::string& path);

}  // namespace sova::net
