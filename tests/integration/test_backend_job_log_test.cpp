// sova_test_backend's service times and job log, which the routing benchmark relies on:
// with --service-mean-ms each job gets a drawn service time, the same sequence for the
// same --seed; --job-log writes one line per job, and in single mode the jobs' intervals
// never overlap (one worker) and each request's job appears once; a hung job is logged
// as such.
#define CAF_SUITE integration_test_backend_job_log
#include "caf/test/unit_test.hpp"

#include <algorithm>
#include <fstream>
#include <future>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "bench/job_log.hpp"
#include "serving_fixture.hpp"

using namespace sova;
using namespace sova::testing;
using namespace std::chrono_literals;

namespace {

http::client_result synthesize(const test_backend& b, const std::string& text) {
  auto body = nlohmann::json{{"text", text}, {"voice", "Natasha"}}.dump();
  return http_call("127.0.0.1", b.port, "POST", "/synthesize/", "application/json", body);
}

/// stats[key] by value (CAF's checks keep references past the full expression).
nlohmann::json stat(const test_backend& b, const char* key) {
  auto s = backend_stats(b);
  return s.contains(key) ? s[key] : nlohmann::json();
}

}  // namespace

CAF_TEST(concurrent_requests_run_one_at_a_time_each_logged_once) {
  auto dir = temp_dir();
  auto log_path = dir + "/jobs.log";
  test_backend b{"b1", dir, {"--service-mean-ms", "20", "--seed", "5", "--job-log", log_path}};
  std::vector<std::future<unsigned>> replies;
  std::set<std::string> sent;
  for (int i = 0; i < 8; ++i) {
    auto text = "job-" + std::to_string(i);
    sent.insert(text);
    replies.push_back(std::async(std::launch::async, [&b, text] {
      return synthesize(b, text).response.status;
    }));
  }
  for (auto& r : replies) CAF_CHECK_EQUAL(r.get(), 200u);
  auto entries = bench::read_job_log(log_path);  // every reply is sent after its line was flushed
  CAF_REQUIRE_EQUAL(entries.size(), 8u);
  std::set<std::string> logged;
  for (const auto& e : entries) {
    CAF_CHECK_EQUAL(e.outcome, "done");
    CAF_CHECK_GREATER_OR_EQUAL(e.end, e.start);
    logged.insert(e.id);
  }
  CAF_CHECK(logged == sent);  // each job once
  // One worker: in log order, each job starts after the one before ended.
  for (std::size_t i = 1; i < entries.size(); ++i)
    CAF_CHECK_GREATER_OR_EQUAL(entries[i].start, entries[i - 1].end);
  CAF_CHECK_EQUAL(stat(b, "peak_concurrent"), 1);
  // Drawn, not fixed: eight draws of an exponential distribution are not all equal.
  auto [low, high] = std::minmax_element(entries.begin(), entries.end(), [](auto& x, auto& y) {
    return x.service_ms < y.service_ms;
  });
  CAF_CHECK_LESS(low->service_ms, high->service_ms);
}

CAF_TEST(the_same_seed_draws_the_same_service_times) {
  auto dir = temp_dir();
  test_backend a{"a", dir, {"--service-mean-ms", "5", "--seed", "42", "--job-log", dir + "/a.log"}};
  test_backend b{"b", dir, {"--service-mean-ms", "5", "--seed", "42", "--job-log", dir + "/b.log"}};
  // A probe (empty text) is no job: it draws nothing and is not logged.
  CAF_CHECK_EQUAL(synthesize(b, "").response.status, 200u);
  for (int i = 0; i < 5; ++i) {
    CAF_CHECK_EQUAL(synthesize(a, "t" + std::to_string(i)).response.status, 200u);
    CAF_CHECK_EQUAL(synthesize(b, "t" + std::to_string(i)).response.status, 200u);
  }
  auto la = bench::read_job_log(dir + "/a.log");
  auto lb = bench::read_job_log(dir + "/b.log");
  CAF_REQUIRE_EQUAL(la.size(), 5u);
  CAF_REQUIRE_EQUAL(lb.size(), 5u);
  for (std::size_t i = 0; i < la.size(); ++i) {
    CAF_CHECK_EQUAL(la[i].service_ms, lb[i].service_ms);
    CAF_CHECK_EQUAL(la[i].id, lb[i].id);
  }
}

CAF_TEST(a_hung_job_is_logged_as_hung_and_the_worker_goes_on_after) {
  auto dir = temp_dir();
  auto log_path = dir + "/jobs.log";
  test_backend b{"b1", dir, {"--delay-ms", "1", "--job-log", log_path}};
  CAF_REQUIRE(control_backend(b, R"({"hang": true})"));
  auto held = std::async(std::launch::async, [&b] {
    return http_call("127.0.0.1", b.port, "POST", "/synthesize/", "application/json",
                     R"({"text": "stuck", "voice": "Natasha"})", 3s);
  });
  CAF_REQUIRE(eventually([&] { return stat(b, "faulted") == 1; }, 20s));
  CAF_REQUIRE(control_backend(b, R"({"hang": false})"));
  CAF_CHECK(!held.get().ok);  // never answered: the client gave up
  CAF_CHECK_EQUAL(synthesize(b, "after").response.status, 200u);
  auto entries = bench::read_job_log(log_path);
  CAF_REQUIRE_EQUAL(entries.size(), 2u);
  CAF_CHECK_EQUAL(entries[0].outcome, "hung");
  CAF_CHECK_EQUAL(entries[0].id, "stuck");
  CAF_CHECK_EQUAL(entries[0].service_ms, 0.0);
  CAF_CHECK_EQUAL(entries[1].outcome, "done");
  CAF_CHECK_EQUAL(entries[1].id, "after");
  CAF_CHECK_EQUAL(entries[1].service_ms, 1.0);
}
