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

#include "actors/http_frontend.hpp"
#include "actors/interfaces.hpp"

namespace sova::actors {

struct admin_sources {
  status_sources node;  // id, endpoints, version; table, directory, pool, announcer, transport
  dht_actor dht;
  std::shared_ptr<frontend_state> frontend;  // counters; `drain` sets its flag
  std::string admin_host;
  std::shared_ptr<const std::atomic<std::uint16_t>> admin_port;  // known once published
  std::uint32_t k = 20;
  // Bounds every question the admin actor asks another actor (a lookup included).
  caf::timespan ask_timeout = std::chrono::seconds(60);
};

admin_actor spawn_admin(caf::actor_system& sys, admin_sources sources);

/// What draining means, for the console's `drain`/`undrain` and for a stop signal: the
/// frontend answers new ASR/TTS requests 503 (those in flight finish) and the announcer
/// stops putting this node's backends. Returns whether the node was draining before.
bool set_draining(const std::shared_ptr<frontend_state>& frontend,
                  const service_announcer_actor& announcer, bool on);

}  // namespace sova::actors
