#pragma once
// OpenAI `model` names on a node: which backend kind a request's model asks for, and
// GET /v1/models' list of what the network offers. Pure code.
//
// Model ids: `sova-asr` and `sova-tts` (any kind), `sova-asr-cpu`, `sova-asr-gpu`,
// `sova-tts-cpu`, `sova-tts-gpu`. OpenAI's own names (whisper-1, gpt-4o-transcribe,
// tts-1, tts-1-hd, ...) and an absent model are taken as `sova-asr`/`sova-tts`.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "http/server.hpp"
#include "net/service_record.hpp"

namespace sova::openai {

/// The backend kind (cpu, gpu or `fallback`, the route's ?backend=) that `model` asks
/// for in a request of `service`; nothing, with a 400 model_not_found reply in `error`,
/// for a sova- model of another service or kind.
std::optional<net::wanted_kind> kind_for_model(net::service service, std::string_view model,
                                               net::wanted_kind fallback, http::response* error);

/// GET /v1/models' body: OpenAI's list ({"object": "list", "data": [{"id", "object":
/// "model", "created": 0, "owned_by": "sova-dc"}]}) with one model per service and kind
/// among `backends` whose address is not in `unusable` (backends with an open breaker),
/// and the service's any-kind model when it has one; sorted by id.
std::string models_document(const std::vector<net::service_record>& backends,
                            const std::vector<std::string>& unusable);

}  // namespace sova::openai
