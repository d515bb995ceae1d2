#pragma once
// The backend board: what a request actor needs to pick its first backend at once,
// without asking the directory and the pool (two messages and their replies on every
// request). The directory posts the backends it knows per key, the pool posts each
// backend's link (forwarder and cell). Readers take an immutable snapshot (replaced whole
// on each post; posts are rare) and read the cells. Decisions stay with the actors: the
// board mirrors them, and anything unusual (a cold key, no closed breaker, a failed first
// attempt) makes the request actor ask the directory and the pool.

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "actors/interfaces.hpp"

namespace sova::serving {

/// What the directory knows under one key ("tts/cpu"), and how often a board pick
/// used it (the directory forgets keys nobody uses).
struct board_key {
  actors::service_records records;
  std::shared_ptr<std::atomic<std::uint64_t>> uses;
  // Derived on every post, so that a request looks nothing up: the records' backends,
  // and whether every record has one (else the pool is still making a forwarder).
  std::vector<actors::backend_link> ready;
  bool complete = false;
};

struct board_snapshot {
  std::map<std::string, board_key> keys;                      // "tts/cpu"
  std::unordered_map<std::string, actors::backend_link> backends;    // by cell name, "tts/cpu/10.0.0.5:8899"
};

class backend_board {
public:
  backend_board();

  /// The directory: the backends known under `key` now.
  void post_records(const std::string& key, const actors::service_records& records);
  void drop_records(const std::string& key);
  /// How often a board pick used `key` so far (0 when not on the board).
  std::uint64_t key_uses(const std::string& key) const;

  /// The pool: a backend's forwarder and cell (replacing an earlier one).
  void post_backend(const actors::backend_link& b);
  void drop_backend(const net::service_record& record);

  std::shared_ptr<const board_snapshot> snapshot() const;

private:
  template <class Change>
  void change(Change&& f);

  std::mutex writers_;  // posts copy, change and swap the snapshot one at a time
  std::shared_ptr<const board_snapshot> current_;  // std::atomic_load / atomic_store
};

}  // namespace sova::serving
