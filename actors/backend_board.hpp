#pragma once
// The backend board: what the HTTP threads need to send a request's first attempt by
// themselves, without a message to any actor (each message is a hand-over to another
// thread, which costs more than the proxying). The directory posts the backends it knows
// per key, the pool posts each backend's forwarder and gauge. Readers take an immutable
// snapshot (replaced whole on each post; posts are rare) and read the gauges' atomics.
// Decisions stay with the actors: the board mirrors them, and the fast lane that reads
// it hands everything unusual (a cold key, an open breaker, a failure) to a request actor.

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "actors/interfaces.hpp"

namespace sova::actors {

/// The live numbers of one backend, shared by its forwarder and the fast lane.
struct backend_gauge {
  explicit backend_gauge(double weight = 0.3) : ewma_weight(weight) {}
  const double ewma_weight;  // of a new latency sample
  std::atomic<std::uint32_t> in_flight{0};
  std::atomic<double> latency_ms{0};  // EWMA of served attempts; 0 until the first one
  std::atomic<std::uint64_t> served{0};
  std::atomic<std::uint32_t> consecutive_failures{0};
  std::atomic<bool> breaker_closed{true};  // written by the forwarder only
  // Until when (steady clock, ns since its epoch) the backend asked to be left alone.
  std::atomic<std::int64_t> busy_until_ns{0};  // written by the forwarder only
  std::atomic<std::uint64_t> fast_sends{0};  // attempts the fast lane sent (uses, for the pool)

  /// A served attempt: counts it, ends a run of failures, moves the EWMA.
  void record_served(double ms);
};

/// One backend as the board shows it.
struct board_backend {
  service_record record;
  backend_forwarder_actor forwarder;
  std::shared_ptr<backend_gauge> gauge;
  std::string name;  // record.to_string(), set by the board (logs and metrics use it)
};

/// What the directory knows under one key ("tts/cpu"), and how often the fast lane
/// used it (the directory forgets keys nobody uses).
struct board_key {
  service_records records;
  std::shared_ptr<std::atomic<std::uint64_t>> uses;
  // Derived on every post, so that a request looks nothing up: the records' backends,
  // and whether every record has one (else the pool is still making a forwarder).
  std::vector<board_backend> ready;
  bool complete = false;
};

struct board_snapshot {
  std::map<std::string, board_key> keys;                      // "tts/cpu"
  std::unordered_map<std::string, board_backend> backends;    // "tts/cpu/10.0.0.5:8899"
};

class backend_board {
public:
  backend_board();

  /// The directory: the backends known under `key` now.
  void post_records(const std::string& key, const service_records& records);
  void drop_records(const std::string& key);
  /// How often the fast lane used `key` so far (0 when not on the board).
  std::uint64_t key_uses(const std::string& key) const;

  /// The pool: a backend's forwarder and gauge (replacing an earlier one).
  void post_backend(const board_backend& b);
  void drop_backend(const service_record& record);

  std::shared_ptr<const board_snapshot> snapshot() const;

private:
  template <class Change>
  void change(Change&& f);

  std::mutex writers_;  // posts copy, change and swap the snapshot one at a time
  std::shared_ptr<const board_snapshot> current_;  // std::atomic_load / atomic_store
};

}  // namespace sova::actors
