#include "serving/backend_cell.hpp"

namespace sova::serving {

backend_cell::backend_cell(net::service_record b, double ewma_weight)
    : backend(std::move(b)), name(backend.to_string()), ewma_weight_(ewma_weight) {}

backend_reading backend_cell::read() const {
  backend_reading r;
  r.backend = backend;
  r.breaker = breaker();
  r.probe_in_flight = probe_in_flight();
  r.in_flight = in_flight();
  r.latency_ms = latency_ms_.load(std::memory_order_relaxed);
  r.consecutive_failures = consecutive_failures_.load(std::memory_order_relaxed);
  r.served = served_.load(std::memory_order_relaxed);
  r.failed = failed_.load(std::memory_order_relaxed);
  r.refused = refused_.load(std::memory_order_relaxed);
  r.busy = busy_.load(std::memory_order_relaxed);
  r.busy_until = busy_until();
  r.peer = peer();
  return r;
}

bool backend_cell::usable_at(caf::timespan now) const {
  return usable_now(breaker(), probe_in_flight(), busy_until() > now);
}

http::backend_load backend_cell::load_at(caf::timespan now) const {
  http::backend_load l;
  l.usable = usable_at(now);
  l.healthy = l.usable && breaker() == breaker_state::closed;
  l.in_flight = in_flight();
  l.latency_ms = latency_ms_.load(std::memory_order_relaxed);
  return l;
}

void backend_cell::record_served(double ms) {
  served_.fetch_add(1, std::memory_order_relaxed);
  consecutive_failures_.store(0, std::memory_order_relaxed);
  auto old = latency_ms_.load(std::memory_order_relaxed);
  double next;
  do {
    next = old == 0 ? ms : ewma_weight_ * ms + (1 - ewma_weight_) * old;
  } while (!latency_ms_.compare_exchange_weak(old, next, std::memory_order_relaxed));
}

std::uint32_t backend_cell::record_failed() {
  failed_.fetch_add(1, std::memory_order_relaxed);
  return consecutive_failures_.fetch_add(1, std::memory_order_relaxed) + 1;
}

void backend_cell::record_busy(caf::timespan until) {
  busy_.fetch_add(1, std::memory_order_relaxed);
  auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(until).count();
  auto old = busy_until_ns_.load(std::memory_order_relaxed);
  while (ns > old && !busy_until_ns_.compare_exchange_weak(old, ns, std::memory_order_relaxed)) {
  }
}

}  // namespace sova::serving
