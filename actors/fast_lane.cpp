#include "actors/fast_lane.hpp"

#include <vector>

#include "actors/service_directory.hpp"
#include "http/backend_choice.hpp"

namespace sova::actors {

namespace {

/// directory_keys without allocating on every request: the few valid answers, once.
const std::vector<std::string>& keys_of(const std::string& service, const std::string& kind) {
  static const std::vector<std::string> none;
  static const std::map<std::pair<std::string, std::string>, std::vector<std::string>> all = [] {
    std::map<std::pair<std::string, std::string>, std::vector<std::string>> m;
    for (const char* s : {"asr", "tts"})
      for (const char* k : {"cpu", "gpu", "any"}) m[{s, k}] = directory_keys(s, k);
    return m;
  }();
  auto it = all.find({service, kind});
  return it == all.end() ? none : it->second;
}

}  // namespace

std::optional<board_backend> fast_lane_pick(const board_snapshot& board,
                                            const std::string& service, const std::string& kind,
                                            std::mt19937_64& rng) {
  const auto& keys = keys_of(service, kind);
  if (keys.empty()) return std::nullopt;
  std::vector<const board_backend*> candidates;
  std::vector<http::backend_load> loads;
  bool any_closed = false;
  for (const auto& key : keys) {
    auto k = board.keys.find(key);
    if (k == board.keys.end()) return std::nullopt;  // cold: the directory must look it up
    if (!k->second.complete) return std::nullopt;     // no forwarder yet: the pool makes it
    for (const auto& b : k->second.ready) {
      const auto& g = *b.gauge;
      http::backend_load l;
      l.healthy = l.usable = g.breaker_closed.load(std::memory_order_relaxed);
      l.in_flight = g.in_flight.load(std::memory_order_relaxed);
      l.latency_ms = g.latency_ms.load(std::memory_order_relaxed);
      any_closed = any_closed || l.usable;
      candidates.push_back(&b);
      loads.push_back(l);
    }
  }
  if (!any_closed) return std::nullopt;
  std::vector<bool> tried(loads.size(), false);
  auto pick = http::choose_backend(loads, tried, rng);
  if (!pick) return std::nullopt;
  for (const auto& key : keys) board.keys.at(key).uses->fetch_add(1, std::memory_order_relaxed);
  return *candidates[*pick];
}

}  // namespace sova::actors
