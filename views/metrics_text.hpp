#pragma once
// GET /metrics' page (Prometheus text format 0.0.4) from a node view: pure, no actors.

#include <string>
#include <string_view>

#include "views/node_view.hpp"

namespace sova::views {

/// sova_dc_build_info, then `recorded` (the families the front end records as requests
/// finish, already in the text format), then what the parts said: in-flight and draining
/// gauges, routing table, DHT transport, directory, each known backend, own backends and
/// their owner's queue.
/// A part that did not answer is left out and has sova_dc_scrape_part_up 0.
std::string metrics_text(const node_view& v, std::string_view recorded);

}  // namespace sova::views
