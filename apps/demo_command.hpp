#pragma once
// `sova-dc demo`: a whole network on this machine. Three nodes on 127.0.0.2-127.0.0.4, a
// TTS and an ASR reference backend announced by different nodes; then real speech is
// synthesised and recognised through the network, each result printed with its time,
// and everything started is stopped again (also on Ctrl-C).

#include <memory>

#include <CLI/CLI.hpp>

namespace sova::apps {

struct demo_options;  // defined in demo_command.cpp

struct demo_command {
  CLI::App* cmd = nullptr;
  std::shared_ptr<demo_options> options;
};

demo_command add_demo_command(CLI::App& app);
int run_demo(const demo_command& demo);

}  // namespace sova::apps
