#include "http/body_budget.hpp"

#include <utility>

namespace sova::http {

bool body_budget::take(std::size_t n) {
  auto used = in_use_.load(std::memory_order_relaxed);
  do {
    if (limit_ > 0 && (used > limit_ || n > limit_ - used)) return false;
  } while (!in_use_.compare_exchange_weak(used, used + n, std::memory_order_relaxed));
  return true;
}

void body_budget::give_back(std::size_t n) { in_use_.fetch_sub(n, std::memory_order_relaxed); }

body_reservation::body_reservation(body_reservation&& other) noexcept
    : budget_(std::move(other.budget_)), size_(std::exchange(other.size_, 0)) {}

body_reservation& body_reservation::operator=(body_reservation&& other) noexcept {
  if (this != &other) {
    release();
    budget_ = std::move(other.budget_);
    size_ = std::exchange(other.size_, 0);
  }
  return *this;
}

bool body_reservation::grow(std::size_t n) {
  if (!budget_ || !budget_->take(n)) return false;
  size_ += n;
  return true;
}

void body_reservation::release() {
  if (budget_ && size_ > 0) budget_->give_back(size_);
  size_ = 0;
}

}  // namespace sova::http
