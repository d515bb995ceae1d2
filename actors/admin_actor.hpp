#pragma once
// The admin actor: the node's control surface for `sova-dc admin`. It checks each command
// against the catalogue (admin/commands.hpp), asks the node's actors, and answers one
// JSON object; a failure is an admin_errc error whose message tells the operator what
// went wrong. It never blocks: host names are resolved by the console, not here.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include <caf/fwd.hpp>
#include <caf/timespan.hpp>

#include "actors/interfaces.hpp"
#include "actors/node_handles.hpp"

namespace sova::actors {

struct admin_sources {
  node_handles node;  // id, endpoints, version; table, directory, pool, announcer, transport
  dht_actor dht;
  http_frontend_actor frontend;  // counters; `drain`; invalid: no HTTP side
  std::string admin_host;
  std::shared_ptr<const std::atomic<std::uint16_t>> admin_port;  // known once published
  std::uint32_t k = 20;
  // Bounds every question the admin actor asks another actor (a lookup included).
  caf::timespan ask_timeout = std::chrono::seconds(60);
};

admin_actor spawn_admin(caf::actor_system& sys, admin_sources sources);

/// What draining means, for the console's `drain`/`undrain` and for a stop signal: the
/// front end answers new ASR/TTS requests 503 (those in flight finish) and the announcer
/// stops putting this node's backends. Asks the front end (answering whether it was
/// draining) with `self`'s request, blocking or not as `self` is; tells the announcer.
template <class Self>
auto ask_drain(Self* self, const http_frontend_actor& frontend,
               const service_announcer_actor& announcer, bool on, caf::timespan limit) {
  if (announcer) self->send(announcer, drain_atom::value, on);
  return self->request(frontend, limit, drain_atom::value, on);
}

}  // namespace sova::actors
