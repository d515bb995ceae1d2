#pragma once
// --neighbours entries whose names do not resolve yet (a container whose service name
// exists only once it runs): resolved again on a backoff, 1 s doubling up to 60 s, on a
// thread of their own since name resolution blocks, and each handed on once it resolves
// (the node bootstraps through it). Exiting instead would split the network by start
// order again.

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "net/contact.hpp"

namespace sova::apps {

/// The backoff between tries of the names still unresolved.
struct neighbour_retry {
  std::chrono::milliseconds first{1000};
  std::chrono::milliseconds max{60000};
};

class late_neighbours {
public:
  /// HOST:PORT to a numeric endpoint, or nothing while it does not resolve.
  using resolver = std::function<std::optional<net::endpoint>(const std::string& entry)>;
  using found_handler = std::function<void(const std::string& entry, const net::endpoint& ep)>;

  /// Starts retrying `entries`; `found` runs on the retry thread. Without `resolve`:
  /// net::resolve_endpoints.
  late_neighbours(std::vector<std::string> entries, found_handler found, neighbour_retry t = {},
                  resolver resolve = {});
  ~late_neighbours();  // stop()
  late_neighbours(const late_neighbours&) = delete;
  late_neighbours& operator=(const late_neighbours&) = delete;

  /// Stops retrying and joins the thread; idempotent.
  void stop();

private:
  void run(std::vector<std::string> entries, found_handler found, neighbour_retry t,
           resolver resolve);

  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace sova::apps
