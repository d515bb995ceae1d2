#pragma once
// `sova-dc node`: join or start a network, announce this node's backends, serve the
// HTTP API, until SIGINT/SIGTERM.

#include <CLI/CLI.hpp>

#include "apps/common.hpp"

namespace sova::apps {

struct node_options {
  std::uint16_t port = 5678;
  dht_flags dht;
  std::string log_level = "info";
  std::string services;  // "asr/cpu/host:port*4,tts/gpu/host:port"
  std::string announce = "node";  // node: this node's HTTP endpoint; backends: each backend's
  std::string public_address;     // --public-address host[:port]; "": found out
  bool allow_loopback = false;
  bool refuse_private = false;
  std::uint16_t http_port = 5600;
  std::size_t max_body = 32 * 1024 * 1024;
  std::size_t max_connections = 1024;
  std::size_t max_connections_per_address = 64;
  std::size_t body_budget = 256 * 1024 * 1024;
  std::size_t http_threads = 1;
  std::uint32_t attempts = 3;
  double request_timeout_s = 120;
  double attempt_timeout_s = 60;
  double announce_interval_s = 30;
  double probe_timeout_s = 5;
  double directory_refresh_s = 30;
  double grace_period_s = 30;
  std::uint16_t admin_port = 5700;
  std::string admin_bind;  // "": --bind when that is loopback, else 127.0.0.1
  bool no_admin = false;
  std::string log_format = "text";
  std::string state_dir;  // "": nothing kept across restarts
  double state_interval_s = 60;
  std::string config;  // --config FILE
};

CLI::App* add_node_command(CLI::App& app, node_options& opts);
int run_node(const node_options& opts);

/// Environment variables of `sova-dc node`: SOVA_DC_<FLAG>, e.g. SOVA_DC_HTTP_PORT.
constexpr const char* node_env_prefix = "SOVA_DC_";

}  // namespace sova::apps
