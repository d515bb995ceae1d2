#include "apps/exit_watchdog.hpp"

#include <unistd.h>

#include <cstdio>

namespace sova::apps {

exit_watchdog::exit_watchdog(clock::time_point at, int status, std::string message)
    : at_(at), status_(status), message_(std::move(message)), thread_([this] { watch(); }) {}

exit_watchdog::~exit_watchdog() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    disarmed_ = true;
  }
  changed_.notify_all();
  thread_.join();
}

void exit_watchdog::rearm(clock::time_point at, int status, std::string message) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    at_ = at;
    status_ = status;
    message_ = std::move(message);
  }
  changed_.notify_all();
}

void exit_watchdog::watch() {
  std::unique_lock<std::mutex> lock(mutex_);
  while (!disarmed_) {
    changed_.wait_until(lock, at_);
    if (disarmed_ || clock::now() < at_) continue;  // woken early or rearmed
    if (!message_.empty()) std::fprintf(stderr, "%s\n", message_.c_str());
    std::fflush(nullptr);  // _exit does not flush what the outcome printed
    ::_exit(status_);
  }
}

}  // namespace sova::apps
