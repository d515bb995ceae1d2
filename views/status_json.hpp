#pragma once
// GET /status's document (shared/API.md) from a node view: pure, no actors.

#include <string>

#include "views/node_view.hpp"

namespace sova::views {

/// The body of a /status reply: node id, endpoints, routing-table size and the nodes in
/// the routing table (`nodes`: id and UDP address of each), own backends (each once, with
/// its owner's queue: capacity, running, queued, wait), the parts that did not answer
/// (`unavailable`, only when some did not), the known backends of asr and tts with their
/// health and what answers at their address (`peer`), and the front end's counters.
/// Indented JSON ending in a newline.
std::string status_document(const node_view& v);

}  // namespace sova::views
