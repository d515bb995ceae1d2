#pragma once
// The backends a node knows, as JSON: /status and the admin console's `services` show the
// same view of what the directory found and what each forwarder measured.

#include <nlohmann/json.hpp>

#include "actors/interfaces.hpp"

namespace sova::views {

/// One entry per known backend, with its cell as read ("untried" when no request
/// has gone to it yet) and what answers at its address (`peer`: node, plain, unknown).
nlohmann::ordered_json backends_json(const actors::service_records& known,
                                     const serving::backend_readings& readings);
/// This node's own backends (`--services`), one entry each: as the announcer sees them
/// (alive, last_error, announcements) and as the owner's queue sees them (capacity,
/// running, queued, wait_s, service_s, up, served, failed). A backend only one of the two
/// listed (the other did not answer, or the node has no owner) has only that one's keys.
nlohmann::ordered_json own_services_json(const actors::own_services& own,
                                         const actors::owned_backend_states& queue);

}  // namespace sova::views
