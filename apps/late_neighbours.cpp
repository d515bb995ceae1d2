#include "apps/late_neighbours.hpp"

#include <algorithm>

#include <spdlog/spdlog.h>

#include "net/udp_port.hpp"

namespace sova::apps {

namespace {

std::optional<net::endpoint> resolve_one(const std::string& entry) {
  auto found = net::resolve_endpoints({entry}, nullptr);
  if (found.empty()) return std::nullopt;
  return found.front();
}

}  // namespace

late_neighbours::late_neighbours(std::vector<std::string> entries, found_handler found, neighbour_retry t,
                                 resolver resolve) {
  if (!resolve) resolve = resolve_one;
  thread_ = std::thread([this, entries = std::move(entries), found = std::move(found), t,
                         resolve = std::move(resolve)]() mutable {
    run(std::move(entries), std::move(found), t, std::move(resolve));
  });
}

late_neighbours::~late_neighbours() { stop(); }

void late_neighbours::stop() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void late_neighbours::run(std::vector<std::string> entries, found_handler found, neighbour_retry t,
                          resolver resolve) {
  auto delay = t.first;
  while (!entries.empty()) {
    {
      std::unique_lock<std::mutex> lock(mutex_);
      if (wake_.wait_for(lock, delay, [this] { return stopping_; })) return;
    }
    std::vector<std::string> still;
    for (auto& entry : entries) {
      if (auto ep = resolve(entry))
        found(entry, *ep);
      else
        still.push_back(std::move(entry));
    }
    entries = std::move(still);
    delay = std::min(delay * 2, t.max);
    if (!entries.empty())
      spdlog::debug("{} --neighbours entr{} still unresolved; next try in {} s", entries.size(),
                    entries.size() == 1 ? "y" : "ies", delay.count() / 1000.0);
  }
}

}  // namespace sova::apps
