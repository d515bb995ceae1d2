#include "http/hop_guard.hpp"
#include "http/text.hpp"

namespace sova::http {

namespace {

constexpr std::string_view entry_prefix = "1.1 sova-dc-";

bool is_node_entry(std::string_view item) {
  return item.substr(0, entry_prefix.size()) == entry_prefix;
}

/// Calls `f` on each comma-separated item of a Via value, trimmed, until `f` returns true;
/// says whether it did.
template <class F>
bool any_via_item(std::string_view via, F f) {
  while (!via.empty()) {
    auto comma = via.find(',');
    auto item = trim_blanks(via.substr(0, comma));
    via = comma == std::string_view::npos ? std::string_view{} : via.substr(comma + 1);
    if (f(item)) return true;
  }
  return false;
}

}  // namespace

std::string via_entry(std::string_view node_id_hex) {
  return std::string(entry_prefix) + std::string(node_id_hex.substr(0, 16));
}

std::optional<std::string> hop_refusal(std::string_view via, std::string_view own_entry,
                                       std::size_t limit) {
  std::size_t ours = 0;
  bool came_back = any_via_item(via, [&](std::string_view item) {
    if (item == own_entry) return true;
    if (is_node_entry(item)) ++ours;
    return false;
  });
  if (came_back)
    return "this request came back to the node that forwarded it (Via names it): a DHT "
           "record points back along the path";
  if (ours >= limit)
    return "this request has passed " + std::to_string(ours) + " nodes already (Via); at most " +
           std::to_string(limit) + " may forward it";
  return std::nullopt;
}

bool forwarded_by_a_node(std::string_view via) { return any_via_item(via, is_node_entry); }

std::string next_via(std::string_view via, std::string_view own_entry) {
  auto before = trim_blanks(via);
  if (before.empty()) return std::string(own_entry);
  return std::string(before) + ", " + std::string(own_entry);
}

}  // namespace sova::http
