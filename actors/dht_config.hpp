#pragma once
// Settings of one DHT node, shared by its actors.

#include <chrono>
#include <cstddef>
#include <cstdint>

#include <caf/timespan.hpp>

#include "net/node_id.hpp"
#include "net/rate_limiter.hpp"
#include "net/record_store.hpp"

namespace sova::actors {

struct dht_config {
  net::node_id self;
  std::size_t k = 20;      // bucket size and lookup width (ksize)
  std::size_t alpha = 3;   // lookup parallelism
  caf::timespan rpc_timeout = std::chrono::seconds(5);
  std::chrono::seconds record_ttl{3600};
  net::store_limits limits;
  std::chrono::seconds bucket_refresh_age{3600};
  caf::timespan tick_interval = std::chrono::seconds(10);
  // --neighbours that have not answered are retried after a tick, then on a doubling
  // backoff up to this; those that have answered are contacted again this often.
  caf::timespan neighbour_retry_max = std::chrono::minutes(5);
  caf::timespan neighbour_recontact = std::chrono::minutes(10);
  // Bounds against hostile peers (README, "Limits against hostile peers").
  std::size_t contacts_per_host = 4;  // routing-table entries one IP address may hold
  // Until an address has answered a call of ours, a reply to it is at most this many
  // times the size of its request; a larger one waits until it answers our ping.
  std::size_t reflection_factor = 4;
  std::chrono::seconds answered_memory{1800};  // how long an answer vouches for its address
  std::size_t max_answered_hosts = 16384;
  std::size_t max_deferred_replies = 1024;  // in all; 8 per address
  std::size_t max_pending_calls = 4096;     // more calls fail at once with `overloaded`
  // Hand-over (our keys to a newly seen closer contact): at most this many newcomers
  // per second, each once per record TTL, each given at most handover_max_keys keys
  // (below a receiver's store burst; owners re-announce the rest anyway).
  net::token_rate handover_rate{5, 20};
  std::size_t handover_max_keys = 100;
  std::uint64_t seed = 0;  // for the random ids of bucket refreshes (message ids use getrandom)
};

}  // namespace sova::actors
