#pragma once
// GET /status: gathers a node view (node_view_fan_in.hpp) and answers it rendered as
// views/status_json.hpp says. A part that does not answer within a couple of seconds is
// reported as unavailable rather than holding the reply.

#include <caf/fwd.hpp>

#include "actors/node_handles.hpp"
#include "http/server.hpp"

namespace sova::serving {

void report_status(caf::actor_system& sys, const actors::node_handles& sources,
                   actors::http_counters counters, http::responder reply);

}  // namespace sova::serving
