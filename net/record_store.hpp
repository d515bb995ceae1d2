#pragma once
// The multi-valued record store: a store adds values to the set held under a key
// (never replaces it); each value expires when not refreshed within the TTL; what a
// peer can make us hold is bounded. Pure data: the caller passes the time.

#include <chrono>
#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "net/node_id.hpp"
#include "net/rate_limiter.hpp"

namespace sova::net {

using steady_time = std::chrono::steady_clock::time_point;

struct store_limits {
  std::size_t max_keys = 10000;
  std::size_t max_values_per_key = 64;
  /// Values of one key that one source address may hold. An honest node announces each
  /// of its backends once per key; 4 leaves room for a few backends (or a few nodes
  /// behind one NAT) on one address, while filling the 64 slots takes 16 addresses.
  std::size_t max_values_per_source_per_key = 4;
  /// A value not refreshed for this fraction of the TTL is idle and may be displaced
  /// (see record_store::store). A quarter of the default hour is 15 minutes, 30 missed
  /// announcements at the default 30 s interval.
  double idle_after_ttl_fraction = 0.25;
  std::size_t max_value_bytes = 512;
  /// Stores accepted per second from one source address, with a burst allowance.
  double stores_per_second = 50.0;
  double store_burst = 200.0;
  /// How many source addresses the rate limiter remembers at most.
  std::size_t max_tracked_sources = 4096;
};

enum class store_status {
  stored,           // every value is held (added or refreshed)
  empty,            // no values given
  value_too_large,  // a value is over max_value_bytes
  too_many_values,  // the key would hold more than max_values_per_key
  too_many_from_source,  // the source would hold more than max_values_per_source_per_key
  too_many_keys,    // a new key while max_keys are held
  rate_limited,     // the source sent too many stores lately
};
const char* to_string(store_status s);

class record_store {
public:
  record_store(store_limits limits, std::chrono::seconds ttl);

  /// Adds `values` under `key`; all or nothing. `source` is the sender's address
  /// (rate limit, share); empty for our own stores, which neither limit applies to.
  /// Values that are already held get their expiry renewed.
  ///
  /// Who holds what: each value remembers the source that added it, and a source
  /// holds at most max_values_per_source_per_key values of a key. A refresh from
  /// another source moves the value to that source when it has room in its share
  /// (to our own stores always), else the value stays with its holder; a refresh is
  /// never refused for the share.
  ///
  /// Displacing: a value is idle once not refreshed for idle_after_ttl_fraction of the
  /// TTL. A new value that would put its source over its share displaces that source's
  /// own idle values; one that would put the key over max_values_per_key displaces
  /// anyone's idle values; least recently refreshed first, never a value of this
  /// store. Values refreshed more often than that are never displaced, so a flood
  /// cannot push out nodes that keep announcing; when not enough is idle the store is
  /// refused (too_many_from_source, too_many_values).
  store_status store(const node_id& key, const std::vector<std::string>& values, steady_time now,
                     const std::string& source = {});

  /// The live values under `key` in the order they were first stored; nothing
  /// when the key holds no live value.
  std::optional<std::vector<std::string>> get(const node_id& key, steady_time now) const;

  /// Drops expired values and keys left empty; returns how many values went.
  std::size_t expire(steady_time now);

  /// Keys holding at least one live value.
  std::vector<node_id> keys(steady_time now) const;
  std::size_t key_count() const { return records_.size(); }
  std::size_t value_count() const;

  struct held_value {
    std::string value;
    steady_time expires;
    std::string source;  // the address it counts against; empty: our own
  };
  const std::map<node_id, std::vector<held_value>>& records() const { return records_; }
  const store_limits& limits() const { return limits_; }
  std::chrono::seconds ttl() const { return ttl_; }

private:
  /// Values whose expiry is at or before this are idle.
  steady_time idle_before(steady_time now) const;

  store_limits limits_;
  std::chrono::seconds ttl_;
  std::map<node_id, std::vector<held_value>> records_;
  rate_limiter sources_;  // stores per source address
};

}  // namespace sova::net
