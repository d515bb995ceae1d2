#include "serving/fast_lane.hpp"

#include <algorithm>
#include <array>
#include <chrono>
#include <vector>

#include "actors/service_directory.hpp"
#include "http/backend_choice.hpp"

namespace sova::serving {

namespace {

/// directory_keys without allocating on every request: every answer, once.
const std::vector<std::string>& keys_of(net::service service, net::wanted_kind wanted) {
  static const auto all = [] {
    std::array<std::array<std::vector<std::string>, 3>, 2> a;
    for (auto s : {net::service::asr, net::service::tts})
      for (auto w : {net::wanted_kind::cpu, net::wanted_kind::gpu, net::wanted_kind::any})
        a[std::size_t(s)][std::size_t(w)] = actors::directory_keys(s, w);
    return a;
  }();
  return all[std::size_t(service)][std::size_t(wanted)];
}

/// What one pick works on; kept per thread so that a request allocates nothing here.
struct pick_buffers {
  std::vector<const board_key*> keys;
  std::vector<const actors::backend_link*> candidates;
  std::vector<http::backend_load> loads;

  void clear() {
    keys.clear();
    candidates.clear();
    loads.clear();
  }
};

}  // namespace

const actors::backend_link* fast_lane_pick(const board_snapshot& board,
                                           net::service service, net::wanted_kind wanted,
                                           std::mt19937_64& rng,
                                           const actors::service_records* only) {
  const auto& names = keys_of(service, wanted);
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
      if (only && std::find(only->begin(), only->end(), b.cell->backend) == only->end()) continue;
      auto l = b.cell->load_at(now);
      // Only a closed breaker is the fast lane's: a half-open one's probe goes through its
      // forwarder. With one healthy candidate, the choice takes a healthy one.
      any_closed = any_closed || l.healthy;
      buf.candidates.push_back(&b);
      buf.loads.push_back(l);
    }
  }
  if (!any_closed) return nullptr;
  static const std::vector<bool> none_excluded;  // a first attempt: nothing tried yet
  auto pick = http::choose_backend(buf.loads, none_excluded, rng);
  if (!pick) return nullptr;
  for (const auto* key : buf.keys) key->uses->fetch_add(1, std::memory_order_relaxed);
  return buf.candidates[*pick];
}

}  // namespace sova::serving
