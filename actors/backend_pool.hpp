#pragma once
// The backend pool: the forwarder of each backend address, created on first use, and a
// health snapshot of each (kept current by the forwarders' reports and their gauges), so
// that a request actor gets candidates and their health in one message. With a board, it
// posts each forwarder and gauge there for the HTTP threads' fast lane.

#include <caf/fwd.hpp>
#include <caf/timespan.hpp>

#include "actors/backend_forwarder.hpp"
#include "actors/interfaces.hpp"

namespace sova::actors {

struct pool_config {
  forwarder_config forwarder;
  caf::timespan forget_after = std::chrono::minutes(10);  // unused and idle this long: dropped
  std::shared_ptr<backend_board> board;  // none: no fast lane
};

backend_pool_actor spawn_backend_pool(caf::actor_system& sys, pool_config cfg, http_send send);

}  // namespace sova::actors
