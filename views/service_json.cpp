#include "views/service_json.hpp"

#include <map>

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
          {"busy", h.busy}};
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

nlohmann::ordered_json own_services_json(const actors::own_services& own) {
  auto list = nlohmann::ordered_json::array();
  for (const auto& s : own)
    list.push_back({{"backend", s.backend.to_string()},
                    {"alive", s.alive},
                    {"last_error", s.last_error},
                    {"announcements", s.announcements}});
  return list;
}

}  // namespace sova::views
