#pragma once
// The backend pool: the forwarder and cell of each backend address, created together on
// first use. A request actor gets the links (forwarder and cell) of its candidates in
// one message and reads the cells; views get every cell read now. With a board, it posts
// each link there for the HTTP threads' fast lane.

#include <caf/fwd.hpp>
#include <caf/timespan.hpp>

#include "actors/backend_forwarder.hpp"
#include "actors/interfaces.hpp"
#include "serving/backend_board.hpp"

namespace sova::actors {

struct pool_config {
  forwarder_config forwarder;
  caf::timespan forget_after = std::chrono::minutes(10);  // unused and idle this long: dropped
  std::shared_ptr<serving::backend_board> board;  // none: no fast lane
};

backend_pool_actor spawn_backend_pool(caf::actor_system& sys, pool_config cfg, http_send send);

}  // namespace sova::actors
