#pragma once
// Base64 (RFC 4648, standard alphabet, padded): how SOVA TTS carries WAV bytes in JSON.
// Pure code.

#include <optional>
#include <string>
#include <string_view>

namespace sova::http {

std::string base64_encode(std::string_view bytes);
/// Nothing when `text` is not padded base64 (whitespace is not allowed either).
std::optional<std::string> base64_decode(std::string_view text);

}  // namespace sova::http
