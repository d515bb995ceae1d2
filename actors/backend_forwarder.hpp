#pragma once
// The backend forwarder: one actor per backend address. It sends each attempt over the
// HTTP client's keep-alive pool, counts what is in flight, keeps a latency EWMA, and
// opens a circuit breaker after consecutive failures; after a pause it lets one probe
// request through (half-open), whose result closes or reopens the breaker. An answer that
// is not a reply of the service moves nothing by itself: the request may be at fault, and
// whoever sent it blames the backend (failed_atom) only once another backend served it.
// It is the one writer of its backend's cell (serving/backend_cell.hpp), which everyone
// else reads. At another node's endpoint it also places and cancels reservations (late
// binding, http/reservation.hpp): what answers there sets the cell's peer kind, and an
// answer of a node proves it alive (no answer counts as a failure).

#include <functional>
#include <memory>
#include <string_view>

#include <caf/fwd.hpp>
#include <caf/timespan.hpp>

#include "actors/interfaces.hpp"
#include "http/client.hpp"
#include "serving/backend_cell.hpp"

namespace sova::actors {

struct forwarder_config {
  std::uint32_t breaker_failures = 3;                       // consecutive failures: open
  caf::timespan breaker_pause = std::chrono::seconds(5);    // open this long, then one probe
  double ewma_weight = 0.3;                                  // weight of a new latency sample
};

/// Sends one HTTP exchange to a backend; `done` runs exactly once, on any thread.
/// The real one is http_send_over(client); tests give their own.
using http_send = std::function<void(const net::service_record& backend,
                                     http::client_request req, http::client_callback done)>;
http_send http_send_over(std::shared_ptr<http::client> client);

/// The forwarder of `cell`'s backend; it ends with `pool`. `cfg.ewma_weight` is the cell's.
backend_forwarder_actor spawn_backend_forwarder(caf::actor_system& sys, forwarder_config cfg,
                                                std::shared_ptr<serving::backend_cell> cell,
                                                http_send send, backend_pool_actor pool);

/// The HTTP request of one attempt: POST /asr (the client's multipart body and its
/// Content-Type, untouched) or POST /synthesize/ (the client's JSON), one redirect followed;
/// `via` (when not empty) as its Via header (http/hop_guard.hpp), and the request's
/// reservation (when not empty) as Sova-Reservation. Takes `req` by value: pass it moved
/// and the body is moved, not copied.
http::client_request make_backend_request(forward_request req);
http::client_request make_backend_request(net::service service,
                                          const std::string& content_type, std::string body,
                                          caf::timespan timeout, const std::string& via = {});

/// A finished exchange as an attempt's outcome for `service`: served when
/// the backend answered 200 with a reply of its service (http/backend_reply.hpp),
/// unusable when it answered anything else, failed on a transport error. The result's
/// request_body goes into the outcome's.
forward_outcome to_outcome(net::service service, http::client_result r,
                           caf::timespan latency);

}  // namespace sova::actors
