#pragma once
// Late binding on the wire (docs/owner-queue.md, "On the wire"): an entry node asks an
// owner node to hold a slot with POST /v1/reservations, sends the job with the header
// Sova-Reservation once the owner granted it, and gives a reservation up with
// DELETE /v1/reservations/<id>. Both ends of those exchanges as pure functions: the
// requests built and read, the answers built and read. No I/O.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "http/client.hpp"
#include "http/server.hpp"
#include "net/service_kind.hpp"

namespace sova::http {

inline constexpr std::string_view reservation_header = "Sova-Reservation";
inline constexpr std::string_view reservations_path = "/v1/reservations";
inline constexpr std::size_t max_reservation_id_size = 64;
/// The longest a reservation may wait in an owner's queue (10 min).
inline constexpr std::chrono::milliseconds max_reservation_timeout{600000};
/// The owner answers by the reservation's timeout; the entry's HTTP exchange waits this
/// much longer, so that the owner's answer ends it rather than the entry's timer.
inline constexpr std::chrono::seconds reservation_answer_margin{5};
/// A cancel is fire-and-forget: a short wait is enough.
inline constexpr std::chrono::seconds cancel_timeout{5};
/// A reservation's body is a few dozen bytes; past this it is refused before parsing.
inline constexpr std::size_t max_reservation_body = 4096;

/// What an owner answered a reservation (the entry node's reading of it).
enum class reservation_status : std::uint8_t {
  granted,     // a slot is held for the id: send the job with it (Sova-Reservation)
  full,        // the owner's queue for the service is full (retry_after: its wait estimate)
  no_backend,  // the owner has no backend up for it (not_owner, all down)
  expired,     // it waited its whole timeout
  not_a_node,  // the address is a plain SOVA backend, not a node: send it jobs directly
  failed,      // no answer, or an answer that means none of the above
  cancelled,   // the entry node gave it up while it waited (DELETE): nobody waits for it
};
inline const char* to_string(reservation_status x) {
  switch (x) {
    case reservation_status::granted: return "granted";
    case reservation_status::full: return "full";
    case reservation_status::no_backend: return "no_backend";
    case reservation_status::expired: return "expired";
    case reservation_status::not_a_node: return "not_a_node";
    case reservation_status::failed: return "failed";
    case reservation_status::cancelled: return "cancelled";
  }
  return "unknown";
}

/// Whether `id` is 1-64 characters of [0-9A-Za-z_-]: safe in a path, a header and a log.
bool valid_reservation_id(std::string_view id);
/// A fresh id from a 64-bit random value the caller draws: its 16 hex digits.
std::string make_reservation_id(std::uint64_t random);

/// A reservation as it travels: who asks (id), for what, and how long it may wait.
struct reservation_ask {
  std::string id;
  net::service service = net::service::asr;
  net::wanted_kind wanted = net::wanted_kind::any;
  std::chrono::milliseconds timeout{60000};
};

/// POST /v1/reservations with {"id", "service", "backend", "timeout_ms"}; `via` (when not
/// empty) as its Via header. The exchange may last the timeout plus the answer margin.
client_request reservation_post(const reservation_ask& ask, std::string_view via);

/// The owner's reading of a POST /v1/reservations body; on bad input nothing, with the
/// reply in `error`: 413 too_large, 400 bad_json (not a JSON object), 400 bad_request (a
/// field missing or wrong: id, service asr|tts, backend cpu|gpu|any, timeout_ms an integer
/// 1-600000). Other members are ignored.
std::optional<reservation_ask> parse_reservation_post(std::string_view body, response* error);

/// The owner's answer to reservation `id`: granted, 200 {"reservation": id, "status":
/// "granted"}; full, 503 `full` with Retry-After (whole seconds, rounded up, at least 1);
/// no_backend, 503 `not_owner`; expired, 504 `deadline`; otherwise 500 `internal`. A
/// refusal's message is `reason` (or a default when it is empty).
response reservation_reply(std::string_view id, reservation_status status,
                           std::chrono::nanoseconds retry_after, std::string_view reason);

/// The entry node's reading of an owner's answer.
struct reservation_reading {
  reservation_status status = reservation_status::failed;
  std::chrono::milliseconds retry_after{0};  // full: Retry-After (1 s when absent)
  std::string reason;                       // not granted: why, for logs and messages
  bool answered = false;     // an HTTP answer came (false: a transport failure)
  bool from_a_node = false;  // in a node's JSON shape: a node that takes reservations
};

/// Reads the exchange of POST /v1/reservations for `id`: 200 with the grant of that id,
/// granted; a node's JSON error (http::error_response) with 503 `full`, full; 503
/// `not_owner` or `no_backend`, no_backend; 504, expired; 404, 405 or any answer that is
/// not a node's JSON (a plain SOVA server: Flask's HTML 404), not_a_node; anything else
/// and transport failures, failed.
reservation_reading read_reservation_reply(std::string_view id, const client_result& r);

/// "/v1/reservations/<id>".
std::string reservation_target(std::string_view id);
/// DELETE /v1/reservations/<id>, no body, within cancel_timeout.
client_request reservation_delete(std::string_view id);
/// Whether the path of `target` is /v1/reservations or under it (these are not OpenAI's,
/// though under /v1/).
bool is_reservation_path(std::string_view target);
/// The id `target` names when it is /v1/reservations/<id> (query ignored) with a valid id;
/// else nothing.
std::optional<std::string> reservation_id_of(std::string_view target);

}  // namespace sova::http
