#pragma once
// Kademlia k-buckets as the original builds them (shared/PROTOCOL.md, "The original's
// routing table"): one bucket for the whole id space at first, split at the midpoint
// of a full bucket's range when the range holds our own id or its depth % 5 != 0,
// else the newcomer goes to the replacement cache and the least recently seen
// contact is to be pinged. Pure data: the caller does the ping.

#include <chrono>
#include <cstddef>
#include <optional>
#include <random>
#include <string>
#include <unordered_map>
#include <vector>

#include "net/contact.hpp"
#include "net/node_id.hpp"

namespace sova::net {

using steady_time = std::chrono::steady_clock::time_point;

/// One bucket: the ids whose first `prefix_len` bits equal those of `prefix`
/// (the same ranges the original's midpoint splits produce).
struct k_bucket {
  node_id prefix;
  std::size_t prefix_len = 0;
  std::vector<contact> contacts;      // front: least recently seen; back: most recent
  std::vector<contact> replacements;  // front: oldest; at most 5k
  steady_time last_updated{};

  bool covers(const node_id& id) const { return id.common_prefix_bits(prefix) >= prefix_len; }
  /// Bits shared by all contacts' ids (the paper's "depth"); 160 when empty.
  std::size_t depth() const;
};

class routing_table {
public:
  struct add_result {
    bool is_new = false;                    // the id was not in the table before
    std::optional<contact> ping_candidate;  // full bucket: ping this one, remove it if it fails
    bool refused = false;                   // its address holds max_per_host entries already
  };

  /// `max_per_host`: entries (contacts and replacements) one IP address may hold, so
  /// that one machine cannot fill buckets with made-up ids; 0 for no limit.
  routing_table(node_id self, std::size_t k, steady_time now, std::size_t replacement_factor = 5,
                std::size_t max_per_host = 0);

  /// A contact was seen (it sent us something or answered). Known contacts move to
  /// the tail; a changed endpoint for a known id is updated. Never adds our own id,
  /// nor an id whose address already holds max_per_host entries (`refused`).
  add_result add(const contact& c, steady_time now);

  /// A contact failed to answer: drop it (and from the replacements) and promote
  /// the most recent replacement of its bucket into its place.
  void remove(const node_id& id);

  bool contains(const node_id& id) const;
  std::optional<contact> find(const node_id& id) const;
  /// True when `id` is neither in the table nor our own id.
  bool is_new(const node_id& id) const;

  /// Up to n contacts closest to `key` by XOR, closest first, leaving out any whose
  /// id or endpoint equals `exclude`'s (the caller of a find_node).
  std::vector<contact> closest(const node_id& key, std::size_t n,
                               const contact* exclude = nullptr) const;

  /// For each bucket not updated since `now - max_age`: a random id in its range
  /// (the original refreshes such buckets with a lookup for that id).
  std::vector<node_id> stale_bucket_ids(steady_time now, std::chrono::seconds max_age,
                                        std::mt19937_64& rng) const;
  /// Marks the bucket covering `id` as updated (a lookup for it was run).
  void touch(const node_id& id, steady_time now);

  std::size_t size() const;  // contacts in buckets, not counting replacements
  std::vector<contact> all() const;
  const std::vector<k_bucket>& buckets() const { return buckets_; }
  const node_id& self() const { return self_; }
  std::size_t k() const { return k_; }

private:
  std::size_t bucket_index(const node_id& id) const;
  void split(std::size_t index);
  /// KBucket.add_node: true when it went into the bucket, false when it went
  /// to the replacement cache because the bucket is full.
  bool add_to_bucket(k_bucket& b, const contact& c);
  /// The entry of `id` in its bucket's contacts or replacements.
  const contact* entry(const node_id& id) const;
  void count(const contact& c);
  void uncount(const contact& c);


  node_id self_;
  std::size_t k_;
  std::size_t max_replacements_;
  std::size_t max_per_host_;
  std::vector<k_bucket> buckets_;  // ordered by prefix (ascending id ranges)
  std::unordered_map<std::string, std::size_t> per_host_;  // entries by IP address
};

/// Kademlia's hand-over on join: should the newly seen `newcomer` be sent `key`?
/// `neighbours` are our closest contacts to `key` (without the newcomer), closest
/// first. Yes when we know nobody, or when the newcomer is closer to the key than
/// the farthest neighbour and we are closer than the nearest one (so only the
/// node responsible for a key hands it over).
bool should_hand_over(const node_id& self, const node_id& newcomer, const node_id& key,
                      const std::vector<contact>& neighbours);

}  // namespace sova::net
