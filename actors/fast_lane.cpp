#include "actors/fast_lane.hpp"

#include <array>
#include <chrono>
#include <vector>

#include "actors/service_directory.hpp"
#include "http/backend_choice.hpp"

namespace sova::actors {

namespace {

/// directory_keys without allocating on every request: the few valid answers, once.
const std::vector<std::string>& keys_of(const std::string& service, const std::string& kind) {
  static const std::vector<std::string> none;
  static const char* const services[] = {"asr", "tts"};
  static const char* const kinds[] = {"cpu", "gpu", "any"};
  static const auto all = [] {
    std::array<std::array<std::vector<std::string>, 3>, 2> a;
    for (std::size_t s = 0; s < 2; ++s)
      for (std::size_t k = 0; k < 3; ++k) a[s][k] = directory_keys(services[s], kinds[k]);
    return a;
  }();
  for (std::size_t s = 0; s < 2; ++s)
    for (std::size_t k = 0; k < 3; ++k)
      if (service == services[s] && kind == kinds[k]) return all[s][k];
  return none;
}

/// What one pick works on; kept per thread so that a request allocates nothing here.
struct pick_buffers {
  std::vector<const board_key*> keys;
  std::vector<const backend_link*> candidates;
  std::vector<http::backend_load> loads;

  void clear() {
    keys.clear();
    candidates.clear();
    loads.clear();
  }
};

}  // namespace

const backend_link* fast_lane_pick(const board_snapshot& board,
                                            const std::string& service, const std::string& kind,
                                            std::mt19937_64& rng) {
  const auto& names = keys_of(service, kind);
  if (names.empty()) return nullptr;
  thread_local pick_buffers buf;
  buf.clear();
  bool any_closed = false;
  // The actor clock is the steady clock: busy-until times are on it.
  auto now = std::chrono::duration_cast<caf::timespan>(
      std::chrono::steady_clock::now().time_since_epoch());
  for (const auto& name : names) {
    auto k = board.keys.find(name);
    if (k == board.keys.end()) return nullptr;  // cold: the directory must look it up
    if (!k->second.complete) return nullptr;     // no forwarder yet: the pool makes it
    buf.keys.push_back(&k->second);
    for (const auto& b : k->second.ready) {
      auto l = b.cell->load_at(now);
      // Only a closed breaker is the fast lane's: a half-open one's probe goes through its
      // forwarder. With one healthy candidate, the choice takes a healthy one.
      any_closed = any_closed || l.healthy;
      buf.candidates.push_back(&b);
      buf.loads.push_back(l);
    }
  }
  if (!any_closed) return nullptr;
  static const std::vector<bool> none_tried;  // a first attempt: nothing tried yet
  auto pick = http::choose_backend(buf.loads, none_tried, rng);
  if (!pick) return nullptr;
  for (const auto* key : buf.keys) key->uses->fetch_add(1, std::memory_order_relaxed);
  return buf.candidates[*pick];
}

}  // namespace sova::actors
