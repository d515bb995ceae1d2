#include "apps/config_layers.hpp"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <set>

namespace sova::apps {

namespace {

bool is_section_marker(const CLI::ConfigItem& item) {
  return item.name == "++" || item.name == "--";
}

/// "http_port" and "http-port" both name --http-port.
std::string flag_name(std::string name) {
  std::replace(name.begin(), name.end(), '_', '-');
  return name;
}

[[noreturn]] void file_error(const std::string& path, const std::string& why) {
  throw CLI::ConfigError("config file " + path + ": " + why);
}

std::vector<CLI::ConfigItem> read_items(const std::string& path) {
  std::ifstream in(path);
  if (!in) file_error(path, std::string("cannot read it (") + std::strerror(errno) + ")");
  return CLI::ConfigTOML().from_config(in);
}

}  // namespace

std::string env_name(const std::string& prefix, const std::string& long_name) {
  std::string out = prefix;
  for (char c : long_name)
    out += c == '-' ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

void add_config_layers(CLI::App& cmd, std::string& config_path, const std::string& env_prefix) {
  for (auto* opt : cmd.get_options()) {
    const auto& names = opt->get_lnames();
    if (names.empty() || names.front() == "help") continue;
    opt->envname(env_name(env_prefix, names.front()));
  }
  cmd.add_option("--config", config_path,
                 "Read settings from this file: name = value lines (TOML style; names as the "
                 "flags without --, lists as [\"a\", \"b\"]). A flag beats its environment "
                 "variable, which beats the file, which beats the default")
      ->envname(env_name(env_prefix, "config"));
}

std::vector<std::string> config_file_arguments(const CLI::App& cmd, const std::string& path) {
  std::vector<std::string> args;
  std::set<std::string> seen;
  for (const auto& item : read_items(path)) {
    if (is_section_marker(item)) continue;
    bool in_section = item.parents.empty() ||
                      (item.parents.size() == 1 && item.parents.front() == cmd.get_name());
    auto name = flag_name(item.name);
    const CLI::Option* opt =
        in_section && name != "config" && name != "help" ? cmd.get_option_no_throw("--" + name)
                                                         : nullptr;
    if (opt == nullptr)
      file_error(path, "unknown key '" + item.fullname() + "': not a flag of sova-dc " +
                           cmd.get_name() + " (see sova-dc " + cmd.get_name() + " --help)");
    // CLI11 merges a key given twice into one item; "http_port" and "http-port" stay two.
    if (!seen.insert(name).second) file_error(path, "key '" + item.fullname() + "' given twice");
    if (item.inputs.size() > 1 && opt->get_items_expected_max() <= 1)
      file_error(path, "key '" + item.fullname() +
                           "' takes one value, but the file gives it a list or gives it twice");
    if (opt->count() > 0) continue;  // set by a flag or an environment variable
    for (const auto& value : item.inputs)
      if (!value.empty()) args.push_back("--" + name + "=" + value);
  }
  return args;
}

void parse_layered(CLI::App& app, int argc, char** argv, const CLI::App& cmd,
                   const std::string& config_path) {
  app.parse(argc, argv);
  if (!cmd.parsed() || config_path.empty()) return;
  auto extra = config_file_arguments(cmd, config_path);
  if (extra.empty()) return;
  std::vector<std::string> args(argv + 1, argv + argc);
  args.insert(args.end(), extra.begin(), extra.end());
  std::reverse(args.begin(), args.end());  // CLI11 takes them last first
  try {
    app.parse(args);
  } catch (const CLI::ParseError& e) {
    if (e.get_name() == "CallForHelp" || e.get_name() == "Success") throw;
    file_error(config_path, e.what());
  }
}

}  // namespace sova::apps
