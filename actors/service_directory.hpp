#pragma once
// The service directory: which backends the network offers for asr/cpu, tts/gpu, ...
// A warm cache answers at once (and a stale entry is refreshed in the background);
// a miss runs one DHT get that every concurrent miss of the same key shares. With a
// board, every key's backends are posted there for the HTTP threads' fast lane, whose
// uses count as uses of the key. `known_backends` shows the cache to views (/status,
// /metrics, the console) without counting as a use or looking anything up. The node's own
// backends (`--services`) that answer their probes, as the announcer tells them, are
// candidates of their keys whatever the DHT says, listed first; a record naming this
// node's own HTTP endpoint (what it announces, see service_announcer.hpp) is dropped,
// since it stands for those same backends.

#include <caf/fwd.hpp>
#include <caf/timespan.hpp>

#include "actors/interfaces.hpp"
#include "serving/backend_board.hpp"

namespace sova::actors {

struct directory_config {
  caf::timespan refresh_interval = std::chrono::seconds(30);  // age before a background refresh
  // Age after which a key known to have no backend is looked up again by the next request
  // that asks for it (which waits for the answer): a backend that just came up is found.
  caf::timespan empty_refresh = std::chrono::seconds(2);
  caf::timespan forget_after = std::chrono::hours(1);          // unused this long: dropped
  bool allow_loopback = false;  // keep backends on localhost/127.0.0.0/8/::1 (tests, demos)
  std::shared_ptr<serving::backend_board> board;  // posted every key's backends; none: no fast lane
};

service_directory_actor spawn_service_directory(caf::actor_system& sys, directory_config cfg,
                                                dht_actor dht);

/// The DHT keys ("asr/cpu", ...) that serve a service and the kind wanted (any: both,
/// cpu first).
std::vector<std::string> directory_keys(net::service service, net::wanted_kind wanted);

}  // namespace sova::actors
