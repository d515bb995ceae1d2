#pragma once
// GET /v1/models: asks the service directory for the ASR and TTS backends as a request
// does (a warm cache answers at once; a cold key is looked up in the DHT, so the list is
// what the network offers now, not only what earlier requests found) and the backend pool
// for their breakers, and answers openai/models.hpp's list of the live ones. A part that
// does not answer within a few seconds leaves its backends out.

#include <caf/fwd.hpp>

#include "actors/node_handles.hpp"
#include "http/server.hpp"

namespace sova::serving {

void report_models(caf::actor_system& sys, const actors::node_handles& sources,
                   http::responder reply);

}  // namespace sova::serving
