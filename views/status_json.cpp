#include "views/status_json.hpp"

#include <nlohmann/json.hpp>

#include "views/service_json.hpp"

namespace sova::views {

std::string status_document(const node_view& v) {
  using json = nlohmann::ordered_json;
  json doc = {{"node_id", v.node_id},
              {"version", v.version},
              {"udp", v.udp_endpoint},
              {"http", v.http_endpoint}};
  if (v.routing_table_size) doc["routing_table_size"] = *v.routing_table_size;
  if (v.known_nodes) {
    auto nodes = json::array();
    for (const auto& c : *v.known_nodes)
      nodes.push_back({{"id", c.id.to_hex()}, {"udp", c.ep.to_string()}});
    doc["nodes"] = std::move(nodes);
  }
  // Each own backend once, with the announcer's and the owner's facts; listed as long as
  // either of them answered.
  if (v.own || v.owned_queue)
    doc["own_services"] = own_services_json(v.own.value_or(actors::own_services{}),
                                            v.owned_queue.value_or(actors::owned_backend_states{}));
  else if (!v.has_announcer)
    doc["own_services"] = json::array();
  // Where other nodes send this node's requests, or why nowhere (an operator's first
  // question when no request comes).
  if (v.announce) {
    const auto& a = *v.announce;
    json announce = {{"mode", a.mode}};
    if (a.mode == "node") {
      announce["endpoint"] = a.endpoint.empty() ? json(nullptr) : json(a.endpoint);
      if (!a.source.empty()) announce["source"] = a.source;
    }
    if (!a.why_none.empty()) announce["why_none"] = a.why_none;
    announce["records"] = a.records;
    doc["announce"] = std::move(announce);
  } else if (!v.has_announcer) {
    doc["announce"] = {{"endpoint", nullptr},
                       {"why_none", "no --services: this node owns no backend"},
                       {"records", json::array()}};
  }
  // /status never used the transport: it is not reported missing here.
  for (const auto& m : v.unavailable)
    if (m.part != node_part::transport) doc["unavailable"].push_back(to_string(m.part));
  json services = json::object();
  auto readings = v.readings.value_or(serving::backend_readings{});
  for (auto service : {net::service::asr, net::service::tts})
    services[net::to_string(service)] = backends_json(known_backends(v, service), readings);
  doc["services"] = std::move(services);
  auto counters = v.http.value_or(frontend_counters{});
  doc["requests_in_flight"] = counters.in_flight;
  doc["requests_total"] = counters.requests;
  doc["draining"] = counters.draining;
  return doc.dump(2) + "\n";
}

}  // namespace sova::views
