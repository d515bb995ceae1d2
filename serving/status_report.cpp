#include "serving/status_report.hpp"

#include "actors/node_view_fan_in.hpp"
#include "views/status_json.hpp"

namespace sova::serving {

void report_status(caf::actor_system& sys, const actors::node_handles& sources,
                   actors::http_counters counters, http::responder reply) {
  actors::gather_node_view(sys, sources, counters, std::chrono::seconds(2),
                   [reply = std::move(reply)](views::node_view v) {
                     http::response r;
                     r.body = views::status_document(v);
                     reply(std::move(r));
                   });
}

}  // namespace sova::serving
