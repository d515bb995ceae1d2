#include "actors/node_view_fan_in.hpp"

#include <algorithm>

#include <caf/actor_system.hpp>
#include <caf/event_based_actor.hpp>

namespace sova::actors {

node_view_gathering::node_view_gathering(const node_handles& src,
                                         std::optional<http_counters> frontend,
                                         node_view_done done)
    : frontend_(std::move(frontend)), done_(std::move(done)) {
  view_.node_id = src.node_id;
  view_.version = src.version;
  view_.udp_endpoint = src.udp_endpoint;
  view_.http_endpoint = src.http_endpoint;
  view_.has_announcer = static_cast<bool>(src.announcer);
  view_.has_owner = static_cast<bool>(src.owner);
}

void node_view_gathering::answered() {
  if (--pending_ > 0) return;
  view_.http = frontend_;
  std::sort(view_.unavailable.begin(), view_.unavailable.end(),
            [](const auto& a, const auto& b) { return a.part < b.part; });
  done_(std::move(view_));
}

void node_view_gathering::failed(views::node_part part, const caf::error& e) {
  if (!views::missing(view_, part))  // a part asked twice (the announcer) is listed once
    view_.unavailable.push_back({part, describe(e)});
  answered();
}

void gather_node_view(caf::actor_system& sys, const node_handles& src,
                      std::optional<http_counters> frontend, caf::timespan limit,
                      node_view_done done) {
  // The work goes in as spawn arguments: CAF 0.17 binds a reference to a null tuple when
  // a function actor is spawned without any (UBSan reports it).
  sys.spawn(
      [limit](caf::event_based_actor* self, node_handles src,
              std::optional<http_counters> frontend, node_view_done done) {
        gather_node_view(self, src, std::move(frontend), limit, std::move(done));
      },
      src, std::move(frontend), std::move(done));
}

}  // namespace sova::actors
