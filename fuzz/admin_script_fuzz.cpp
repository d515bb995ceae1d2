// Admin console input (`-c`, --script, stdin) through the script parser and then the
// command catalogue, as the console and the node's admin actor check each command.
// Properties: a parse either fails with "line N: ..." and no commands, or gives
// non-empty commands on lines in order; and the words, written back quoted, parse to
// the same words (what a generated script relies on).
//
// Input: the script text.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "admin/commands.hpp"
#include "admin/script.hpp"
#include "fuzz/check.hpp"

namespace {

using namespace sova::admin;

/// Commands checked against the catalogue per input, and the longest name checked: an
/// unknown name costs an edit-distance search over every command name (linear in its
/// length, but most of the run time for kilobyte names), and more add no new paths.
constexpr std::size_t max_checked = 4;
constexpr std::size_t max_checked_name = 256;

/// A word the parser reads back as it is: every character escaped with a backslash,
/// except a newline (a backslash joins lines), which goes in single quotes.
std::string quoted(const std::string& word) {
  if (word.empty()) return "''";
  std::string out;
  for (char c : word) {
    if (c == '\n') {
      out += "'\n'";
    } else {
      out += '\\';
      out += c;
    }
  }
  return out;
}

void check_catalogue(const script_command& c) {
  const auto& name = c.words.front();
  auto argc = c.words.size() - 1;
  auto verdict = check_command(name, argc);
  const command_info* info = find_command(name);
  if (!info) FUZZ_CHECK(verdict.status == check_status::unknown_command);
  if (verdict.status == check_status::ok)
    FUZZ_CHECK(info && argc >= info->min_args && argc <= info->max_args);
  else
    FUZZ_CHECK(!verdict.message.empty());
  for (const auto& match : complete_command(name)) FUZZ_CHECK(match.compare(0, name.size(), name) == 0);
  help_text(name);
  for (std::size_t i = 1; i < c.words.size(); ++i) parse_key(c.words[i]);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto script = parse_script(text);
  if (!script.error.empty()) {
    FUZZ_CHECK(script.commands.empty());
    FUZZ_CHECK(script.error.compare(0, 5, "line ") == 0);
    return 0;
  }
  std::size_t lines = 1;
  for (char c : text) lines += c == '\n';
  std::size_t previous = 1;
  std::string written;
  for (std::size_t i = 0; i < script.commands.size(); ++i) {
    const auto& c = script.commands[i];
    FUZZ_CHECK(!c.words.empty());
    FUZZ_CHECK(c.line >= previous && c.line <= lines);
    previous = c.line;
    if (i < max_checked && c.words.front().size() <= max_checked_name) check_catalogue(c);
    for (const auto& w : c.words) written += quoted(w) + ' ';
    written += ";";
  }
  auto again = parse_script(written);
  FUZZ_CHECK(again.error.empty());
  FUZZ_CHECK(again.commands.size() == script.commands.size());
  for (std::size_t i = 0; i < again.commands.size(); ++i)
    FUZZ_CHECK(again.commands[i].words == script.commands[i].words);
  return 0;
}
