#pragma once
// The backends a node knows, as JSON: /status and the admin console's `services` show the
// same view of what the directory found and what each forwarder measured.

#include <nlohmann/json.hpp>

#include "actors/interfaces.hpp"

namespace sova::views {

/// One entry per known backend, with its cell as read ("untried" when no request
/// has gone to it yet).
nlohmann::ordered_json backends_json(const actors::service_records& known,
                                     const serving::backend_readings& readings);
/// This node's own backends (`--services`) as the announcer sees them.
nlohmann::ordered_json own_services_json(const actors::own_services& own);

}  // namespace sova::views
