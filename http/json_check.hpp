#pragma once
// Whether a backend's reply is JSON, without building it: a TTS reply carries its audio
// as base64 and can be megabytes, and the node only needs to tell a SOVA reply from
// garbage before passing the bytes on unchanged. nlohmann::json::accept answered the same
// but spent a fifth of the io thread's instructions per proxied request (issue 3).

#include <functional>
#include <string_view>

namespace sova::http {

/// True when `text` is exactly one JSON value (RFC 8259) with optional whitespace around
/// it, decided as nlohmann::json::accept decides: strings in valid UTF-8 with paired
/// surrogate escapes, no control characters in strings, numbers that are finite as
/// doubles, a leading UTF-8 byte order mark skipped; except that a NUL byte is garbage
/// wherever it is (nlohmann ends the input there). Any depth (no recursion).
bool is_json(std::string_view text);

enum class json_type { null, boolean, number, string, object, array };

/// A member of the top-level object: its key as written between the quotes (escapes not
/// decoded: a key with a backslash needs decoding before it is compared) and the type of
/// its value.
struct json_member {
  std::string_view raw_key;
  json_type type;
};

/// is_json, also telling the type of the root value (when there is one) and each member
/// of a root object, in order, as it is met: what the TTS body check needs, in the same
/// pass (the scan may still fail after some members were told).
bool is_json(std::string_view text, json_type& root,
             const std::function<void(const json_member&)>& top_member);

}  // namespace sova::http
