#pragma once
// How many bytes of request bodies the server holds at once, all connections together:
// without a total, 1,024 connections x 32 MiB bodies could ask for 32 GiB. A body takes
// its bytes before it is read (Beast reserves a Content-Length up front) and gives them
// back when its request is done, whichever way it ends.

#include <atomic>
#include <cstddef>
#include <memory>

namespace sova::http {

/// Thread-safe: connections on any io thread take and give back.
class body_budget {
public:
  /// `limit` 0: no limit, only counting.
  explicit body_budget(std::size_t limit) : limit_(limit) {}
  body_budget(const body_budget&) = delete;
  body_budget& operator=(const body_budget&) = delete;

  /// Takes `n` bytes when they fit under the limit; false (and nothing taken) otherwise.
  bool take(std::size_t n);
  void give_back(std::size_t n);
  std::size_t in_use() const { return in_use_.load(std::memory_order_relaxed); }
  std::size_t limit() const { return limit_; }

private:
  const std::size_t limit_;
  std::atomic<std::size_t> in_use_{0};
};

/// The bytes one request holds: given back when released, reassigned or destroyed, so
/// that no path (an error, a disconnect, a dropped reply) can keep them. Move-only; one
/// thread at a time.
class body_reservation {
public:
  body_reservation() = default;
  explicit body_reservation(std::shared_ptr<body_budget> budget) : budget_(std::move(budget)) {}
  body_reservation(body_reservation&& other) noexcept;
  body_reservation& operator=(body_reservation&& other) noexcept;
  body_reservation(const body_reservation&) = delete;
  body_reservation& operator=(const body_reservation&) = delete;
  ~body_reservation() { release(); }

  /// Holds `n` bytes more; false (holding what it held) when the budget has no room, or
  /// when this reservation has no budget.
  bool grow(std::size_t n);
  void release();
  std::size_t size() const { return size_; }

private:
  std::shared_ptr<body_budget> budget_;
  std::size_t size_ = 0;
};

}  // namespace sova::http
