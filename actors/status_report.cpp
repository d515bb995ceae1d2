#include "actors/status_report.hpp"

#include <map>

#include <caf/actor_system.hpp>
#include <caf/event_based_actor.hpp>
#include <nlohmann/json.hpp>

#include "actors/service_directory.hpp"
#include "actors/service_view.hpp"

namespace sova::actors {

namespace {

using json = nlohmann::ordered_json;
constexpr auto ask_limit = std::chrono::seconds(2);

/// What the parts said; the reply goes out when the last one has answered (or failed).
struct gathering {
  status_sources src;
  std::shared_ptr<const frontend_state> counters;
  http::responder reply;
  json doc;
  std::map<std::string, service_records> known;  // by service
  backend_healths healths;
  int pending = 0;
};

void complete(const std::shared_ptr<gathering>& g) {
  if (--g->pending > 0) return;
  json services = json::object();
  for (const auto& service : {"asr", "tts"})
    services[service] = backends_json(g->known[service], g->healths);
  g->doc["services"] = std::move(services);
  g->doc["requests_in_flight"] = g->counters->in_flight.load();
  g->doc["requests_total"] = g->counters->requests.load();
  g->doc["draining"] = g->counters->draining.load();
  http::response r;
  r.body = g->doc.dump(2) + "\n";
  g->reply(std::move(r));
}

void gather(caf::event_based_actor* self, std::shared_ptr<gathering> g) {
  const auto& src = g->src;
  g->doc = {{"node_id", src.node_id},
            {"version", src.version},
            {"udp", src.udp_endpoint},
            {"http", src.http_endpoint}};
  auto failed = [g](const char* what) {
    return [g, what](const caf::error&) {
      g->doc["unavailable"].push_back(what);
      complete(g);
    };
  };
  g->pending = 5;
  self->request(src.table, ask_limit, table_atom::value)
      .then([g](const contacts& cs) {
              g->doc["routing_table_size"] = cs.size();
              complete(g);
            },
            failed("routing_table"));
  for (const auto& service : {std::string{"asr"}, std::string{"tts"}})
    self->request(src.directory, ask_limit, backends_atom::value, service, std::string{"any"})
        .then([g, service](const service_records& rs) {
                g->known[service] = rs;
                complete(g);
              },
              failed("directory"));
  self->request(src.pool, ask_limit, health_atom::value)
      .then([g](const backend_healths& hs) {
              g->healths = hs;
              complete(g);
            },
            failed("backend_pool"));
  if (!src.announcer) {
    g->doc["own_services"] = json::array();
    complete(g);
    return;
  }
  self->request(src.announcer, ask_limit, services_atom::value)
      .then([g](const own_services& own) {
              g->doc["own_services"] = own_services_json(own);
              complete(g);
            },
            failed("announcer"));
}

}  // namespace

void report_status(caf::actor_system& sys, const status_sources& sources,
                   std::shared_ptr<const frontend_state> counters, http::responder reply) {
  auto g = std::make_shared<gathering>();
  g->src = sources;
  g->counters = std::move(counters);
  g->reply = std::move(reply);
  sys.spawn(gather, std::move(g));
}

}  // namespace sova::actors
