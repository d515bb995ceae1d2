#pragma once
// Settings of one DHT node, shared by its actors.

#include <chrono>
#include <cstddef>
#include <cstdint>

#include <caf/timespan.hpp>

#include "net/node_id.hpp"
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
  std::uint64_t seed = 0;  // for the random ids of bucket refreshes (message ids use getrandom)
};

}  // namespace sova::actors
