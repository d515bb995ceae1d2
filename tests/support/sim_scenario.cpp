#include "sim_scenario.hpp"

#include <algorithm>
#include <cmath>

#include "actors/interfaces.hpp"

namespace sova::sim {

using namespace std::chrono_literals;

std::uint32_t percentile(std::vector<std::uint32_t> xs, double p) {
  if (xs.empty()) return 0;
  std::sort(xs.begin(), xs.end());
  auto rank = static_cast<std::size_t>(std::ceil(p / 100.0 * double(xs.size())));
  return xs[std::min(xs.size() - 1, rank == 0 ? 0 : rank - 1)];
}

namespace {

std::size_t random_live(sim_network& net) {
  for (;;) {
    auto i = std::uniform_int_distribution<std::size_t>(0, net.size() - 1)(net.rng());
    if (net.alive(i)) return i;
  }
}

/// Drives the simulation until every answer is in (or an hour of simulated time).
template <class T>
void await_all(caf::scheduler::test_coordinator& sched, const std::vector<answer<T>>& as) {
  drive(sched, [&] { return std::all_of(as.begin(), as.end(), ready<T>); }, 1h);
}

}  // namespace

std::size_t grow(sim_network& net, caf::scheduler::test_coordinator& sched, std::size_t n,
                 const actors::dht_config& base) {
  std::size_t joined = 0;
  for (std::size_t j = 0; j < n; ++j) {
    bool first = net.size() == 0;
    auto via = first ? 0 : random_live(net);
    auto i = net.add_node(net.make_config(base));
    if (first) continue;
    std::vector<net::endpoint> neighbours{net.endpoint_of(via)};
    auto a = ask<std::uint32_t>(net.system(), net.node(i).dht, actors::bootstrap_atom::value,
                                neighbours);
    await_all(sched, std::vector<answer<std::uint32_t>>{a});
    if (ready(a) && **a && ***a > 0) ++joined;
  }
  return joined;
}

std::vector<record> put_records(sim_network& net, caf::scheduler::test_coordinator& sched,
                                std::size_t count) {
  std::vector<record> out;
  std::vector<answer<actors::put_result>> puts;
  for (std::size_t r = 0; r < count; ++r) {
    record rec;
    rec.key_text = "sim/record/" + std::to_string(r);
    rec.key = net::node_id::digest(rec.key_text);
    rec.value = "asr/cpu/192.0.2." + std::to_string(r % 250 + 1) + ":8888";
    puts.push_back(ask<actors::put_result>(net.system(), net.node(random_live(net)).dht,
                                           actors::dht_put_atom::value, rec.key,
                                           actors::strings{rec.value}));
    out.push_back(std::move(rec));
  }
  await_all(sched, puts);
  return out;
}

lookup_stats find_records(sim_network& net, caf::scheduler::test_coordinator& sched,
                          const std::vector<record>& records,
                          const std::vector<std::pair<std::size_t, std::size_t>>& pairs,
                          std::size_t batch) {
  lookup_stats st;
  for (std::size_t begin = 0; begin < pairs.size(); begin += batch) {
    auto end = std::min(pairs.size(), begin + batch);
    std::vector<answer<actors::lookup_result>> gets;
    for (auto p = begin; p < end; ++p)
      gets.push_back(ask<actors::lookup_result>(net.system(), net.node(pairs[p].first).dht,
                                                actors::dht_get_atom::value,
                                                records[pairs[p].second].key));
    await_all(sched, gets);
    for (auto p = begin; p < end; ++p) {
      const auto& a = gets[p - begin];
      ++st.lookups;
      if (!ready(a) || !**a) {
        ++st.errors;
        continue;
      }
      const auto& r = ***a;
      const auto& want = records[pairs[p].second].value;
      if (std::find(r.values.begin(), r.values.end(), want) != r.values.end()) ++st.found;
      st.rounds.push_back(r.rounds);
      st.queries.push_back(r.queries);
    }
  }
  return st;
}

std::vector<std::pair<std::size_t, std::size_t>> all_pairs(const sim_network& net,
                                                           std::size_t records) {
  std::vector<std::pair<std::size_t, std::size_t>> out;
  for (std::size_t i = 0; i < net.size(); ++i)
    if (net.alive(i))
      for (std::size_t r = 0; r < records; ++r) out.emplace_back(i, r);
  return out;
}

std::vector<std::pair<std::size_t, std::size_t>> random_pairs(sim_network& net,
                                                              std::size_t records,
                                                              std::size_t count) {
  std::vector<std::pair<std::size_t, std::size_t>> out;
  std::uniform_int_distribution<std::size_t> pick(0, records - 1);
  for (std::size_t n = 0; n < count; ++n) out.emplace_back(random_live(net), pick(net.rng()));
  return out;
}

std::size_t kill_fraction(sim_network& net, double fraction) {
  std::vector<std::size_t> live;
  for (std::size_t i = 0; i < net.size(); ++i)
    if (net.alive(i)) live.push_back(i);
  std::shuffle(live.begin(), live.end(), net.rng());
  auto n = static_cast<std::size_t>(std::lround(fraction * double(live.size())));
  for (std::size_t j = 0; j < n; ++j) net.kill(live[j]);
  return n;
}

}  // namespace sova::sim
