#pragma once
// An OpenAI audio request (POST /v1/audio/transcriptions, /v1/audio/speech) as the SOVA
// request the node serves like any other (same choice of backend, retries, deadline,
// metrics), plus the translation of its outcome back into OpenAI's reply: the checks and
// formats of openai/, and the audio conversion of backends/audio_encode.

#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "http/routes.hpp"
#include "http/server.hpp"
#include "net/service_kind.hpp"

namespace sova::serving {

/// Applied to the reply the request path gives (a backend's reply or the node's error).
using reply_translator = std::function<http::response(http::response)>;

struct openai_job {
  net::service service = net::service::asr;
  net::wanted_kind wanted = net::wanted_kind::any;
  std::string content_type;
  std::string body;  // the SOVA request
  reply_translator translate;
};

/// The SOVA job for an OpenAI request on `route`; nothing, with the OpenAI error reply in
/// `error`, when the request is refused.
std::optional<openai_job> openai_job_for(const http::route& route, std::string_view content_type,
                                         std::string_view body, http::response* error);

/// Any node reply, a refusal included, in OpenAI's error shape (openai/errors.hpp).
http::response openai_error_of(http::response r);

}  // namespace sova::serving
