#include "serving/status_report.hpp"

#include "actors/node_view_fan_in.hpp"
#include "views/status_json.hpp"

namespace sova::actors {

void report_status(caf::actor_system& sys, const node_handles& sources,
                   http_counters counters, http::responder reply) {
  gather_node_view(sys, sources, counters, std::chrono::seconds(2),
                   [reply = std::move(reply)](views::node_view v) {
                     http::response r;
                     r.body = views::status_document(v);
                     reply(std::move(r));
                   });
}

}  // namespace sova::actors
