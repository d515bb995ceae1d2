#pragma once
// The one fan-in behind /status, /metrics and the console's `services` and `stats`: asks
// the routing table, the transport, the directory, the backend pool, the announcer and the
// owner at once, each with read-only messages only (looking at a node changes nothing in
// it), and hands over a views::node_view when the last has answered or failed. A part that
// does not answer within the bound is listed as unavailable rather than holding the rest.

#include <functional>
#include <memory>
#include <optional>

#include <caf/timespan.hpp>

#include "actors/node_handles.hpp"
#include "views/node_view.hpp"

namespace sova::actors {

using node_view_done = std::function<void(views::node_view)>;

/// The answers so far; `done` runs once, when `pending` reaches 0.
class node_view_gathering {
public:
  node_view_gathering(const node_handles& src, std::optional<http_counters> frontend,
                      node_view_done done);
  /// One more question is out.
  void asked() { ++pending_; }
  /// A question was answered (its answer is already in view()) or failed.
  void answered();
  void failed(views::node_part part, const caf::error& e);
  views::node_view& view() { return view_; }

private:
  views::node_view view_;
  std::optional<http_counters> frontend_;
  node_view_done done_;
  int pending_ = 0;
};

/// One question of the fan-in: `use` takes the answer into the view.
template <class T, class Self, class Handle, class Use, class... Ts>
void ask_part(Self* self, const std::shared_ptr<node_view_gathering>& g, views::node_part part,
              const Handle& whom, caf::timespan limit, Use use, Ts... xs) {
  g->asked();
  self->request(whom, limit, xs...)
      .then(
          [g, use](const T& answer) {
            use(g->view(), answer);
            g->answered();
          },
          [g, part](const caf::error& e) { g->failed(part, e); });
}

/// Gathers a node view with `self`'s requests, so that `done` runs in `self`'s context
/// (an admin command delivers its promise there). `frontend`: the HTTP front end's
/// counters as it gave them (none: no HTTP side, or it did not answer).
template <class Self>
void gather_node_view(Self* self, const node_handles& src,
                      std::optional<http_counters> frontend, caf::timespan limit,
                      node_view_done done) {
  using views::node_part;
  using views::node_view;
  auto g = std::make_shared<node_view_gathering>(src, std::move(frontend), std::move(done));
  g->asked();  // held until every question is out, so that none can finish early
  ask_part<contacts>(self, g, node_part::routing_table, src.table, limit,
                     [](node_view& v, const contacts& cs) {
                       v.routing_table_size = cs.size();
                       v.known_nodes = cs;
                     },
                     table_atom::value);
  ask_part<transport_stats>(self, g, node_part::transport, src.transport, limit,
                            [](node_view& v, const transport_stats& t) { v.transport = t; },
                            stats_atom::value);
  ask_part<directory_view>(self, g, node_part::directory, src.directory, limit,
                           [](node_view& v, const directory_view& d) { v.directory = d; },
                           known_backends_atom::value);
  ask_part<serving::backend_readings>(self, g, node_part::backend_pool, src.pool, limit,
                            [](node_view& v, const serving::backend_readings& hs) { v.readings = hs; },
                            health_atom::value);
  if (src.announcer)
    ask_part<own_services>(self, g, node_part::announcer, src.announcer, limit,
                           [](node_view& v, const own_services& own) { v.own = own; },
                           services_atom::value);
  if (src.announcer)
    ask_part<announce_view>(self, g, node_part::announcer, src.announcer, limit,
                            [](node_view& v, const announce_view& a) { v.announce = a; },
                            announced_atom::value);
  if (src.owner)
    ask_part<owned_backend_states>(self, g, node_part::owner, src.owner, limit,
                                   [](node_view& v, const owned_backend_states& q) {
                                     v.owned_queue = q;
                                   },
                                   queue_atom::value);
  g->answered();
}

/// The same from an actor of its own, for callers that are not actors or that must not
/// wait (the HTTP front end).
void gather_node_view(caf::actor_system& sys, const node_handles& src,
                      std::optional<http_counters> frontend, caf::timespan limit,
                      node_view_done done);

}  // namespace sova::actors
