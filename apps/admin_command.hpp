#pragma once
// `sova-dc admin`: the console onto a running node's admin actor (caf::io, loopback
// :5700 by default). Interactive with line editing, history and completion on a
// terminal; a script from -c, --script or standard input otherwise.

#include <memory>

#include <CLI/CLI.hpp>

namespace sova::apps {

struct admin_options;  // defined in admin_command.cpp

struct admin_command {
  CLI::App* cmd = nullptr;
  std::shared_ptr<admin_options> options;
};

admin_command add_admin_command(CLI::App& app);
/// 0 when every command succeeded; else the status of the first that failed:
/// 1 the node or the operation failed, 2 a bad command or argument.
int run_admin(const admin_command& admin);

}  // namespace sova::apps
