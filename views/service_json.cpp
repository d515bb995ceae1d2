#include "views/service_json.hpp"

#include <map>
#include <vector>

namespace sova::views {

using serving::backend_reading;

namespace {

nlohmann::ordered_json reading_json(const backend_reading& h) {
  return {{"backend", h.backend.to_string()},
          {"kind", net::to_string(h.backend.kind)},
          {"address", h.backend.address()},
          {"breaker", to_string(h.breaker)},
          {"in_flight", h.in_flight},
          {"latency_ms", h.latency_ms},
          {"served", h.served},
          {"failed", h.failed},
          {"refused", h.refused},
          {"busy", h.busy},
          {"peer", to_string(h.peer)}};
}

void add_queue(nlohmann::ordered_json& j, const actors::owned_backend_state& q) {
  j["capacity"] = q.capacity;
  j["running"] = q.running;
  j["queued"] = q.queued;
  j["wait_s"] = q.wait_s;
  j["service_s"] = q.service_s;
  j["up"] = q.up;
  j["served"] = q.served;
  j["failed"] = q.failed;
}

}  // namespace

nlohmann::ordered_json backends_json(const actors::service_records& known,
                                     const serving::backend_readings& readings) {
  std::map<std::string, const backend_reading*> by_name;
  for (const auto& h : readings) by_name[h.backend.to_string()] = &h;
  auto list = nlohmann::ordered_json::array();
  for (const auto& rec : known) {
    auto it = by_name.find(rec.to_string());
    if (it != by_name.end()) {
      list.push_back(reading_json(*it->second));
      continue;
    }
    backend_reading untried;
    untried.backend = rec;
    auto j = reading_json(untried);
    j["breaker"] = "untried";
    list.push_back(std::move(j));
  }
  return list;
}

nlohmann::ordered_json own_services_json(const actors::own_services& own,
                                         const actors::owned_backend_states& queue) {
  // Both list the --services; joined by record so that each backend is shown once.
  std::vector<bool> joined(queue.size(), false);
  auto list = nlohmann::ordered_json::array();
  for (const auto& s : own) {
    nlohmann::ordered_json j = {{"backend", s.backend.to_string()},
                                {"alive", s.alive},
                                {"last_error", s.last_error},
                                {"announcements", s.announcements}};
    for (std::size_t i = 0; i < queue.size(); ++i)
      if (!joined[i] && queue[i].backend == s.backend) {
        add_queue(j, queue[i]);
        joined[i] = true;
        break;
      }
    list.push_back(std::move(j));
  }
  for (std::size_t i = 0; i < queue.size(); ++i) {
    if (joined[i]) continue;
    nlohmann::ordered_json j = {{"backend", queue[i].backend.to_string()}};
    add_queue(j, queue[i]);
    list.push_back(std::move(j));
  }
  return list;
}

}  // namespace sova::views
