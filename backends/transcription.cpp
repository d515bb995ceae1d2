#include "backends/transcription.hpp"

namespace sova::backends {
namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\r')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

void strip(std::string_view& s, std::string_view prefix, std::string_view suffix) {
  if (s.substr(0, prefix.size()) == prefix) s = trim(s.substr(prefix.size()));
  if (s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix)
    s = trim(s.substr(0, s.size() - suffix.size()));
}

}  // namespace

std::map<std::string, std::string> parse_transcription(std::string_view text) {
  std::map<std::string, std::string> out;
  while (!text.empty()) {
    auto nl = text.find('\n');
    auto line = trim(text.substr(0, nl));
    text = nl == std::string_view::npos ? std::string_view{} : text.substr(nl + 1);
    auto open = line.rfind('(');
    if (line.empty() || line.back() != ')' || open == std::string_view::npos) continue;
    auto id = line.substr(open + 1, line.size() - open - 2);
    auto words = trim(line.substr(0, open));
    strip(words, "<s>", "</s>");
    out[std::string(id)] = std::string(words);
  }
  return out;
}

}  // namespace sova::backends
