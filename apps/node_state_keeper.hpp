#pragma once
// --state-dir: a node keeps its id and a snapshot of its routing table on disk, so that
// after a restart it has the same id and rejoins through the contacts it knew, without
// --neighbours. Called from the node's main thread (file I/O never runs in an actor).

#include <optional>
#include <string>

#include <caf/fwd.hpp>

#include "actors/interfaces.hpp"
#include "net/node_state.hpp"

namespace sova::apps {

/// The state saved in `dir`; nothing when there is none. A file that cannot be read
/// throws; one that does not decode is moved aside (logged) and counts as none, so that
/// a damaged file costs the node its place but not its start.
std::optional<net::node_state> load_node_state(const std::string& dir);

/// Writes the node's state into its --state-dir.
class node_state_keeper {
public:
  /// `saved`: the contacts of the state loaded at start (none for a new node).
  node_state_keeper(std::string dir, net::node_id id, std::vector<net::contact> saved);
  /// Asks `table` for its contacts and writes them with the id atomically. An empty table
  /// keeps the contacts written before: a node that has just restarted has not rejoined
  /// yet, and those are its way back. Logs and returns false on failure (a full disk must
  /// not stop a serving node).
  bool save(caf::actor_system& sys, const actors::routing_table_actor& table);
  const std::string& dir() const { return dir_; }

private:
  std::string dir_;
  net::node_id id_;
  std::vector<net::contact> last_;
};

}  // namespace sova::apps
