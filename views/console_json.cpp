#include "views/console_json.hpp"

#include <algorithm>

#include "views/service_json.hpp"

namespace sova::views {

namespace {

using json = nlohmann::ordered_json;

json transport_json(const actors::transport_stats& t) {
  return {{"datagrams_in", t.datagrams_in},
          {"datagrams_out", t.datagrams_out},
          {"requests_in", t.requests_in},
          {"replies_in", t.replies_in},
          {"dropped_malformed", t.dropped_malformed},
          {"dropped_unsolicited", t.dropped_unsolicited},
          {"calls_sent", t.calls_sent},
          {"calls_timed_out", t.calls_timed_out},
          {"stores_accepted", t.stores_accepted},
          {"stores_refused", t.stores_refused},
          {"record_keys", t.records_keys},
          {"record_values", t.records_values},
          {"dropped_rate_limited", t.dropped_rate_limited},
          {"dropped_backlog", t.dropped_backlog},
          {"replies_deferred", t.replies_deferred},
          {"replies_withheld", t.replies_withheld},
          {"handovers", t.handovers},
          {"handovers_skipped", t.handovers_skipped}};
}

json directory_json(const actors::directory_stats& d) {
  return {{"requests", d.requests},
          {"answered_from_cache", d.answered_from_cache},
          {"lookups_started", d.lookups_started},
          {"lookups_failed", d.lookups_failed},
          {"values_ignored", d.values_ignored},
          {"keys_cached", d.keys_cached}};
}

json backends_summary(const serving::backend_readings& hs) {
  std::uint64_t served = 0, failed = 0, refused = 0, in_flight = 0, open = 0;
  for (const auto& h : hs) {
    served += h.served;
    failed += h.failed;
    refused += h.refused;
    in_flight += h.in_flight;
    if (h.breaker != serving::breaker_state::closed) ++open;
  }
  return {{"forwarders", hs.size()}, {"breakers_not_closed", open}, {"in_flight", in_flight},
          {"served", served},        {"failed", failed},            {"refused", refused}};
}

/// The first of `parts` that did not answer.
const missing_part* first_missing(const node_view& v, std::initializer_list<node_part> parts) {
  for (auto part : parts)
    if (const auto* m = missing(v, part)) return m;
  return nullptr;
}

}  // namespace

json services_json(const node_view& v, const std::vector<net::service>& wanted) {
  auto is_wanted = [&](net::service service) {
    return std::find(wanted.begin(), wanted.end(), service) != wanted.end();
  };
  json j = json::object();
  auto readings = v.readings.value_or(serving::backend_readings{});
  for (const auto& service : wanted)
    j[net::to_string(service)] = backends_json(known_backends(v, service), readings);
  actors::own_services mine;
  for (const auto& o : v.own.value_or(actors::own_services{}))
    if (is_wanted(o.backend.service)) mine.push_back(o);
  actors::owned_backend_states queue;
  for (const auto& q : v.owned_queue.value_or(actors::owned_backend_states{}))
    if (is_wanted(q.backend.service)) queue.push_back(q);
  j["own"] = own_services_json(mine, queue);
  return j;
}

json stats_json(const node_view& v, double uptime_s) {
  json http = json::object();
  if (v.http)
    http = {{"requests", v.http->requests},
            {"in_flight", v.http->in_flight},
            {"rejected", v.http->rejected},
            {"refused_draining", v.http->refused_draining}};
  auto directory = v.directory ? v.directory->stats : actors::directory_stats{};
  return json{{"uptime_s", uptime_s},
              {"dht", transport_json(v.transport.value_or(actors::transport_stats{}))},
              {"directory", directory_json(directory)},
              {"backends", backends_summary(v.readings.value_or(serving::backend_readings{}))},
              {"http", std::move(http)}};
}

const missing_part* services_part_missing(const node_view& v) {
  return first_missing(v, {node_part::directory, node_part::backend_pool, node_part::announcer,
                           node_part::owner});
}

const missing_part* stats_part_missing(const node_view& v) {
  return first_missing(v, {node_part::transport, node_part::directory, node_part::backend_pool});
}

}  // namespace sova::views
