#pragma once
// The owner actor: the one place that queues work for this node's own backends (its
// --services, with --announce node). It drives the owner queue (serving/owner_queue.hpp):
// jobs come as runs (a forwarded request with its body) or as reservations (late binding,
// docs/owner-queue.md: a slot is held and granted, the job follows as a claim); each
// started job goes to its backend's forwarder (asked of the pool at every start, so that a
// link the pool forgot is never used) with at most `capacity` jobs on a backend at once.
// A timer finds jobs that outlived the attempt timeout (their backend is marked down and
// probed on a pause that doubles) and reservations whose job never came. The announcer
// learns whether a backend works from here (check): an idle backend's probe takes one of
// its slots, so that a job never waits behind a probe inside a hung backend, from where
// it could run after the entry node gave it up and placed it elsewhere. A backend given
// without `*N` that tells its workers in its answers (a reference backend's Sova-Workers
// header, read from its probes) gets that many jobs at once; one that does not (a real
// SOVA server) gets one.

#include <vector>

#include <caf/fwd.hpp>
#include <caf/timespan.hpp>

#include "actors/interfaces.hpp"
#include "actors/service_announcer.hpp"
#include "net/owned_backend.hpp"
#include "serving/owner_queue.hpp"

namespace sova::actors {

struct owner_config {
  serving::owner_queue_settings queue;
  caf::timespan attempt_timeout = std::chrono::seconds(60);  // one job on a backend
  caf::timespan tick = std::chrono::milliseconds(250);       // hung jobs, lapses, probes
};

/// The owner of `own`; it ends with the actor system or an exit message.
owner_actor spawn_owner(caf::actor_system& sys, owner_config cfg,
                        std::vector<net::owned_backend> own, backend_pool_actor pool,
                        backend_probe probe);

}  // namespace sova::actors
