#pragma once
// Child processes for the integration tests: start with output to a file, signal,
// wait with a bound, and run-to-completion with captured output.

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <sys/types.h>

namespace sova::testing {

class child_process {
public:
  /// Starts `argv` with stdout and stderr appended to `log_path`. Throws on failure.
  child_process(const std::vector<std::string>& argv, const std::string& log_path);
  ~child_process();  // kills (SIGKILL) and reaps the child if still running
  child_process(const child_process&) = delete;
  child_process& operator=(const child_process&) = delete;

  void signal(int sig);
  /// Waits up to `limit` for the child to exit; its exit status, or nothing.
  std::optional<int> wait_for(std::chrono::milliseconds limit);
  /// The whole log so far.
  std::string log() const;
  pid_t pid() const { return pid_; }

private:
  pid_t pid_ = -1;
  std::string log_path_;
  std::optional<int> status_;
};

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

std::string temp_dir();  // a fresh directory under $TMPDIR or /tmp

}  // namespace sova::testing
