#include "actors/admin_port.hpp"

#include <variant>

#include <caf/actor_system.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/sec.hpp>

#include "admin/http_api.hpp"

namespace sova::actors {

namespace {

http::response error_reply(const caf::error& e, caf::timespan timeout) {
  if (e.category() == caf::atom("admin"))
    return admin::error_response(to_string(static_cast<admin_errc>(e.code())), describe(e));
  if (e == caf::sec::request_timeout)
    return admin::error_response(
        "timeout", "the command did not finish within " +
                       std::to_string(std::chrono::duration_cast<std::chrono::seconds>(timeout).count()) +
                       " s on the node");
  return admin::error_response("unavailable", "the node's admin actor is gone: " + describe(e));
}

// A one-shot actor per command. Spawned with its arguments: CAF 0.17 dereferences a null
// argument tuple for a lambda that takes only `self`.
void ask_admin(caf::event_based_actor* self, admin_actor admin, caf::timespan timeout,
               admin::call c, http::responder reply) {
  self->request(admin, timeout, admin_atom::value, c.command, c.args)
      .then([reply](std::string& result) { reply(admin::result_response(std::move(result))); },
            [reply, timeout](caf::error& e) { reply(error_reply(e, timeout)); });
}

}  // namespace

std::shared_ptr<http::server> serve_admin(caf::actor_system& sys, admin_actor admin,
                                          const std::string& host, std::uint16_t port,
                                          caf::timespan command_timeout) {
  http::server_limits limits;
  limits.max_body = admin::max_call_bytes;
  limits.header_timeout = std::chrono::seconds(10);
  limits.body_timeout = std::chrono::seconds(10);
  // A console keeps its connection while the operator types.
  limits.idle_timeout = std::chrono::minutes(10);
  limits.max_connections = 32;
  limits.max_connections_per_address = 16;
  limits.body_budget = limits.max_connections * limits.max_body;
  auto handle = [&sys, admin, command_timeout](http::request req, http::responder reply) {
    auto parsed = admin::read_call(req);
    if (auto* refused = std::get_if<http::response>(&parsed)) return reply(std::move(*refused));
    sys.spawn(ask_admin, admin, command_timeout, std::get<admin::call>(std::move(parsed)),
              std::move(reply));
  };
  return http::server::start(host, port, limits, std::move(handle));
}

}  // namespace sova::actors
