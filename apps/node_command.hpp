#pragma once
// `sova-dc node`: join or start a network and serve it until SIGINT/SIGTERM.

#include <CLI/CLI.hpp>

#include "apps/common.hpp"

namespace sova::apps {

struct node_options {
  std::uint16_t port = 5678;
  dht_flags dht;
  std::string log_level = "info";
};

CLI::App* add_node_command(CLI::App& app, node_options& opts);
int run_node(const node_options& opts);

}  // namespace sova::apps
