#pragma once
// The request actor: one per client ASR/TTS request, spawned by the HTTP front end on the
// io thread that read the request, and making every attempt of it. When the request's
// keys are warm on the backend board it takes its first backend from there at once (the
// fast lane's pick, no message); otherwise, and after a failed first attempt, it asks the
// directory for the backends of the service and the pool for their links (forwarder and
// cell), and picks one by power of two choices on the cells as they are at each attempt
// (usable_now: a half-open backend whose probe is out is not chosen). Every attempt goes
// through the backend's forwarder; a failed one (connect error, timeout, an answer that is
// not a reply of the service) is retried on another backend, within a number of attempts
// and an overall deadline. Unusable answers count against their backends only when
// another backend then serves the request; after two of them the request is taken to be at
// fault and answered 502 with what the backends said, no breaker moved. A request another
// node forwarded (client_job::own_only) takes its candidates from the node's own backends
// only. It hands the outcome to `done` exactly once, then ends.

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <caf/fwd.hpp>
#include <caf/timespan.hpp>

#include "actors/interfaces.hpp"

namespace sova::serving {
class backend_board;
}

namespace sova::actors {

struct request_config {
  std::uint32_t max_attempts = 3;                          // attempts that reached a backend
  caf::timespan deadline = std::chrono::seconds(120);      // the whole request
  caf::timespan attempt_timeout = std::chrono::seconds(60);  // one attempt, connect included
  std::uint64_t seed = 0;  // mixed into each request's generator (tests fix it)
  // --announce node: places reservations at the owners of the service (this node's owner
  // and other nodes' endpoints) and sends the job to the first that grants one (late
  // binding, docs/owner-queue.md); plain SOVA backends still get jobs straight.
  bool late_binding = false;
  // The most owners a request holds reservations at, at once.
  std::uint32_t max_reservations = 4;
  // Called first thing in each request actor (tests: where and when it runs).
  std::function<void()> on_start;
};

/// One attempt that reached a backend.
struct attempt_record {
  std::string backend;  // "asr/cpu/host:port"
  bool ok = false;      // the backend served it (its answer went to the client)
  double seconds = 0;   // connect included
  std::string failure;  // why not, when not ok: what the backend answered, or the transport error
};

/// An attempt whose backend answered something that is not a reply of its service: it is
/// blamed on the backend (told to its forwarder) only if another backend serves the request.
struct suspect {
  backend_forwarder_actor forwarder;  // invalid when this node's owner ran the attempt
  std::string reason;
  std::string owned;  // then: which own backend, told to the owner (it blames its forwarder)
};

struct client_job {
  net::service service = net::service::asr;
  net::wanted_kind wanted = net::wanted_kind::any;
  std::string content_type;
  std::string body;
  std::string via;  // the Via header to forward with (http/hop_guard)
  // Forwarded by another node (its Via names one): only this node's own backends may
  // serve it, never another node or a backend learnt from the network, so that a request
  // makes at most one hop; without an own backend of the service it is refused at once
  // (503 not_owner).
  bool own_only = false;
  // own_only: the reservation this node granted for the job (Sova-Reservation); "" for none.
  std::string reservation;
};

/// The Content-Type of every relayed reply: the backend's bytes are JSON whatever it said
/// (SOVA ASR sends its JSON as text/html), and clients that check the type want this.
inline constexpr const char* relayed_content_type = "application/json; charset=utf-8";

/// Unusable answers (see suspect) after which the request itself is taken to be at fault.
inline constexpr std::size_t max_unusable_answers = 2;

struct request_outcome {
  unsigned status = 0;  // the backend's status when served, else ours (502, 503, 504)
  std::string content_type;
  std::string body;        // the backend's body byte for byte, or our JSON error
  std::string error_code;  // "" when a backend served it; else no_backend, all_failed, deadline
  std::uint32_t attempts = 0;  // attempts that reached a backend
  std::vector<attempt_record> attempt_log;  // those attempts, in order
  std::uint32_t retry_after_s = 0;    // 503 busy: the Retry-After to send (0: none)
};

using request_done = std::function<void(request_outcome)>;

/// What every request of a front end shares, read-only: made once, not copied per request.
struct request_context {
  request_config cfg;
  service_directory_actor directory;
  backend_pool_actor pool;
  // Where a warm first attempt is picked (none: always ask directory and pool).
  std::shared_ptr<serving::backend_board> board;
  service_records own;  // this node's own backends (--services), for client_job::own_only
  // The queue of those backends (--announce node): every job for them goes through it, and
  // the request places reservations there and at other nodes (late binding). Invalid: own
  // backends are reached through their forwarders like any other.
  owner_actor owner;
};

void spawn_request(caf::actor_system& sys, std::shared_ptr<const request_context> ctx,
                   client_job job, request_done done);

}  // namespace sova::actors
