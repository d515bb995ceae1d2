#pragma once
// What a node lets in from the network before any work is done on a datagram: requests
// from one address are rate-limited (libtorrent's dos_blocker and OpenDHT's per-IP
// limiter do the same), and only a bounded backlog waits for the transport, so a flood
// costs neither unbounded memory nor the answers to everybody else: one address holds at
// most a small share of the backlog, so an honest peer's ping finds room while others
// flood. admit() and handled() may run on different threads.

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <mutex>
#include <unordered_map>

#include "net/rate_limiter.hpp"

namespace sova::net {

struct inbound_limits {
  /// Requests one address may send: an honest node sends a few per lookup it runs.
  token_rate requests_per_host{100, 400};
  std::size_t max_hosts = 4096;  // addresses the limiter remembers
  /// Bytes of datagrams waiting for the transport; each counts at least
  /// `min_charge` so that tiny datagrams cannot pile up by the million.
  std::size_t max_backlog_bytes = 2 * 1024 * 1024;
  std::size_t max_backlog_per_host = 32 * 1024;  // a hand-over's 100 store replies fit
  std::size_t min_charge = 256;
};

enum class inbound_verdict { admit, rate_limited, backlog_full };

class inbound_gate {
public:
  explicit inbound_gate(inbound_limits limits = {});

  /// Whether the datagram from `host` goes on to the transport; an admitted one stays
  /// in the backlog until handled() is called with its host and size.
  inbound_verdict admit(const std::string& host, std::string_view datagram, steady_time now);
  void handled(const std::string& host, std::size_t datagram_size);

  std::size_t backlog_bytes() const;
  std::uint64_t rate_limited() const { return rate_limited_.load(std::memory_order_relaxed); }
  std::uint64_t backlog_full() const { return backlog_full_.load(std::memory_order_relaxed); }

private:
  std::size_t charge(std::size_t size) const;

  inbound_limits limits_;
  mutable std::mutex mutex_;  // guards what follows
  rate_limiter requests_;
  std::size_t backlog_ = 0;
  std::unordered_map<std::string, std::size_t> queued_;  // by host; only hosts with some
  std::atomic<std::uint64_t> rate_limited_{0};
  std::atomic<std::uint64_t> backlog_full_{0};
};

}  // namespace sova::net
