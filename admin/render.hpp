#pragma once
// Text for people from a command's JSON result (the node answers JSON; `--json` prints
// it as it is, everything else goes through here).

#include <string>

#include <nlohmann/json.hpp>

namespace sova::admin {

/// Objects become aligned "key  value" lines, nested objects are indented, arrays of
/// objects become tables with a header row, arrays of scalars a comma-separated list.
/// Ends with a newline unless empty.
std::string render_text(const nlohmann::ordered_json& result);

}  // namespace sova::admin
