#pragma once
// Where a subcommand's settings come from: a flag beats an environment variable, which
// beats the config file (--config), which beats the default. CLI11 reads flags and
// environment variables itself; the file's values are turned into arguments for a second
// parse, added only for options that neither the command line nor the environment set.

#include <string>
#include <vector>

#include <CLI/CLI.hpp>

namespace sova::apps {

/// Adds `--config FILE` (environment variable `<prefix>CONFIG`) to `cmd` and gives every
/// other long option the variable `<prefix>NAME` (upper case, '-' -> '_'), shown by --help.
void add_config_layers(CLI::App& cmd, std::string& config_path, const std::string& env_prefix);

/// The environment variable of option `--long-name` under `prefix` ("SOVA_DC_LONG_NAME").
std::string env_name(const std::string& prefix, const std::string& long_name);

/// After a successful parse of `cmd`: the arguments the file `path` adds ("--name=value"),
/// for options still without a value. The file takes TOML-style `name = value` lines
/// (name as the flag without "--"; '_' and '-' alike), arrays for options taking lists,
/// `#` comments, and an optional [<command>] section. Throws CLI::ConfigError naming the
/// file and the key for an unreadable file, an unknown key, or a list (or a key given
/// twice) for an option taking one value.
std::vector<std::string> config_file_arguments(const CLI::App& cmd, const std::string& path);

/// app.parse(argc, argv), then, when `cmd` ran with a config file, a second parse with the
/// file's arguments added; an error of that second parse is the file's, and says so.
void parse_layered(CLI::App& app, int argc, char** argv, const CLI::App& cmd,
                   const std::string& config_path);

}  // namespace sova::apps
