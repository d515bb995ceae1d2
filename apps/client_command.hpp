#pragma once
// The client subcommands: `sova-dc asr`, `sova-dc tts`, and the original client's form
// `sova-dc client --service asr|tts`. They call a node's (or a backend's) HTTP API.

#include <memory>

#include <CLI/CLI.hpp>

namespace sova::apps {

struct client_options;  // defined in client_command.cpp

struct client_commands {
  CLI::App* asr = nullptr;
  CLI::App* tts = nullptr;
  CLI::App* client = nullptr;
  std::shared_ptr<client_options> options;
};

client_commands add_client_commands(CLI::App& app);
/// Runs whichever of the three was parsed; the exit status (exit_ok/exit_failed/exit_usage).
int run_client_commands(const client_commands& cmds);

}  // namespace sova::apps
