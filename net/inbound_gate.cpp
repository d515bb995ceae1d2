#include "net/inbound_gate.hpp"

#include <algorithm>

namespace sova::net {

inbound_gate::inbound_gate(inbound_limits limits)
    : limits_(limits), requests_(limits.requests_per_host, limits.max_hosts) {}

std::size_t inbound_gate::charge(std::size_t size) const {
  return std::max(size, limits_.min_charge);
}

inbound_verdict inbound_gate::admit(const std::string& host, std::string_view datagram,
                                    steady_time now) {
  // rpcudp's first byte: 0x00 a request, 0x01 a reply. Replies answer our own calls
  // (bounded by what we send); anything else is dropped by the transport at once.
  bool request = !datagram.empty() && datagram.front() == '\0';
  auto cost = charge(datagram.size());
  std::lock_guard<std::mutex> lock(mutex_);
  if (request && !requests_.take(host, now)) {
    rate_limited_.fetch_add(1, std::memory_order_relaxed);
    return inbound_verdict::rate_limited;
  }
  auto it = queued_.find(host);
  std::size_t mine = it == queued_.end() ? 0 : it->second;
  if (backlog_ + cost > limits_.max_backlog_bytes || mine + cost > limits_.max_backlog_per_host) {
    backlog_full_.fetch_add(1, std::memory_order_relaxed);
    return inbound_verdict::backlog_full;
  }
  backlog_ += cost;
  queued_[host] = mine + cost;
  return inbound_verdict::admit;
}

void inbound_gate::handled(const std::string& host, std::size_t datagram_size) {
  auto cost = charge(datagram_size);
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = queued_.find(host);
  if (it == queued_.end()) return;  // not admitted here (nothing to give back)
  auto back = std::min(cost, it->second);
  backlog_ -= back;
  if ((it->second -= back) == 0) queued_.erase(it);
}

std::size_t inbound_gate::backlog_bytes() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return backlog_;
}

}  // namespace sova::net
