#include "backends/media_store.hpp"

#include <algorithm>
#include <cstdio>

namespace sova::backends {

media_store::media_store(media_store_limits limits) : limits_(limits) {}

std::string media_store::new_id() {
  std::lock_guard<std::mutex> lock(mu_);
  std::uint64_t bits = static_cast<std::uint64_t>(random_()) << 32 | random_();
  char hex[17];
  std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(bits));
  return std::to_string(++counter_) + "-" + hex;
}

void media_store::put(const std::string& id, std::string bytes) {
  auto kept = std::make_shared<const std::string>(std::move(bytes));
  std::lock_guard<std::mutex> lock(mu_);
  if (auto old = kept_.find(id); old != kept_.end()) {
    bytes_ -= old->second->size();
    kept_.erase(old);
    order_.erase(std::find(order_.begin(), order_.end(), id));
  }
  if (kept->size() > limits_.max_bytes) return;
  bytes_ += kept->size();
  kept_.emplace(id, std::move(kept));
  order_.push_back(id);
  while (!order_.empty() && (order_.size() > limits_.max_items || bytes_ > limits_.max_bytes))
    evict_oldest();
}

void media_store::evict_oldest() {
  auto it = kept_.find(order_.front());
  bytes_ -= it->second->size();
  kept_.erase(it);
  order_.pop_front();
}

media_store::audio media_store::get(const std::string& id) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = kept_.find(id);
  return it == kept_.end() ? nullptr : it->second;
}

std::size_t media_store::items() const {
  std::lock_guard<std::mutex> lock(mu_);
  return order_.size();
}

std::size_t media_store::bytes() const {
  std::lock_guard<std::mutex> lock(mu_);
  return bytes_;
}

}  // namespace sova::backends
