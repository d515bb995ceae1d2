#include "net/neighbour_schedule.hpp"

#include <algorithm>

namespace sova::net {

neighbour_schedule::entry* neighbour_schedule::find(const endpoint& ep) {
  auto it = std::find_if(entries_.begin(), entries_.end(),
                         [&](const entry& e) { return e.ep == ep; });
  return it == entries_.end() ? nullptr : &*it;
}

bool neighbour_schedule::contact_now(const endpoint& ep) {
  auto* e = find(ep);
  if (!e) {
    entries_.push_back(entry{ep, false, true, t_.first_retry, {}});
    return true;
  }
  if (e->in_flight) return false;
  e->in_flight = true;
  return true;
}

std::vector<endpoint> neighbour_schedule::due(clock::time_point now, bool everyone) {
  std::vector<endpoint> out;
  for (auto& e : entries_)
    if (!e.in_flight && (everyone || e.next <= now)) {
      e.in_flight = true;
      out.push_back(e.ep);
    }
  return out;
}

void neighbour_schedule::answered(const endpoint& ep, clock::time_point now) {
  auto* e = find(ep);
  if (!e) return;
  e->ever_answered = true;
  e->in_flight = false;
  e->backoff = t_.first_retry;
  e->next = now + t_.recontact;
}

void neighbour_schedule::silent(const endpoint& ep, clock::time_point now) {
  auto* e = find(ep);
  if (!e) return;
  e->in_flight = false;
  e->next = now + e->backoff;
  e->backoff = std::min(e->backoff * 2, t_.max_retry);
}

bool neighbour_schedule::has_answered(const endpoint& ep) const {
  return std::any_of(entries_.begin(), entries_.end(),
                     [&](const entry& e) { return e.ep == ep && e.ever_answered; });
}

}  // namespace sova::net
