// --neighbours names that do not resolve at start: retried on a backoff until they do,
// each handed on exactly once, and stopping never waits for the backoff.
#define CAF_SUITE late_neighbours
#include <caf/test/unit_test.hpp>

#include <atomic>
#include <map>
#include <mutex>
#include <thread>

#include "apps/late_neighbours.hpp"

using namespace sova;
using namespace std::chrono_literals;
using apps::late_neighbours;

namespace {

/// Records what was found, thread-safely, and lets the test wait for it.
struct findings {
  std::mutex mutex;
  std::map<std::string, net::endpoint> found;
  std::map<std::string, int> tries;

  std::size_t found_count() {
    std::lock_guard<std::mutex> lock(mutex);
    return found.size();
  }
  int tries_of(const std::string& entry) {
    std::lock_guard<std::mutex> lock(mutex);
    return tries[entry];
  }
};

template <class Pred>
bool wait_until(Pred pred, std::chrono::milliseconds limit) {
  auto until = std::chrono::steady_clock::now() + limit;
  while (!pred()) {
    if (std::chrono::steady_clock::now() > until) return false;
    std::this_thread::sleep_for(5ms);
  }
  return true;
}

}  // namespace

CAF_TEST(a_name_is_handed_on_once_it_resolves_and_the_rest_keep_waiting) {
  findings f;
  auto resolve = [&](const std::string& entry) -> std::optional<net::endpoint> {
    std::lock_guard<std::mutex> lock(f.mutex);
    auto n = ++f.tries[entry];
    if (entry == "node2:5678" && n >= 3) return net::endpoint{"10.0.0.2", 5678};
    return std::nullopt;
  };
  late_neighbours late({"node2:5678", "never:5678"},
                       [&](const std::string& entry, const net::endpoint& ep) {
                         std::lock_guard<std::mutex> lock(f.mutex);
                         CAF_CHECK(f.found.emplace(entry, ep).second);  // once
                       },
                       {10ms, 40ms}, resolve);
  CAF_REQUIRE(wait_until([&] { return f.found_count() == 1; }, 10s));
  CAF_REQUIRE(wait_until([&] { return f.tries_of("never:5678") >= 6; }, 10s));
  late.stop();
  std::lock_guard<std::mutex> lock(f.mutex);
  CAF_CHECK_EQUAL(f.found.size(), 1u);
  CAF_CHECK_EQUAL(f.found.at("node2:5678").to_string(), "10.0.0.2:5678");
  CAF_CHECK_EQUAL(f.tries.at("node2:5678"), 3);  // never asked again once resolved
}

CAF_TEST(stopping_does_not_wait_for_the_backoff) {
  std::atomic<int> tries{0};
  auto started = std::chrono::steady_clock::now();
  {
    late_neighbours late({"never:5678"}, [](const std::string&, const net::endpoint&) {},
                         {std::chrono::hours(1), std::chrono::hours(1)},
                         [&](const std::string&) -> std::optional<net::endpoint> {
                           ++tries;
                           return std::nullopt;
                         });
  }
  // An hour's wait cut short: well under a minute even on a loaded machine.
  CAF_CHECK_LESS(std::chrono::steady_clock::now() - started, std::chrono::minutes(1));
  CAF_CHECK_EQUAL(tries.load(), 0);
}

CAF_TEST(the_default_resolver_reads_numeric_addresses_without_asking_anyone) {
  std::mutex mutex;
  std::optional<net::endpoint> got;
  late_neighbours late({"127.0.0.2:5678"},
                       [&](const std::string&, const net::endpoint& ep) {
                         std::lock_guard<std::mutex> lock(mutex);
                         got = ep;
                       },
                       {1ms, 1ms});
  CAF_REQUIRE(wait_until(
      [&] {
        std::lock_guard<std::mutex> lock(mutex);
        return got.has_value();
      },
      10s));
  CAF_CHECK_EQUAL(got->to_string(), "127.0.0.2:5678");
}
