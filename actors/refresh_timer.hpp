#pragma once
// The one clock of a node: a tick at a fixed interval to every subscriber, which
// decides for itself what is due (bucket refresh, record expiry, re-announce).

#include <caf/fwd.hpp>
#include <caf/timespan.hpp>

#include "actors/interfaces.hpp"

namespace sova::actors {

refresh_timer_actor spawn_refresh_timer(caf::actor_system& sys, caf::timespan interval);

}  // namespace sova::actors
