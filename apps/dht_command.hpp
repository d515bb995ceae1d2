#pragma once
// `sova-dc dht put|get`: a short-lived node that joins through --neighbours, stores
// or finds one record, prints the outcome and leaves (like the original library's
// set/get examples). Scripts and the integration tests use it.

#include <CLI/CLI.hpp>

#include "apps/common.hpp"

namespace sova::apps {

struct dht_options {
  std::string action;  // "put" or "get"
  std::string key;
  std::vector<std::string> values;
  bool raw_key = false;  // KEY is already 40 hex digits, not text to hash
  std::uint16_t port = 0;
  dht_flags dht;
  double timeout_s = 30.0;
  std::string log_level = "warn";
};

CLI::App* add_dht_command(CLI::App& app, dht_options& opts);
int run_dht(const dht_options& opts);

}  // namespace sova::apps
