#pragma once
// Splitting console input into commands: `-c "info; peers"`, a --script file, standard
// input or one interactive line all go through here.

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace sova::admin {

struct script_command {
  std::vector<std::string> words;  // words[0]: the command name
  std::size_t line = 0;            // 1-based line it starts on
};

struct parsed_script {
  std::vector<script_command> commands;
  std::string error;  // "" when the whole text parsed; else "line N: ..." and no commands
};

/// Commands end at a newline or `;`; words are separated by blanks; '...' is literal,
/// "..." honours \" and \\, a backslash outside quotes escapes the next character;
/// `#` at the start of a word comments out the rest of the line. Empty commands vanish.
parsed_script parse_script(std::string_view text);

}  // namespace sova::admin
