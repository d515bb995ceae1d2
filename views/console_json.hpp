#pragma once
// The admin console's `services` and `stats` results from a node view: pure, no actors.
// The admin actor fails a command whose parts did not answer (console_parts_missing)
// before rendering it.

#include <optional>

#include <nlohmann/json.hpp>

#include "views/node_view.hpp"

namespace sova::views {

/// `services [asr|tts]`: for each of `wanted`, the known backends with their cells'
/// readings; `own`, this node's own backends of those services with their owner's queue.
nlohmann::ordered_json services_json(const node_view& v, const std::vector<net::service>& wanted);

/// `stats`: uptime, DHT transport and directory counters, a summary of the backends'
/// readings, and the HTTP front end's counters ({} without a front end).
nlohmann::ordered_json stats_json(const node_view& v, double uptime_s);

/// The first part `services` (or `stats`) needs that did not answer, if any.
const missing_part* services_part_missing(const node_view& v);
const missing_part* stats_part_missing(const node_view& v);

}  // namespace sova::views
