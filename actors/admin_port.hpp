#pragma once
// The admin port: the node's own HTTP server (admin/http_api.hpp) in front of the admin
// actor. Each command becomes a short-lived actor that asks the admin actor and replies.

#include <cstdint>
#include <memory>
#include <string>

#include <caf/fwd.hpp>
#include <caf/timespan.hpp>

#include "actors/interfaces.hpp"
#include "http/server.hpp"

namespace sova::actors {

/// Serves `admin` on host:port (0: any free port); throws std::runtime_error naming the
/// address when it cannot be bound. A command that has not finished within
/// `command_timeout` is answered 504.
std::shared_ptr<http::server> serve_admin(caf::actor_system& sys, admin_actor admin,
                                          const std::string& host, std::uint16_t port,
                                          caf::timespan command_timeout);

}  // namespace sova::actors
