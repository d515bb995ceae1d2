#pragma once
// Whole-network scenarios over sim_network: grow a network by joins, store records,
// look them up from many nodes, kill a fraction of the nodes. Shared by the
// simulation test and the DHT benchmark so both measure the same thing.

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "sim_network.hpp"

namespace sova::sim {

struct record {
  std::string key_text;
  net::node_id key;
  std::string value;
};

/// Figures of a batch of get lookups.
struct lookup_stats {
  std::size_t lookups = 0;
  std::size_t found = 0;     // the expected value was among those returned
  std::size_t errors = 0;    // the lookup itself failed
  std::vector<std::uint32_t> rounds;
  std::vector<std::uint32_t> queries;
  double success_rate() const { return lookups ? double(found) / double(lookups) : 0.0; }
};

/// The p-th percentile (0..100) of xs, nearest rank; 0 for an empty list.
std::uint32_t percentile(std::vector<std::uint32_t> xs, double p);

/// Adds n nodes; each joins through one random node already in the network.
/// Returns how many joins ended with at least one contact known.
std::size_t grow(sim_network& net, caf::scheduler::test_coordinator& sched, std::size_t n,
                 const actors::dht_config& base);

/// Stores `count` records, each from a random live node; returns them. A record
/// whose put reached no peer is still returned (the gets will then miss it).
std::vector<record> put_records(sim_network& net, caf::scheduler::test_coordinator& sched,
                                std::size_t count);

/// Runs a get for every (node index, record index) pair, `batch` at a time in
/// parallel, letting simulated time pass for timeouts.
lookup_stats find_records(sim_network& net, caf::scheduler::test_coordinator& sched,
                          const std::vector<record>& records,
                          const std::vector<std::pair<std::size_t, std::size_t>>& pairs,
                          std::size_t batch);

/// Every live node paired with every record.
std::vector<std::pair<std::size_t, std::size_t>> all_pairs(const sim_network& net,
                                                           std::size_t records);
/// `count` random (live node, record) pairs.
std::vector<std::pair<std::size_t, std::size_t>> random_pairs(sim_network& net,
                                                              std::size_t records,
                                                              std::size_t count);

/// Kills round(fraction * live nodes) random live nodes without notice.
std::size_t kill_fraction(sim_network& net, double fraction);

}  // namespace sova::sim
