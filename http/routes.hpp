#pragma once
// The node's HTTP API (shared/API.md) as pure functions: which route a request names,
// and whether its body is fit to forward. Nothing here touches a backend.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "http/server.hpp"
#include "net/service_kind.hpp"

namespace sova::http {

enum class route_kind {
  asr,
  tts,
  healthz,
  status,
  metrics,
  page,  // a file of the web page (web/assets.hpp), GET / and /ui/*
  // OpenAI's audio API (openai/): translated to and from asr and tts requests
  openai_transcriptions,
  openai_speech,
  openai_models,
  // Late binding between nodes (http/reservation.hpp): not OpenAI's, though under /v1/
  reserve,             // POST /v1/reservations
  cancel_reservation,  // DELETE /v1/reservations/<id>
};

/// The OpenAI routes answer in OpenAI's error shape (openai/errors.hpp).
bool is_openai_route(route_kind kind);
/// Whether a path is under /v1/, where the OpenAI routes live (a 404 there is OpenAI's),
/// and not one of the reservation paths (/v1/reservations and under it), which answer in
/// the node's shape, as the entry node that calls them reads it.
bool is_openai_path(std::string_view target);

/// The service of an ASR or TTS route.
inline net::service service_of(route_kind k) {
  return k == route_kind::asr || k == route_kind::openai_transcriptions ? net::service::asr
                                                                       : net::service::tts;
}

struct route {
  route_kind kind = route_kind::healthz;
  net::wanted_kind wanted = net::wanted_kind::any;  // ?backend=cpu|gpu|any (the POST routes only)
};

/// One path the node serves and the methods it takes there (the OpenAPI document is
/// checked against this list).
struct served_route {
  std::string_view path;
  route_kind kind;
  std::string_view methods;  // the Allow header's value: "POST" or "GET, HEAD"
};
/// Every served path, trailing-slash variants included; the reservation of one id as
/// "/v1/reservations/{id}" (OpenAPI's template).
std::vector<served_route> route_table();

/// The route `method` and `target` name. On a bad request, nothing, with the reply in
/// `error`: 404 not_found (unknown path), 405 method_not_allowed (known path, wrong
/// method; the reply carries an Allow header), 400 bad_request (bad ?backend= value, or a
/// /v1/reservations/<id> whose id is not one: http/reservation.hpp's reservation_id_of
/// reads it). /asr and /synthesize are also served with a trailing slash.
std::optional<route> match_route(std::string_view method, std::string_view target,
                                 response* error);

/// Nothing when an ASR body may be forwarded: multipart/form-data with at least one
/// file part (one with a filename) whose field name starts with `audio_blob`; else the
/// 400 reply saying why (bad_request, no_audio).
std::optional<response> check_asr_body(std::string_view content_type, std::string_view body);

/// Nothing when a TTS body may be forwarded: a JSON object whose "text" and "voice" are
/// strings and whose "rate", "pitch" and "volume", when present, are numbers or strings
/// that Python's float() reads (what a real SOVA TTS accepts; it answers anything else
/// with HTTP 500); else the 400 reply saying why (bad_json, missing_text, missing_voice,
/// bad_request). The reference TTS backend, which takes a missing voice for Natasha, asks
/// with `voice_required` false.
std::optional<response> check_tts_body(std::string_view body, bool voice_required = true);

}  // namespace sova::http
