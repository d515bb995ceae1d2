#include "net/rate_limiter.hpp"

#include <algorithm>

namespace sova::net {

rate_limiter::rate_limiter(token_rate rate, std::size_t max_keys)
    : rate_(rate), max_keys_(std::max<std::size_t>(max_keys, 1)) {}

double rate_limiter::refilled(const bucket& b, steady_time now) const {
  std::chrono::duration<double> elapsed = std::max(now - b.last, steady_time::duration::zero());
  return std::min(rate_.burst, b.tokens + elapsed.count() * rate_.per_second);
}

void rate_limiter::forget_one(steady_time now) {
  // A key whose bucket is full again is as good as unknown: forgetting it loses
  // nothing. Only when none is, the least recently seen key goes.
  auto before = buckets_.size();
  for (auto i = buckets_.begin(); i != buckets_.end();)
    i = refilled(i->second, now) >= rate_.burst ? buckets_.erase(i) : std::next(i);
  if (buckets_.size() == before && !buckets_.empty())
    buckets_.erase(std::min_element(buckets_.begin(), buckets_.end(), [](const auto& a, const auto& b) {
      return a.second.last < b.second.last;
    }));
}

bool rate_limiter::take(const std::string& key, steady_time now) {
  auto it = buckets_.find(key);
  if (it == buckets_.end()) {
    if (buckets_.size() >= max_keys_) forget_one(now);
    it = buckets_.emplace(key, bucket{rate_.burst, now}).first;
  }
  auto& b = it->second;
  b.tokens = refilled(b, now);
  b.last = now;
  if (b.tokens < 1.0) return false;
  b.tokens -= 1.0;
  return true;
}

}  // namespace sova::net
