#pragma once
// Child processes with their output in files: the demo's nodes and backends, and the
// integration tests' processes. Start, signal, wait with a bound, kill on destruction.

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include <sys/types.h>

namespace sova::apps {

/// Starts `argv` (argv[0] is a path) with stdin on /dev/null and stdout/stderr appended
/// to the two files (they may be the same). Throws std::runtime_error on failure.
pid_t spawn_logged(const std::vector<std::string>& argv, const std::string& out_path,
                   const std::string& err_path);

/// Waits up to `limit` for `pid` to end: its exit status (128 + signal when a signal
/// ended it), or nothing when it is still running at the limit.
std::optional<int> wait_exit(pid_t pid, std::chrono::milliseconds limit);

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
  const std::string& log_path() const { return log_path_; }
  pid_t pid() const { return pid_; }

private:
  pid_t pid_ = -1;
  std::string log_path_;
  std::optional<int> status_;
};

/// This program's own path (from /proc/self/exe), to start more of itself. Throws
/// std::runtime_error when it cannot be read.
std::string own_executable();

/// The whole content of a file ("" when it cannot be read).
std::string read_file(const std::string& path);

}  // namespace sova::apps
