#pragma once
// The audio behind a reference backend's `response_audio_url`s (shared/API.md): the most
// recent items in memory, bounded in count and in bytes, the oldest evicted first. Ids
// are unique (a counter) and hard to guess (64 random bits). Thread-safe; no call waits
// for anything but a short lock, so HTTP io threads may use it.

#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <string_view>
#include <unordered_map>

namespace sova::backends {

struct media_store_limits {
  std::size_t max_items = 64;
  std::size_t max_bytes = 64 * 1024 * 1024;
};

class media_store {
public:
  using audio = std::shared_ptr<const std::string>;

  /// Throws std::runtime_error when the system has no random source.
  explicit media_store(media_store_limits limits = {});

  /// A fresh id, never given out before by this store: "<counter>-<16 hex digits>".
  std::string new_id();

  /// Keeps `bytes` under `id` (replacing what it held), then evicts the oldest items until
  /// both limits hold. Bytes larger than max_bytes on their own are not kept at all.
  void put(const std::string& id, std::string bytes);

  /// What is kept under `id`; null when unknown or evicted.
  audio get(const std::string& id) const;

  std::size_t items() const;
  std::size_t bytes() const;
  const media_store_limits& limits() const { return limits_; }

private:
  void evict_oldest();  // with mu_ held

  media_store_limits limits_;
  mutable std::mutex mu_;
  std::random_device random_;
  std::uint64_t counter_ = 0;
  std::unordered_map<std::string, audio> kept_;
  std::deque<std::string> order_;  // ids as put, oldest first
  std::size_t bytes_ = 0;
};

}  // namespace sova::backends
