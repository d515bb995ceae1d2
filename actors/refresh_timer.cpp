#include "actors/refresh_timer.hpp"

#include <vector>

#include <caf/actor_system.hpp>
#include <caf/send.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

namespace sova::actors {

namespace {

struct timer_state {
  std::vector<caf::actor> subscribers;
  static inline const char* name = "refresh_timer";
};

using self_ptr = refresh_timer_actor::stateful_pointer<timer_state>;

refresh_timer_actor::behavior_type timer_behavior(self_ptr self, caf::timespan interval) {
  self->delayed_send(self, interval, tick_atom::value);
  return {
      [=](subscribe_atom, const caf::actor& who) { self->state.subscribers.push_back(who); },
      [=](tick_atom) {
        for (const auto& who : self->state.subscribers) caf::anon_send(who, tick_atom::value);
        self->delayed_send(self, interval, tick_atom::value);
      },
  };
}

}  // namespace

refresh_timer_actor spawn_refresh_timer(caf::actor_system& sys, caf::timespan interval) {
  return sys.spawn(timer_behavior, interval);
}

}  // namespace sova::actors
