#pragma once
// A CAF scheduler that runs every (non-detached) actor on the io threads of an
// http::io_runtime, where the HTTP server reads requests and the client talks to backends:
// a request's actor, the actors it asks and its reply share the thread that read the
// request, with no hand-over to a scheduler thread. With one io thread (the node's
// default) that holds for every actor; with more, the runtime's threads share one
// io_context, so an actor runs on whichever of them takes its turn (still one at a time).
//
// Installed through the actor system's config before the system is constructed. The
// system's destructor stops it: it waits for every actor, then stops the clock and joins
// the io threads (stop the HTTP server and client on them first). Blocking CAF calls
// (scoped_actor receive, request(...).receive) must never run on an io thread: their
// timeouts would have to fire on the thread they block.

#include <memory>

#include <caf/actor_system_config.hpp>

namespace sova::http {
class io_runtime;
}

namespace sova::scheduler {

/// Actors taking turns per message batch at most this long, so that one busy actor
/// cannot hold back every connection (CAF's default is unlimited).
inline constexpr std::size_t io_max_throughput = 32;

/// Makes the actor system built from `cfg` run its actors on `io`'s threads.
void run_actors_on(caf::actor_system_config& cfg, std::shared_ptr<http::io_runtime> io);

}  // namespace sova::scheduler
