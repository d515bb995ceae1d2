#pragma once
// When to contact each configured neighbour (--neighbours) again, with no I/O. One that
// has not answered yet is retried on a backoff (doubling up to a ceiling) until it does,
// whatever else the node knows: a node joined by others while its neighbours were down
// would otherwise stay in a network of its own. One that has answered is contacted
// again every `recontact` interval, so two halves started apart always merge.

#include <chrono>
#include <vector>

#include "net/contact.hpp"

namespace sova::net {

class neighbour_schedule {
public:
  using clock = std::chrono::steady_clock;

  struct timing {  // dht_config holds the node's values
    clock::duration first_retry{};
    clock::duration max_retry{};
    clock::duration recontact{};
  };

  explicit neighbour_schedule(timing t) : t_(t) {}

  /// A neighbour to keep in touch with, contacted now (a bootstrap): false when a contact
  /// with it is already under way.
  bool contact_now(const endpoint& ep);

  /// The neighbours to contact now (every one not already being contacted when
  /// `everyone`, e.g. while the node knows nobody); they are not due again until an
  /// outcome is reported.
  std::vector<endpoint> due(clock::time_point now, bool everyone = false);

  /// `ep` answered: contacted again after the recontact interval.
  void answered(const endpoint& ep, clock::time_point now);
  /// `ep` did not answer: tried again after its backoff, which then doubles.
  void silent(const endpoint& ep, clock::time_point now);

  /// Has `ep` ever answered?
  bool has_answered(const endpoint& ep) const;
  std::size_t size() const { return entries_.size(); }

private:
  struct entry {
    endpoint ep;
    bool ever_answered = false;
    bool in_flight = false;
    clock::duration backoff;
    clock::time_point next;
  };
  entry* find(const endpoint& ep);
  timing t_;
  std::vector<entry> entries_;
};

}  // namespace sova::net
