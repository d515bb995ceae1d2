#pragma once
// The service announcer: this node's own backends (`--services`). At start and then every
// interval it probes each one (ASR: POST /asr with an empty form; TTS: POST /synthesize/
// with empty text; any HTTP answer in time means alive) and stores the live ones in the
// DHT under sha1("asr/cpu") etc. A backend that stops answering is no longer announced,
// so its record expires from the network.

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <caf/fwd.hpp>
#include <caf/timespan.hpp>

#include "actors/interfaces.hpp"
#include "http/client.hpp"

namespace sova::actors {

struct announcer_config {
  caf::timespan interval = std::chrono::seconds(30);  // probe and re-announce period
};

/// Probes one backend; `done(alive, error)` runs exactly once, on any thread.
using backend_probe = std::function<void(const service_record& backend,
                                         std::function<void(bool alive, std::string error)> done)>;
/// The real probe over HTTP, each probe bounded by `timeout`.
backend_probe http_probe_over(std::shared_ptr<http::client> client,
                              std::chrono::milliseconds timeout);

service_announcer_actor spawn_service_announcer(caf::actor_system& sys, announcer_config cfg,
                                                std::vector<service_record> own, dht_actor dht,
                                                backend_probe probe);

}  // namespace sova::actors
