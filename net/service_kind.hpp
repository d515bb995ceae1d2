#pragma once
// What a SOVA backend serves and on what: parsed once where text comes in (routes,
// --services, DHT values, console arguments) and printed once where text goes out
// ("asr/cpu", JSON, logs). Header-only, so that http/ uses it without linking net/.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace sova::net {

enum class service : std::uint8_t { asr, tts };
/// What a backend runs on.
enum class kind : std::uint8_t { cpu, gpu };
/// What a request asks for: one kind, or either (`?backend=any`, the default).
enum class wanted_kind : std::uint8_t { cpu, gpu, any };

inline const char* to_string(service s) { return s == service::asr ? "asr" : "tts"; }
inline const char* to_string(kind k) { return k == kind::cpu ? "cpu" : "gpu"; }
inline const char* to_string(wanted_kind k) {
  switch (k) {
    case wanted_kind::cpu: return "cpu";
    case wanted_kind::gpu: return "gpu";
    case wanted_kind::any: return "any";
  }
  return "any";
}

inline std::optional<service> parse_service(std::string_view s) {
  if (s == "asr") return service::asr;
  if (s == "tts") return service::tts;
  return std::nullopt;
}
inline std::optional<kind> parse_kind(std::string_view s) {
  if (s == "cpu") return kind::cpu;
  if (s == "gpu") return kind::gpu;
  return std::nullopt;
}
inline std::optional<wanted_kind> parse_wanted_kind(std::string_view s) {
  if (s == "any") return wanted_kind::any;
  if (auto k = parse_kind(s)) return *k == kind::cpu ? wanted_kind::cpu : wanted_kind::gpu;
  return std::nullopt;
}

/// "asr/cpu": the text whose sha1 is the DHT key of a service's backends of one kind.
inline std::string key_text(service s, kind k) {
  return std::string(to_string(s)) + "/" + to_string(k);
}

}  // namespace sova::net
