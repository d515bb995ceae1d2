#pragma once
// The fast lane, now only a pick: a request actor's first backend, chosen from the backend
// board with no message to any actor. It applies only when every key of the request is on
// the board, each of their backends has a forwarder, and one has a closed breaker;
// otherwise (a cold key, a new backend, every breaker open or half-open) the request
// actor asks the directory and the pool, as it does before a retry.

#include <random>
#include <string>

#include "serving/backend_board.hpp"

namespace sova::serving {

/// The backend for a first attempt at `service` on the kind `wanted` (cpu, gpu, any), by
/// power of two choices among those whose breaker is closed; counts the use of the keys.
/// Null when the fast lane does not apply (see above); else a backend of `board`, valid
/// as long as the snapshot lives. `only` (when given): the backends that may be picked
/// (a forwarded request's: the node's own).
const actors::backend_link* fast_lane_pick(const board_snapshot& board,
                                           net::service service, net::wanted_kind wanted,
                                           std::mt19937_64& rng,
                                           const actors::service_records* only = nullptr);

}  // namespace sova::serving
