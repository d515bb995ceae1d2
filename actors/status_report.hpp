#pragma once
// GET /status: asks the routing table, the directory, the pool and the announcer, and
// answers one JSON document (shared/API.md). A part that does not answer within a
// couple of seconds is reported as unavailable rather than holding the reply.

#include <caf/fwd.hpp>

#include "actors/http_frontend.hpp"
#include "http/server.hpp"

namespace sova::actors {

void report_status(caf::actor_system& sys, const status_sources& sources,
                   std::shared_ptr<const frontend_state> counters, http::responder reply);

}  // namespace sova::actors
