#pragma once
// The node view: one snapshot of what a node's parts say, gathered by one fan-in
// (actors/node_view_fan_in.hpp) and rendered by pure functions (status_json, console_json,
// metrics_text). A part that did not answer in time has no value here and is listed in
// `unavailable`, so every renderer can say so instead of waiting for it.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "actors/interfaces.hpp"

namespace sova::views {

/// The parts a node view asks, in the order they are asked and reported.
enum class node_part { routing_table, transport, directory, backend_pool, announcer, owner };

/// The part's name in /status's `unavailable` and /metrics' sova_dc_scrape_part_up.
const char* to_string(node_part part);

/// A part that did not answer, and why (the console shows the reason).
struct missing_part {
  node_part part;
  std::string reason;
};

/// The HTTP front end's counters as it gave them for the view.
using frontend_counters = actors::http_counters;

struct node_view {
  // Who the node is (given, never asked).
  std::string node_id;  // hex
  std::string version;
  std::string udp_endpoint;
  std::string http_endpoint;
  bool has_announcer = false;  // the node has own backends (--services)
  bool has_owner = false;      // and queues their work itself (--announce node)
  // What the parts answered; empty when they did not (see `unavailable`).
  std::optional<std::size_t> routing_table_size;
  std::optional<actors::contacts> known_nodes;  // the routing table's contacts
  std::optional<actors::transport_stats> transport;
  std::optional<actors::directory_view> directory;
  std::optional<serving::backend_readings> readings;
  std::optional<actors::own_services> own;
  std::optional<actors::announce_view> announce;  // what the announcer announces, and where
  std::optional<actors::owned_backend_states> owned_queue;  // the owner's queue per own backend
  std::optional<frontend_counters> http;  // none when the node has no HTTP front end
  std::vector<missing_part> unavailable;  // in node_part order
};

/// The backends the directory holds for `service`: its cpu key's, then its gpu key's
/// (the order of a request for kind "any"). Empty when the directory did not answer.
actors::service_records known_backends(const node_view& v, net::service service);

/// Why `part` did not answer, or nullptr when it did (or was not asked).
const missing_part* missing(const node_view& v, node_part part);

}  // namespace sova::views
