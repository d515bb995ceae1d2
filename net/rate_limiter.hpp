#pragma once
// Token buckets by key (a peer's address): each key may spend `per_second` on average
// with bursts of up to `burst`. Remembers a bounded number of keys. Pure data: the
// caller passes the time.

#include <chrono>
#include <cstddef>
#include <string>
#include <unordered_map>

namespace sova::net {

using steady_time = std::chrono::steady_clock::time_point;

struct token_rate {
  double per_second = 0;
  double burst = 0;
};

class rate_limiter {
public:
  rate_limiter(token_rate rate, std::size_t max_keys);

  /// Spends one token of `key`'s bucket; false when it has none left.
  bool take(const std::string& key, steady_time now);

  std::size_t tracked() const { return buckets_.size(); }
  const token_rate& rate() const { return rate_; }

private:
  struct bucket {
    double tokens;
    steady_time last;
  };
  double refilled(const bucket& b, steady_time now) const;
  /// Makes room for one more key.
  void forget_one(steady_time now);

  token_rate rate_;
  std::size_t max_keys_;
  std::unordered_map<std::string, bucket> buckets_;
};

}  // namespace sova::net
