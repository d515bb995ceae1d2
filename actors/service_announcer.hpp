#pragma once
// The service announcer: this node's own backends (`--services`). At start and then every
// interval it probes each one with the request the original node used, which a real SOVA
// server answers cheaply (ASR: POST /asr with an empty form; TTS: POST /synthesize/ with
// {"text": "", "voice": "Natasha"}); alive means HTTP 200 with a reply of the service
// (http/backend_reply.hpp), so a backend entered at the wrong port is never announced.
// It stores the live ones in the DHT under sha1("asr/cpu") etc. A one-worker backend busy
// with this node's requests can leave a probe waiting past its timeout: while the pool
// says it has requests in flight or served one since the last probe (and its breaker is
// not open), it stays announced. A backend that stops answering is no longer announced,
// so its record expires from the network; one that does not answer (at start, or any
// time later) is probed again on a short backoff, so that it is announced within seconds
// of coming up.

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
  // A backend that does not answer is probed again after this, then after twice as long,
  // and so on up to `interval`.
  caf::timespan first_retry = std::chrono::seconds(1);
};

/// Probes one backend; `done` runs exactly once, on any thread.
using backend_probe = std::function<void(const service_record& backend,
                                         std::function<void(probe_verdict)> done)>;
/// The probe's request for `backend`'s service.
http::client_request probe_request(const service_record& backend,
                                   std::chrono::milliseconds timeout);
/// What a probe's exchange says of `backend`.
probe_verdict probe_verdict_of(const service_record& backend, const http::client_result& r);
/// The real probe over HTTP, each probe bounded by `timeout`.
backend_probe http_probe_over(std::shared_ptr<http::client> client,
                              std::chrono::milliseconds timeout);

/// `pool` (may be invalid: no busy rule) tells how the node's requests to its own
/// backends are going.
service_announcer_actor spawn_service_announcer(caf::actor_system& sys, announcer_config cfg,
                                                std::vector<service_record> own, dht_actor dht,
                                                backend_probe probe, backend_pool_actor pool = {});

}  // namespace sova::actors
