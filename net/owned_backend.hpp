#pragma once
// A backend of this node's own --services, with how many jobs it runs at once.
// `--services asr/cpu/127.0.0.1:8888*4`: the record is what the DHT knows (its text,
// key and wire format are those of service_record, shared/PROTOCOL.md); the capacity
// stays with the owner, never announced: only the owner queues work for its backends
// and hands each at most `capacity` jobs (serving/owner_queue.hpp).

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "net/service_record.hpp"

namespace sova::net {

struct owned_backend {
  /// A real SOVA server runs one synchronous worker: one job at a time.
  static constexpr unsigned default_capacity = 1;
  static constexpr unsigned max_capacity = 64;

  service_record record;
  unsigned capacity = default_capacity;
  /// `*N` was written: the owner takes it as is; without it, a backend that tells its
  /// workers in a `Sova-Workers` header (a reference backend) gets that many jobs at once.
  bool capacity_given = false;

  /// "asr/cpu/host:port*4", or the record alone when no `*N` was given.
  std::string to_string() const;

  friend bool operator==(const owned_backend& a, const owned_backend& b) {
    return a.capacity == b.capacity && a.capacity_given == b.capacity_given &&
           a.record == b.record;
  }
};

/// One entry: a service record, optionally followed by `*N` with N in 1..64. On failure
/// `error` names the entry and says what is wrong.
std::optional<owned_backend> parse_owned_backend(std::string_view text,
                                                 std::string* error = nullptr);

/// A comma-separated `--services` list; nothing when an entry is bad (error names it).
std::optional<std::vector<owned_backend>> parse_owned_backends(std::string_view text,
                                                               std::string* error = nullptr);

/// The records alone, in the same order: what is announced and probed.
std::vector<service_record> records_of(const std::vector<owned_backend>& backends);

}  // namespace sova::net
