#include "net/inbound_gate.hpp"

#include <algorithm>

namespace sova::net {

inbound_gate::inbound_gate(inbound_limits limits)
    : limits_(limits), per_host_(limits.requests_per_host, limits.max_hosts) {}

std::size_t inbound_gate::charge(std::size_t size) const {
  return std::max(size, limits_.min_charge);
}

inbound_verdict inbound_gate::admit(const std::string& host, std::string_view datagram,
                                    steady_time now) {
  // rpcudp's first byte: 0x00 a request, 0x01 a reply. Replies answer our own calls
  // (bounded by what we send); anything else is dropped by the transport at once.
  bool request = !datagram.empty() && datagram.front() == '\0';
  if (request && !per_host_.take(host, now)) {
    rate_limited_.fetch_add(1, std::memory_order_relaxed);
    return inbound_verdict::rate_limited;
  }
  auto cost = charge(datagram.size());
  if (backlog_.fetch_add(cost, std::memory_order_relaxed) + cost > limits_.max_backlog_bytes) {
    backlog_.fetch_sub(cost, std::memory_order_relaxed);
    backlog_full_.fetch_add(1, std::memory_order_relaxed);
    return inbound_verdict::backlog_full;
  }
  return inbound_verdict::admit;
}

void inbound_gate::handled(std::size_t datagram_size) {
  backlog_.fetch_sub(charge(datagram_size), std::memory_order_relaxed);
}

}  // namespace sova::net
