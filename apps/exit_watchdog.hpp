#pragma once
// A last resort for short-lived commands: when the process has not ended by a
// deadline, print a message and _exit. The actor system's shutdown waits for every
// actor, and an actor that waits on a reply its stopped peer dropped waits forever.

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>

namespace sova::apps {

class exit_watchdog {
public:
  using clock = std::chrono::steady_clock;

  /// Armed: at `at`, prints `message` to stderr, flushes stdio, and _exit(status).
  exit_watchdog(clock::time_point at, int status, std::string message);
  /// Disarms it: the process got this far by itself.
  ~exit_watchdog();
  exit_watchdog(const exit_watchdog&) = delete;
  exit_watchdog& operator=(const exit_watchdog&) = delete;

  /// A new deadline, status and message (e.g. once the outcome is printed).
  void rearm(clock::time_point at, int status, std::string message);

private:
  void watch();

  std::mutex mutex_;
  std::condition_variable changed_;
  bool disarmed_ = false;
  clock::time_point at_;
  int status_;
  std::string message_;
  std::thread thread_;  // last: it starts once the fields it reads are set
};

}  // namespace sova::apps
