#pragma once
// The backend cell: the one home of a backend's state. The pool creates it with the
// backend's forwarder; the forwarder writes it (breaker, probe, busy-until, counts); every
// other part reads it: the request actor to choose (on the board for its first pick), the
// pool to answer, /status, /metrics and the console through a reading. Atomics, so that a
// reader on any thread needs no message.

#include <atomic>
#include <cstdint>
#include <string>
#include <vector>

#include <caf/meta/type_name.hpp>
#include <caf/timespan.hpp>

#include "http/backend_choice.hpp"
#include "net/service_record.hpp"

namespace sova::serving {

/// A backend's circuit breaker.
enum class breaker_state : std::uint8_t {
  closed,     // healthy: requests flow
  open,       // failing: requests are refused until the pause ends
  half_open,  // the pause ended: one probe request may go through
};
// Inline, so that the pure renderers of views/ need no actor library.
inline const char* to_string(breaker_state x) {
  switch (x) {
    case breaker_state::closed: return "closed";
    case breaker_state::open: return "open";
    case breaker_state::half_open: return "half_open";
  }
  return "unknown";
}

/// What answers at a backend's address, as far as this node has learnt: another node's
/// endpoint (it owns backends and takes reservations, docs/owner-queue.md) or a plain SOVA
/// server (original nodes announce those). Unknown until a reservation was asked there.
enum class peer_kind : std::uint8_t { unknown, node, plain };
inline const char* to_string(peer_kind x) {
  switch (x) {
    case peer_kind::unknown: return "unknown";
    case peer_kind::node: return "node";
    case peer_kind::plain: return "plain";
  }
  return "unknown";
}

/// Whether an attempt may be sent to a backend now: its breaker is closed, or half-open
/// with no probe in flight (the next attempt is the probe), and it is not busy. The one
/// rule every reader uses.
inline bool usable_now(breaker_state b, bool probe_in_flight, bool busy) {
  if (busy) return false;
  return b == breaker_state::closed || (b == breaker_state::half_open && !probe_in_flight);
}

/// A cell read at one moment, as a value: for views, the announcer, logs and tests.
struct backend_reading {
  net::service_record backend;
  breaker_state breaker = breaker_state::closed;
  bool probe_in_flight = false;  // half-open: its one probe is out
  std::uint32_t in_flight = 0;
  double latency_ms = 0;  // EWMA of served attempts; 0 until the first one
  std::uint32_t consecutive_failures = 0;
  std::uint64_t served = 0;
  std::uint64_t failed = 0;
  std::uint64_t refused = 0;
  std::uint64_t busy = 0;  // answers that it was busy
  // Until when it asked to be left alone: the actor clock (steady), since its epoch (0: never).
  caf::timespan busy_until{0};
  peer_kind peer = peer_kind::unknown;

  bool usable_at(caf::timespan now) const {
    return usable_now(breaker, probe_in_flight, busy_until > now);
  }
};
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, backend_reading& x) {
  return f(caf::meta::type_name("backend_reading"), x.backend, x.breaker, x.probe_in_flight,
           x.in_flight, x.latency_ms, x.consecutive_failures, x.served, x.failed, x.refused,
           x.busy, x.busy_until, x.peer);
}
using backend_readings = std::vector<backend_reading>;

class backend_cell {
public:
  backend_cell(net::service_record backend, double ewma_weight);
  backend_cell(const backend_cell&) = delete;
  backend_cell& operator=(const backend_cell&) = delete;

  const net::service_record backend;
  const std::string name;  // backend.to_string(): "asr/cpu/10.0.0.5:8888", for logs and metrics

  // -- readers (any thread) ----------------------------------------------------------
  backend_reading read() const;
  /// What power of two choices needs (http/backend_choice): usable by usable_now, healthy
  /// when its breaker is also closed. `now`: the actor clock's, since its epoch.
  http::backend_load load_at(caf::timespan now) const;
  bool usable_at(caf::timespan now) const;
  breaker_state breaker() const { return breaker_.load(std::memory_order_acquire); }
  bool probe_in_flight() const { return probe_in_flight_.load(std::memory_order_acquire); }
  std::uint32_t in_flight() const { return in_flight_.load(std::memory_order_relaxed); }
  caf::timespan busy_until() const {
    return caf::timespan{busy_until_ns_.load(std::memory_order_relaxed)};
  }
  /// Attempts started so far (the pool's measure of use: a request that picked the
  /// backend from the board never asked the pool).
  std::uint64_t attempts() const { return attempts_.load(std::memory_order_relaxed); }
  peer_kind peer() const { return peer_.load(std::memory_order_relaxed); }

  // -- the forwarder only ------------------------------------------------------------
  void attempt_started() {
    attempts_.fetch_add(1, std::memory_order_relaxed);
    in_flight_.fetch_add(1, std::memory_order_relaxed);
  }
  void attempt_ended() { in_flight_.fetch_sub(1, std::memory_order_relaxed); }
  /// A served attempt: counts it, ends a run of failures, moves the latency EWMA.
  void record_served(double ms);
  void set_breaker(breaker_state b) { breaker_.store(b, std::memory_order_release); }
  void set_probe_in_flight(bool p) { probe_in_flight_.store(p, std::memory_order_release); }
  /// It answered as a node does, not as a served attempt (a reservation): alive, so a
  /// run of failures ends; served count and latency average stay as they are.
  void record_alive() { consecutive_failures_.store(0, std::memory_order_relaxed); }
  /// A failure: counted; answers the failures in a row, this one included.
  std::uint32_t record_failed();
  void record_refused() { refused_.fetch_add(1, std::memory_order_relaxed); }
  /// A busy answer: counted, and left alone until `until` (never shortened).
  void record_busy(caf::timespan until);
  /// What a reservation asked at the address found there.
  void set_peer(peer_kind p) { peer_.store(p, std::memory_order_relaxed); }

private:
  const double ewma_weight_;  // of a new latency sample
  std::atomic<breaker_state> breaker_{breaker_state::closed};
  std::atomic<bool> probe_in_flight_{false};
  std::atomic<std::uint32_t> in_flight_{0};
  std::atomic<double> latency_ms_{0};
  std::atomic<std::uint32_t> consecutive_failures_{0};
  std::atomic<std::uint64_t> served_{0};
  std::atomic<std::uint64_t> failed_{0};
  std::atomic<std::uint64_t> refused_{0};
  std::atomic<std::uint64_t> busy_{0};
  std::atomic<std::int64_t> busy_until_ns_{0};
  std::atomic<std::uint64_t> attempts_{0};
  std::atomic<peer_kind> peer_{peer_kind::unknown};
};

}  // namespace sova::serving
