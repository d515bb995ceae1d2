#include "net/owned_backend.hpp"

#include <charconv>

namespace sova::net {

std::string owned_backend::to_string() const {
  auto text = record.to_string();
  if (capacity_given || capacity != default_capacity) text += "*" + std::to_string(capacity);
  return text;
}

std::optional<owned_backend> parse_owned_backend(std::string_view text, std::string* error) {
  // '*' cannot be part of a host name or an IPv6 literal, so the last one starts the capacity.
  auto star = text.rfind('*');
  auto record_text = text.substr(0, star);
  std::string why;
  auto rec = parse_service_record(record_text, &why);
  if (!rec) {
    // The reason comes as "'<record>': ..."; name the whole entry as it was written.
    if (error) *error = "'" + std::string(text) + "'" + why.substr(record_text.size() + 2);
    return std::nullopt;
  }
  if (rec->host.find('*') != std::string::npos) {
    if (error)
      *error = "'" + std::string(text) + "': the host has a character a host name cannot have";
    return std::nullopt;
  }
  owned_backend out{std::move(*rec), owned_backend::default_capacity};
  if (star == std::string_view::npos) return out;
  auto digits = text.substr(star + 1);
  unsigned n = 0;
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), n);
  if (digits.empty() || ec != std::errc{} || end != digits.data() + digits.size() || n < 1 ||
      n > owned_backend::max_capacity) {
    if (error)
      *error = "'" + std::string(text) + "': the capacity after '*' must be a number 1-" +
               std::to_string(owned_backend::max_capacity) +
               " (jobs the backend runs at once; 1 when there is no '*')";
    return std::nullopt;
  }
  out.capacity = n;
  out.capacity_given = true;
  return out;
}

std::optional<std::vector<owned_backend>> parse_owned_backends(std::string_view text,
                                                               std::string* error) {
  std::vector<owned_backend> out;
  while (!text.empty()) {
    auto comma = text.find(',');
    auto entry = parse_owned_backend(text.substr(0, comma), error);
    if (!entry) return std::nullopt;
    out.push_back(std::move(*entry));
    if (comma == std::string_view::npos) break;
    text.remove_prefix(comma + 1);
    if (text.empty()) {
      if (error) *error = "a trailing comma leaves an empty entry";
      return std::nullopt;
    }
  }
  return out;
}

std::vector<service_record> records_of(const std::vector<owned_backend>& backends) {
  std::vector<service_record> out;
  out.reserve(backends.size());
  for (const auto& b : backends) out.push_back(b.record);
  return out;
}

}  // namespace sova::net
