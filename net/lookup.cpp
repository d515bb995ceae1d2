#include "net/lookup.hpp"

#include <algorithm>

namespace sova::net {

lookup_state::lookup_state(node_id target, mode m, node_id self, std::size_t k, std::size_t alpha)
    : target_(target), mode_(m), self_(self), k_(k), alpha_(alpha) {}

lookup_state::candidate* lookup_state::find(const node_id& id) {
  auto it = std::find_if(shortlist_.begin(), shortlist_.end(),
                         [&](const candidate& x) { return x.c.id == id; });
  return it == shortlist_.end() ? nullptr : &*it;
}

void lookup_state::add_candidates(const std::vector<contact>& cs, std::size_t hop) {
  for (const auto& c : cs) {
    if (c.id == self_ || find(c.id)) continue;  // failed ones stay listed: never re-added
    candidate x{c, c.id ^ target_, status::fresh, hop, false};
    auto pos =
        std::upper_bound(shortlist_.begin(), shortlist_.end(), x.distance,
                         [](const node_id& d, const candidate& y) { return d < y.distance; });
    shortlist_.insert(pos, std::move(x));
  }
  trim();
}

std::size_t lookup_state::eligible_end() const {
  // Only the k closest contacts not known to be dead may be queried: farther
  // ones cannot make it into the result unless some of those fail.
  std::size_t live = 0;
  for (std::size_t i = 0; i < shortlist_.size(); ++i)
    if (shortlist_[i].st != status::failed && ++live == k_) return i + 1;
  return shortlist_.size();
}

void lookup_state::trim() {
  // Fresh candidates past the k closest live ones only matter as stand-ins for
  // failures; 3k entries in all are plenty for that.
  const std::size_t cap = 3 * k_;
  auto keep = eligible_end();
  for (auto i = shortlist_.size(); i > keep && shortlist_.size() > cap; --i)
    if (shortlist_[i - 1].st == status::fresh)
      shortlist_.erase(shortlist_.begin() + static_cast<std::ptrdiff_t>(i - 1));
}

std::vector<contact> lookup_state::next_queries() {
  std::vector<contact> out;
  auto end = eligible_end();
  for (std::size_t i = 0; i < end && in_flight_ < alpha_; ++i) {
    auto& x = shortlist_[i];
    if (x.st != status::fresh) continue;
    x.st = status::in_flight;
    ++in_flight_;
    ++queries_;
    rounds_ = std::max(rounds_, x.hop + 1);
    out.push_back(x.c);
  }
  return out;
}

lookup_state::candidate* lookup_state::finish(const node_id& from, status st) {
  auto* x = find(from);
  if (!x || x->st != status::in_flight) return nullptr;  // unknown, or a late/duplicate reply
  x->st = st;
  --in_flight_;
  return x;
}

void lookup_state::on_nodes(const node_id& from, const std::vector<contact>& cs) {
  auto* x = finish(from, status::answered);
  if (!x) return;
  auto hop = x->hop + 1;  // `x` dangles once candidates are inserted
  add_candidates(cs, hop);
}

void lookup_state::on_value(const node_id& from, const std::vector<std::string>& values) {
  auto* x = finish(from, status::answered);
  if (!x) return;
  x->had_value = true;
  value_holders_.push_back(x->c);
  for (const auto& v : values)
    if (std::find(values_.begin(), values_.end(), v) == values_.end()) values_.push_back(v);
}

void lookup_state::on_failure(const node_id& from) {
  if (finish(from, status::failed)) ++failures_;
}

bool lookup_state::done() const {
  if (in_flight_ > 0) return false;
  auto end = eligible_end();
  for (std::size_t i = 0; i < end; ++i)
    if (shortlist_[i].st == status::fresh) return false;
  return true;
}

std::vector<contact> lookup_state::closest_answered() const {
  std::vector<contact> out;
  for (const auto& x : shortlist_) {
    if (out.size() == k_) break;
    if (x.st == status::answered) out.push_back(x.c);
  }
  return out;
}

std::optional<contact> lookup_state::cache_target() const {
  if (!found_value()) return std::nullopt;
  for (const auto& x : shortlist_)
    if (x.st == status::answered && !x.had_value) return x.c;
  return std::nullopt;
}

}  // namespace sova::net
