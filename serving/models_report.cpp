#include "serving/models_report.hpp"

#include <memory>

#include <caf/actor_system.hpp>
#include <caf/event_based_actor.hpp>

#include "openai/models.hpp"

namespace sova::serving {

namespace {

using actors::backend_pool_actor;
using actors::backends_atom;
using actors::health_atom;
using actors::service_directory_actor;
using actors::service_records;

constexpr auto limit = std::chrono::seconds(5);

/// The answers so far; the reply goes out when the last question is answered or failed.
struct models_gathering {
  http::responder reply;
  int pending = 0;
  service_records backends;
  actors::strings unusable;  // addresses with an open breaker

  void answered() {
    if (--pending > 0) return;
    http::response r;
    r.body = openai::models_document(backends, unusable);
    reply(std::move(r));
  }
};

}  // namespace

void report_models(caf::actor_system& sys, const actors::node_handles& sources,
                   http::responder reply) {
  // The work goes in as spawn arguments (see gather_node_view on CAF 0.17's null tuple).
  sys.spawn(
      [](caf::event_based_actor* self, service_directory_actor directory, backend_pool_actor pool,
         http::responder reply) {
        auto g = std::make_shared<models_gathering>();
        g->reply = std::move(reply);
        g->pending = 3;
        for (auto service : {net::service::asr, net::service::tts})
          self->request(directory, limit, backends_atom::value, service, net::wanted_kind::any)
              .then(
                  [g](const service_records& found) {
                    g->backends.insert(g->backends.end(), found.begin(), found.end());
                    g->answered();
                  },
                  [g](const caf::error&) { g->answered(); });
        self->request(pool, limit, health_atom::value)
            .then(
                [g](const backend_readings& hs) {
                  for (const auto& h : hs)
                    if (h.breaker == breaker_state::open) g->unusable.push_back(h.backend.to_string());
                  g->answered();
                },
                [g](const caf::error&) { g->answered(); });
      },
      sources.directory, sources.pool, std::move(reply));
}

}  // namespace sova::serving
