#include "net/routing_table.hpp"

#include <algorithm>

namespace sova::net {

namespace {

/// Index of the entry with id `id` in `v`, or v.size().
std::size_t index_of(const std::vector<contact>& v, const node_id& id) {
  auto it = std::find_if(v.begin(), v.end(), [&](const contact& c) { return c.id == id; });
  return static_cast<std::size_t>(it - v.begin());
}

/// Erases the entry with id `id`; the erased entry, or nothing.
std::optional<contact> erase_id(std::vector<contact>& v, const node_id& id) {
  auto i = index_of(v, id);
  if (i == v.size()) return std::nullopt;
  auto c = std::move(v[i]);
  v.erase(v.begin() + static_cast<std::ptrdiff_t>(i));
  return c;
}

}  // namespace

std::size_t k_bucket::depth() const {
  if (contacts.empty()) return node_id::bits;
  std::size_t d = node_id::bits;
  for (const auto& c : contacts) d = std::min(d, c.id.common_prefix_bits(contacts.front().id));
  return d;
}

routing_table::routing_table(node_id self, std::size_t k, steady_time now,
                             std::size_t replacement_factor, std::size_t max_per_host)
    : self_(self), k_(k), max_replacements_(k * replacement_factor), max_per_host_(max_per_host) {
  k_bucket all;
  all.last_updated = now;
  buckets_.push_back(std::move(all));
}

std::size_t routing_table::bucket_index(const node_id& id) const {
  // Buckets tile the id space in ascending prefix order: the one holding `id`
  // is the last whose (zero-padded) prefix is not above it.
  auto it = std::upper_bound(buckets_.begin(), buckets_.end(), id,
                             [](const node_id& x, const k_bucket& b) { return x < b.prefix; });
  return static_cast<std::size_t>(it - buckets_.begin()) - 1;
}

void routing_table::count(const contact& c) { ++per_host_[c.ep.host]; }

void routing_table::uncount(const contact& c) {
  auto it = per_host_.find(c.ep.host);
  if (it != per_host_.end() && --it->second == 0) per_host_.erase(it);
}

const contact* routing_table::entry(const node_id& id) const {
  const auto& b = buckets_[bucket_index(id)];
  for (const auto* list : {&b.contacts, &b.replacements}) {
    auto i = index_of(*list, id);
    if (i < list->size()) return &(*list)[i];
  }
  return nullptr;
}

bool routing_table::add_to_bucket(k_bucket& b, const contact& c) {
  if (auto old = erase_id(b.contacts, c.id)) {
    uncount(*old);
    b.contacts.push_back(c);  // most recently seen, with its current endpoint
    count(c);
    return true;
  }
  if (b.contacts.size() < k_) {
    b.contacts.push_back(c);
    count(c);
    return true;
  }
  if (auto old = erase_id(b.replacements, c.id)) uncount(*old);
  b.replacements.push_back(c);
  count(c);
  if (b.replacements.size() > max_replacements_) {
    auto cut = b.replacements.end() - static_cast<std::ptrdiff_t>(max_replacements_);
    std::for_each(b.replacements.begin(), cut, [this](const contact& x) { uncount(x); });
    b.replacements.erase(b.replacements.begin(), cut);
  }
  return false;
}

void routing_table::split(std::size_t index) {
  k_bucket old = std::move(buckets_[index]);
  k_bucket low, high;
  low.prefix_len = high.prefix_len = old.prefix_len + 1;
  // Bits past prefix_len stay zero, so buckets sort by prefix (see bucket_index).
  low.prefix = high.prefix = old.prefix;
  high.prefix.set_bit(old.prefix_len, true);
  // add() touched the bucket just before splitting it: both halves start fresh,
  // like the original's new KBuckets.
  low.last_updated = high.last_updated = old.last_updated;
  for (const auto* list : {&old.contacts, &old.replacements})
    for (const auto& c : *list) {
      uncount(c);  // counted again where it lands
      add_to_bucket(c.id.bit(old.prefix_len) ? high : low, c);
    }
  buckets_[index] = std::move(low);
  buckets_.insert(buckets_.begin() + static_cast<std::ptrdiff_t>(index) + 1, std::move(high));
}

routing_table::add_result routing_table::add(const contact& c, steady_time now) {
  add_result result;
  if (c.id == self_) return result;
  result.is_new = !contains(c.id);
  if (max_per_host_ > 0) {
    const contact* known = entry(c.id);
    auto held = per_host_.find(c.ep.host);
    if ((!known || known->ep.host != c.ep.host) && held != per_host_.end() &&
        held->second >= max_per_host_) {
      result.is_new = false;
      result.refused = true;
      return result;
    }
  }
  auto index = bucket_index(c.id);
  auto& b = buckets_[index];
  b.last_updated = now;
  if (add_to_bucket(b, c)) return result;
  // Section 4.2 of the paper: split when the range holds our own id or the
  // depth is not a multiple of 5; a bucket of a single id cannot split.
  bool splittable = b.prefix_len < node_id::bits;
  if (splittable && (b.covers(self_) || b.depth() % 5 != 0)) {
    split(index);
    // The halves may still be full: split again or cache. The split already
    // placed `c` (from the replacements), so "new" is decided here, not there.
    auto again = add(c, now);
    again.is_new = result.is_new;
    return again;
  }
  if (!b.contacts.empty()) result.ping_candidate = b.contacts.front();
  return result;
}

void routing_table::remove(const node_id& id) {
  auto& b = buckets_[bucket_index(id)];
  if (auto old = erase_id(b.replacements, id)) uncount(*old);
  auto old = erase_id(b.contacts, id);
  if (old) uncount(*old);
  if (old && !b.replacements.empty()) {
    b.contacts.push_back(b.replacements.back());
    b.replacements.pop_back();
  }
}

bool routing_table::contains(const node_id& id) const {
  return find(id).has_value();
}

std::optional<contact> routing_table::find(const node_id& id) const {
  const auto& cs = buckets_[bucket_index(id)].contacts;
  auto i = index_of(cs, id);
  if (i == cs.size()) return std::nullopt;
  return cs[i];
}

bool routing_table::is_new(const node_id& id) const {
  return id != self_ && !contains(id);
}

std::vector<contact> routing_table::closest(const node_id& key, std::size_t n,
                                            const contact* exclude) const {
  std::vector<contact> result;
  for (const auto& b : buckets_)
    for (const auto& c : b.contacts)
      if (!exclude || (c.id != exclude->id && c.ep != exclude->ep)) result.push_back(c);
  auto by_distance = [&](const contact& a, const contact& b) { return closer_to(key, a.id, b.id); };
  if (result.size() > n) {
    std::nth_element(result.begin(), result.begin() + static_cast<std::ptrdiff_t>(n), result.end(),
                     by_distance);
    result.resize(n);
  }
  std::sort(result.begin(), result.end(), by_distance);
  return result;
}

std::vector<node_id> routing_table::stale_bucket_ids(steady_time now, std::chrono::seconds max_age,
                                                     std::mt19937_64& rng) const {
  std::vector<node_id> ids;
  for (const auto& b : buckets_)
    if (b.last_updated < now - max_age)
      ids.push_back(node_id::random_in(b.prefix, b.prefix_len, rng));
  return ids;
}

void routing_table::touch(const node_id& id, steady_time now) {
  buckets_[bucket_index(id)].last_updated = now;
}

std::size_t routing_table::size() const {
  std::size_t n = 0;
  for (const auto& b : buckets_) n += b.contacts.size();
  return n;
}

std::vector<contact> routing_table::all() const {
  std::vector<contact> result;
  for (const auto& b : buckets_) result.insert(result.end(), b.contacts.begin(), b.contacts.end());
  return result;
}

bool should_hand_over(const node_id& self, const node_id& newcomer, const node_id& key,
                      const std::vector<contact>& neighbours) {
  if (neighbours.empty()) return true;
  bool newcomer_close = closer_to(key, newcomer, neighbours.back().id);
  bool we_closest = closer_to(key, self, neighbours.front().id);
  return newcomer_close && we_closest;
}

}  // namespace sova::net
