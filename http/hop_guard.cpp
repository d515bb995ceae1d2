#include "http/hop_guard.hpp"

namespace sova::http {

namespace {

constexpr std::string_view entry_prefix = "1.1 sova-dc-";

std::string_view trimmed(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

}  // namespace

std::string via_entry(std::string_view node_id_hex) {
  return std::string(entry_prefix) + std::string(node_id_hex.substr(0, 16));
}

std::optional<std::string> hop_refusal(std::string_view via, std::string_view own_entry,
                                       std::size_t limit) {
  std::size_t ours = 0;
  while (!via.empty()) {
    auto comma = via.find(',');
    auto item = trimmed(via.substr(0, comma));
    via = comma == std::string_view::npos ? std::string_view{} : via.substr(comma + 1);
    if (item == own_entry)
      return "this request came back to the node that forwarded it (Via names it): a DHT "
             "record points back along the path";
    if (item.substr(0, entry_prefix.size()) == entry_prefix) ++ours;
  }
  if (ours >= limit)
    return "this request has passed " + std::to_string(ours) + " nodes already (Via); at most " +
           std::to_string(limit) + " may forward it";
  return std::nullopt;
}

bool forwarded_by_a_node(std::string_view via) {
  while (!via.empty()) {
    auto comma = via.find(',');
    auto item = trimmed(via.substr(0, comma));
    via = comma == std::string_view::npos ? std::string_view{} : via.substr(comma + 1);
    if (item.substr(0, entry_prefix.size()) == entry_prefix) return true;
  }
  return false;
}

std::string next_via(std::string_view via, std::string_view own_entry) {
  auto before = trimmed(via);
  if (before.empty()) return std::string(own_entry);
  return std::string(before) + ", " + std::string(own_entry);
}

}  // namespace sova::http
