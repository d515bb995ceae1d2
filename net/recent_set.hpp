#pragma once
// Keys remembered for a while: each lives `lifetime` after it was last inserted, and
// at most `max_size` are kept (the oldest go first). Pure data: the caller passes the
// time.

#include <chrono>
#include <cstddef>
#include <map>
#include <set>
#include <utility>

namespace sova::net {

template <class Key>
class recent_set {
public:
  using time_point = std::chrono::steady_clock::time_point;
  using duration = std::chrono::steady_clock::duration;

  recent_set(duration lifetime, std::size_t max_size)
      : lifetime_(lifetime), max_size_(max_size == 0 ? 1 : max_size) {}

  bool contains(const Key& k, time_point now) const {
    auto it = added_.find(k);
    return it != added_.end() && now - it->second < lifetime_;
  }

  /// Remembers `k` from `now` on (again, when it was known).
  void insert(const Key& k, time_point now) {
    erase(k);
    expire(now);
    while (added_.size() >= max_size_) erase(by_age_.begin()->second);
    added_.emplace(k, now);
    by_age_.emplace(now, k);
  }

  void erase(const Key& k) {
    auto it = added_.find(k);
    if (it == added_.end()) return;
    by_age_.erase({it->second, k});
    added_.erase(it);
  }

  std::size_t size() const { return added_.size(); }

private:
  void expire(time_point now) {
    while (!by_age_.empty() && now - by_age_.begin()->first >= lifetime_)
      erase(by_age_.begin()->second);
  }

  duration lifetime_;
  std::size_t max_size_;
  std::map<Key, time_point> added_;
  std::set<std::pair<time_point, Key>> by_age_;
};

}  // namespace sova::net
