#pragma once
// The admin console's command catalogue: names, arguments, help. The node's admin actor
// checks commands against it and the console uses it for help and tab completion, so
// both always agree on what exists.

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "net/node_id.hpp"

namespace sova::admin {

struct command_info {
  std::string_view name;     // "get"
  std::string_view usage;    // "get KEY"
  std::string_view summary;  // one line for `help`
  std::string_view details;  // what `help get` adds: arguments, output
  std::size_t min_args = 0;
  std::size_t max_args = 0;
  bool local = false;  // runs in the console itself (help, quit), never sent to a node
};

/// Every command, in the order `help` lists them.
const std::vector<command_info>& commands();
/// The command named `name` (aliases such as `exit` for `quit` included), or nullptr.
const command_info* find_command(std::string_view name);
/// The known command closest to a mistyped `name`, if one is close enough to suggest.
std::optional<std::string_view> closest_command(std::string_view name);
/// Command names that start with `prefix`, sorted (tab completion).
std::vector<std::string> complete_command(std::string_view prefix);

enum class check_status { ok, unknown_command, bad_arguments };
struct check_result {
  check_status status = check_status::ok;
  std::string message;  // for the operator: what is wrong and what to do
};
/// Is `name` a command and does it take `argc` arguments?
check_result check_command(std::string_view name, std::size_t argc);

/// `help` (every command, one line each) and `help NAME` (usage, summary, details).
std::string help_text();
std::optional<std::string> help_text(std::string_view name);

/// A KEY argument: "0x" and 40 hex digits is a raw id; any other text is hashed with
/// sha1 the way the original hashes its keys ("asr/cpu"). Nothing for "" or a bad 0x id.
std::optional<net::node_id> parse_key(std::string_view text);

}  // namespace sova::admin
