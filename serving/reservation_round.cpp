#include "serving/reservation_round.hpp"

#include <algorithm>

namespace sova::serving {

std::size_t reservation_round::pending() const {
  return static_cast<std::size_t>(std::count(slots_.begin(), slots_.end(), slot::pending));
}

reservation_round::step reservation_round::granted(std::size_t i) {
  step out;
  if (i >= slots_.size()) return out;
  auto& s = slots_[i];
  if (s == slot::granted || s == slot::refused) return out;  // answered already
  if (winner_) {
    s = slot::cancelled;
    out.cancel.push_back(i);
    return out;
  }
  if (s == slot::cancelled) return out;  // only before a winner: cannot happen
  s = slot::granted;
  winner_ = i;
  out.claim = i;
  for (std::size_t j = 0; j < slots_.size(); ++j)
    if (slots_[j] == slot::pending) {
      slots_[j] = slot::cancelled;
      out.cancel.push_back(j);
    }
  return out;
}

reservation_round::step reservation_round::refused(std::size_t i) {
  step out;
  if (i >= slots_.size() || slots_[i] != slot::pending) return out;
  slots_[i] = slot::refused;
  out.exhausted = !winner_ && pending() == 0;
  return out;
}

}  // namespace sova::serving
