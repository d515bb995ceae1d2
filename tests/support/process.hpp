#pragma once
// Child processes for the integration tests (apps/child_process), run-to-completion
// with captured output, and the free ports and directories the tests use.

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "apps/child_process.hpp"

namespace sova::testing {

using apps::child_process;

struct run_result {
  int status = -1;  // exit status; -1 when it had to be killed at the time limit
  std::string out;
  std::string err;
};
/// Runs `argv` to completion (killed after `limit`), capturing stdout and stderr.
run_result run(const std::vector<std::string>& argv, std::chrono::milliseconds limit);

/// Polls `pred` every 50 ms until it holds or `limit` passes.
bool eventually(const std::function<bool()>& pred, std::chrono::milliseconds limit);

/// A UDP port free on every one of `hosts` at the time of the call.
unsigned short free_udp_port(const std::vector<std::string>& hosts);
/// A TCP port free on every one of `hosts` at the time of the call.
unsigned short free_tcp_port(const std::vector<std::string>& hosts);

/// Does something accept TCP connections at host:port (IPv4)? Gives up after 2 s.
bool tcp_connects(const std::string& host, std::uint16_t port);

std::string temp_dir();

/// Does `text` (a log, a program's output) contain `part`?
bool contains(const std::string& text, const std::string& part);  // a fresh directory under $TMPDIR or /tmp

}  // namespace sova::testing
