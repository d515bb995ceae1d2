#pragma once
// The request actor: one per client request. It asks the directory for the backends of
// the service (a warm cache answers at once), gets their forwarders from the pool, picks
// one by power of two choices, and on a failed attempt (connect error, timeout, 5xx,
// garbage) retries on another backend, within a number of attempts and an overall
// deadline. It hands the outcome to `done` exactly once, then ends.

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include <caf/fwd.hpp>
#include <caf/timespan.hpp>

#include "actors/interfaces.hpp"

namespace sova::actors {

struct request_config {
  std::uint32_t max_attempts = 3;                          // attempts that reached a backend
  caf::timespan deadline = std::chrono::seconds(120);      // the whole request
  caf::timespan attempt_timeout = std::chrono::seconds(60);  // one attempt, connect included
  std::uint64_t seed = 0;  // mixed into each request's generator (tests fix it)
};

/// One attempt that reached a backend.
struct attempt_record {
  std::string backend;  // "asr/cpu/host:port"
  bool ok = false;      // the backend answered below 500 (its answer went to the client)
  double seconds = 0;   // connect included
};

struct client_job {
  std::string service;  // "asr" or "tts"
  std::string kind;     // "cpu", "gpu" or "any"
  std::string content_type;
  std::string body;
  // Attempts made before the actor (the fast lane's first one): they count against the
  // attempts and their backends are not tried again.
  std::vector<attempt_record> earlier;
  std::string earlier_failure;  // why the last of them failed, "backend: reason"
  caf::timespan spent{0};       // of the deadline, before the actor started
};

struct request_outcome {
  unsigned status = 0;  // the backend's status when served, else ours (502, 503, 504)
  std::string content_type;
  std::string body;        // the backend's body byte for byte, or our JSON error
  std::string error_code;  // "" when a backend served it; else no_backend, all_failed, deadline
  std::uint32_t attempts = 0;  // attempts that reached a backend
  std::vector<attempt_record> tried;  // those attempts, in order
};

using request_done = std::function<void(request_outcome)>;

void spawn_request(caf::actor_system& sys, const request_config& cfg,
                   service_directory_actor directory, backend_pool_actor pool, client_job job,
                   request_done done);

}  // namespace sova::actors
