#pragma once
// The iterative Kademlia lookup as a state machine with no I/O: the caller asks
// which contacts to query next, reports each answer or failure, and reads the
// result once done(). At most alpha queries are in flight; the lookup ends when
// nothing is in flight and the k closest live contacts have all been queried.
// find_value lookups merge the value sets of every peer that has one.

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "net/contact.hpp"
#include "net/node_id.hpp"

namespace sova::net {

class lookup_state {
public:
  enum class mode { find_node, find_value };

  lookup_state(node_id target, mode m, node_id self, std::size_t k, std::size_t alpha);

  /// Offers contacts (the seed from our table, or those a peer returned); our own
  /// id, duplicates and already failed contacts are ignored.
  void add_candidates(const std::vector<contact>& cs, std::size_t hop = 0);

  /// The next contacts to query now (marked in flight); empty when alpha queries
  /// are already in flight or nobody useful is left.
  std::vector<contact> next_queries();

  /// `from` answered with contacts (find_node, or find_value without a value).
  void on_nodes(const node_id& from, const std::vector<contact>& cs);
  /// `from` answered a find_value with a value set.
  void on_value(const node_id& from, const std::vector<std::string>& values);
  /// `from` did not answer (timeout or error).
  void on_failure(const node_id& from);

  bool done() const;

  /// Up to k contacts that answered, closest to the target first.
  std::vector<contact> closest_answered() const;
  /// Merged value set (first-seen order, no duplicates).
  const std::vector<std::string>& values() const { return values_; }
  bool found_value() const { return !value_holders_.empty(); }
  /// The closest contact that answered a find_value without the value: where the
  /// merged set gets cached. Nothing when no value was found or nobody lacked it.
  std::optional<contact> cache_target() const;
  /// The contacts that answered with a value set.
  std::vector<contact> holders() const { return value_holders_; }

  const node_id& target() const { return target_; }
  mode lookup_mode() const { return mode_; }
  std::size_t queries_sent() const { return queries_; }
  std::size_t failures() const { return failures_; }
  /// The deepest hop queried: 1 for contacts from our own table, 2 for those they
  /// returned, and so on (the "rounds" of a lookup).
  std::size_t rounds() const { return rounds_; }
  std::size_t in_flight() const { return in_flight_; }

private:
  enum class status { fresh, in_flight, answered, failed };
  struct candidate {
    contact c;
    node_id distance;
    status st = status::fresh;
    std::size_t hop = 0;
    bool had_value = false;
  };
  candidate* find(const node_id& id);
  /// Moves an in-flight candidate to `st`; nullptr when `from` is not in flight.
  candidate* finish(const node_id& from, status st);
  /// One past the k-th closest candidate that has not failed: the eligible range.
  std::size_t eligible_end() const;
  /// Drops far fresh candidates so the shortlist stays near 3k entries.
  void trim();

  node_id target_;
  mode mode_;
  node_id self_;
  std::size_t k_;
  std::size_t alpha_;
  std::vector<candidate> shortlist_;  // sorted by distance to target
  std::vector<std::string> values_;
  std::vector<contact> value_holders_;
  std::size_t queries_ = 0;
  std::size_t failures_ = 0;
  std::size_t rounds_ = 0;
  std::size_t in_flight_ = 0;
};

}  // namespace sova::net
