#include "net/record_store.hpp"

#include <algorithm>

namespace sova::net {

const char* to_string(store_status s) {
  switch (s) {
    case store_status::stored: return "stored";
    case store_status::empty: return "empty";
    case store_status::value_too_large: return "value_too_large";
    case store_status::too_many_values: return "too_many_values";
    case store_status::too_many_from_source: return "too_many_from_source";
    case store_status::too_many_keys: return "too_many_keys";
    case store_status::rate_limited: return "rate_limited";
  }
  return "unknown";
}

namespace {

using held_list = std::vector<record_store::held_value>;

held_list::iterator find_value(held_list& held, const std::string& v) {
  return std::find_if(held.begin(), held.end(), [&](const auto& h) { return h.value == v; });
}

bool holds(const held_list& held, const std::string& v) {
  return std::any_of(held.begin(), held.end(), [&](const auto& h) { return h.value == v; });
}

bool in_batch(const std::vector<std::string>& values, const std::string& v) {
  return std::find(values.begin(), values.end(), v) != values.end();
}

/// The distinct entries of `values` not held yet, at most `cap` of them: enough to
/// tell that a request is over a bound, so a huge request costs little.
std::vector<const std::string*> fresh_values(const held_list& held,
                                             const std::vector<std::string>& values,
                                             std::size_t cap) {
  std::vector<const std::string*> fresh;
  for (const auto& v : values) {
    if (fresh.size() >= cap) break;
    bool repeated = std::any_of(fresh.begin(), fresh.end(), [&](const auto* s) { return *s == v; });
    if (!repeated && !holds(held, v)) fresh.push_back(&v);
  }
  return fresh;
}

std::size_t held_by(const held_list& held, const std::string& source) {
  return static_cast<std::size_t>(
      std::count_if(held.begin(), held.end(), [&](const auto& h) { return h.source == source; }));
}

/// Adds to `victims` up to `n` more indices of idle values of `held` that `eligible`
/// accepts and that are neither victims yet nor in `values`, least recently refreshed
/// first; false when fewer than `n` exist.
template <class Pred>
bool pick_idle(const held_list& held, const std::vector<std::string>& values, steady_time idle_before,
               std::size_t n, Pred eligible, std::vector<std::size_t>& victims) {
  std::vector<std::size_t> idle;
  for (std::size_t i = 0; i < held.size(); ++i) {
    const auto& h = held[i];
    if (h.expires <= idle_before && eligible(h) && !in_batch(values, h.value) &&
        std::find(victims.begin(), victims.end(), i) == victims.end())
      idle.push_back(i);
  }
  if (idle.size() < n) return false;
  std::stable_sort(idle.begin(), idle.end(),
                   [&](auto a, auto b) { return held[a].expires < held[b].expires; });
  victims.insert(victims.end(), idle.begin(), idle.begin() + static_cast<std::ptrdiff_t>(n));
  return true;
}

/// Removes the values expired at `now`; returns how many went.
std::size_t drop_expired(held_list& held, steady_time now) {
  auto before = held.size();
  held.erase(
      std::remove_if(held.begin(), held.end(), [&](const auto& h) { return h.expires <= now; }),
      held.end());
  return before - held.size();
}

bool has_live(const held_list& held, steady_time now) {
  return std::any_of(held.begin(), held.end(), [&](const auto& h) { return h.expires > now; });
}

}  // namespace

record_store::record_store(store_limits limits, std::chrono::seconds ttl)
    : limits_(limits),
      ttl_(ttl),
      sources_({limits.stores_per_second, limits.store_burst}, limits.max_tracked_sources) {}

steady_time record_store::idle_before(steady_time now) const {
  std::chrono::duration<double> idle_for = ttl_ * limits_.idle_after_ttl_fraction;
  return now + ttl_ - std::chrono::duration_cast<steady_time::duration>(idle_for);
}

store_status record_store::store(const node_id& key, const std::vector<std::string>& values,
                                 steady_time now, const std::string& source) {
  if (!source.empty() && !sources_.take(source, now)) return store_status::rate_limited;
  // Expired values of this key go now, so a key held only by stale values
  // neither counts against the bounds nor lingers until expire().
  auto rec = records_.find(key);
  if (rec != records_.end()) {
    drop_expired(rec->second, now);
    if (rec->second.empty()) {
      records_.erase(rec);
      rec = records_.end();
    }
  }
  if (values.empty()) return store_status::empty;
  for (const auto& v : values)
    if (v.size() > limits_.max_value_bytes) return store_status::value_too_large;
  static const held_list none;
  const auto& current = rec != records_.end() ? rec->second : none;
  const auto max_values = limits_.max_values_per_key;
  auto fresh = fresh_values(current, values, max_values + 1);
  std::vector<std::size_t> victims;  // indices into current
  auto idle = idle_before(now);
  std::size_t mine = source.empty() ? 0 : held_by(current, source);
  auto share = limits_.max_values_per_source_per_key;
  if (!source.empty() && mine + fresh.size() > share) {
    auto own = [&](const held_value& h) { return h.source == source; };
    if (fresh.size() > share ||
        !pick_idle(current, values, idle, mine + fresh.size() - share, own, victims))
      return store_status::too_many_from_source;
  }
  auto after = current.size() - victims.size() + fresh.size();
  if (after > max_values) {
    auto anyone = [](const held_value&) { return true; };
    if (fresh.size() > max_values ||
        !pick_idle(current, values, idle, after - max_values, anyone, victims))
      return store_status::too_many_values;
  }
  if (rec == records_.end() && records_.size() >= limits_.max_keys)
    return store_status::too_many_keys;
  auto& held = records_[key];
  std::sort(victims.rbegin(), victims.rend());
  for (auto i : victims) {
    if (!source.empty() && held[i].source == source) --mine;
    held.erase(held.begin() + static_cast<std::ptrdiff_t>(i));
  }
  // Fresh values count first, so taking over a refreshed value never uses room a
  // fresh one needs.
  mine += fresh.size();
  for (const auto& v : values) {
    auto it = find_value(held, v);
    if (it == held.end()) {
      held.push_back({v, now + ttl_, source});
      continue;
    }
    it->expires = now + ttl_;  // refreshed: keeps its place in the order
    if (it->source != source && (source.empty() || mine < share)) {
      it->source = source;
      ++mine;
    }
  }
  return store_status::stored;
}

std::optional<std::vector<std::string>> record_store::get(const node_id& key,
                                                          steady_time now) const {
  auto rec = records_.find(key);
  if (rec == records_.end()) return std::nullopt;
  std::vector<std::string> live;
  for (const auto& h : rec->second)
    if (h.expires > now) live.push_back(h.value);
  if (live.empty()) return std::nullopt;
  return live;
}

std::size_t record_store::expire(steady_time now) {
  std::size_t removed = 0;
  for (auto rec = records_.begin(); rec != records_.end();) {
    removed += drop_expired(rec->second, now);
    rec = rec->second.empty() ? records_.erase(rec) : std::next(rec);
  }
  return removed;
}

std::vector<node_id> record_store::keys(steady_time now) const {
  std::vector<node_id> result;
  for (const auto& [key, held] : records_)
    if (has_live(held, now)) result.push_back(key);
  return result;
}

std::size_t record_store::value_count() const {
  std::size_t n = 0;
  for (const auto& rec : records_) n += rec.second.size();
  return n;
}

}  // namespace sova::net
