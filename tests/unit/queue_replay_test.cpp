// The routing benchmark's replays, summaries and job logs, on cases worked out by hand:
// a central FIFO queue takes the server that frees first, a fixed assignment queues per
// server, slow servers stretch the work, down windows hold starts, nearest-rank
// percentiles, and a census of job logs that finds jobs run twice.
#define CAF_SUITE queue_replay
#include "caf/test/unit_test.hpp"

#include <stdexcept>
#include <vector>

#include "bench/job_log.hpp"
#include "bench/latency_summary.hpp"
#include "bench/queue_replay.hpp"

using namespace sova::bench;

namespace {

std::vector<replay_server> plain(std::size_t n) { return std::vector<replay_server>(n); }

bool same(const std::vector<double>& a, const std::vector<double>& b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (a[i] - b[i] > 1e-9 || b[i] - a[i] > 1e-9) return false;
  return true;
}

/// `f` throws std::invalid_argument.
template <class F>
bool refused(F f) {
  try {
    f();
  } catch (const std::invalid_argument&) {
    return true;
  }
  return false;
}

// Arrivals 0, 1, 1.5, 2 with work 3, 1, 2, 1.
const std::vector<replay_job> four = {{0, 3}, {1, 1}, {1.5, 2}, {2, 1}};

}  // namespace

CAF_TEST(a_central_fifo_queue_gives_each_job_the_server_that_frees_first) {
  // j0 on s0 0-3; j1 on s1 1-2; j2 waits for s1: 2-4; j3 waits for s0: 3-4.
  CAF_CHECK(same(replay_central_fifo(four, plain(2)), {3, 1, 2.5, 2}));
  // One server: 0-3, 3-4, 4-6, 6-7.
  CAF_CHECK(same(replay_central_fifo(four, plain(1)), {3, 3, 4.5, 5}));
  // As many servers as jobs: nobody waits.
  CAF_CHECK(same(replay_central_fifo(four, plain(4)), {3, 1, 2, 1}));
}

CAF_TEST(jobs_are_replayed_by_arrival_and_answered_in_input_order) {
  std::vector<replay_job> reversed(four.rbegin(), four.rend());
  CAF_CHECK(same(replay_central_fifo(reversed, plain(2)), {2, 2.5, 1, 3}));
  CAF_CHECK(same(replay_assigned(reversed, {1, 1, 0, 0}, plain(2)), {2.5, 2, 3, 3}));
}

CAF_TEST(assigned_jobs_queue_at_their_own_server_even_when_another_is_idle) {
  // s0: j0 0-3, j1 3-4; s1: j2 1.5-3.5, j3 3.5-4.5.
  CAF_CHECK(same(replay_assigned(four, {0, 0, 1, 1}, plain(2)), {3, 3, 2, 2.5}));
  // Everything on s1 while s0 idles: as one server.
  CAF_CHECK(same(replay_assigned(four, {1, 1, 1, 1}, plain(2)), {3, 3, 4.5, 5}));
}

CAF_TEST(a_slow_server_stretches_the_work_and_loses_ties) {
  std::vector<replay_server> servers(2);
  servers[0].slowdown = 4;
  std::vector<replay_job> jobs = {{0, 1}, {0, 1}, {0.5, 1}};
  // j0: both free, the fast s1 wins the tie (0-1); j1 starts first on the slow s0 (0-4);
  // j2 waits for s1 (1-2) rather than s0 (free at 4).
  CAF_CHECK(same(replay_central_fifo(jobs, servers), {1, 4, 1.5}));
  CAF_CHECK(same(replay_assigned(jobs, {0, 1, 0}, servers), {4, 1, 7.5}));
}

CAF_TEST(no_job_starts_on_a_server_in_its_down_window) {
  std::vector<replay_server> one(1);
  one[0].down = {{1, 5}};
  // j0 started before the window and runs to its end (0-2); j1 is held until 5 (5-6).
  std::vector<replay_job> jobs = {{0, 2}, {1.5, 1}};
  CAF_CHECK(same(replay_assigned(jobs, {0, 0}, one), {2, 4.5}));
  CAF_CHECK(same(replay_central_fifo(jobs, one), {2, 4.5}));
  // With a second server the central queue goes round the hung one.
  std::vector<replay_server> two(2);
  two[0].down = {{0, 10}};
  CAF_CHECK(same(replay_central_fifo({{0, 1}, {0, 1}}, two), {1, 2}));
  // Overlapping windows, in any order: past both.
  replay_server s;
  s.down = {{2, 4}, {1, 3}};
  CAF_CHECK_EQUAL(earliest_start(s, 1.5), 4.0);
  CAF_CHECK_EQUAL(earliest_start(s, 0.5), 0.5);
  CAF_CHECK_EQUAL(earliest_start(s, 4.0), 4.0);
}

CAF_TEST(an_assignment_must_fit_the_jobs_and_servers) {
  CAF_CHECK(refused([] { replay_assigned(four, {0, 1}, plain(2)); }));
  CAF_CHECK(refused([] { replay_assigned(four, {0, 1, 2, 0}, plain(2)); }));
  CAF_CHECK(refused([] { replay_central_fifo(four, plain(0)); }));
  CAF_CHECK(replay_central_fifo({}, plain(0)).empty());
}

CAF_TEST(summaries_use_nearest_rank_percentiles) {
  std::vector<double> hundred;
  for (int i = 100; i >= 1; --i) hundred.push_back(i);
  auto s = summarize(hundred);
  CAF_CHECK_EQUAL(s.count, 100u);
  CAF_CHECK_EQUAL(s.mean, 50.5);
  CAF_CHECK_EQUAL(s.p50, 50.0);
  CAF_CHECK_EQUAL(s.p99, 99.0);
  CAF_CHECK_EQUAL(percentile({7, 1, 3}, 0.5), 3.0);
  CAF_CHECK_EQUAL(percentile({7, 1, 3}, 0.99), 7.0);
  CAF_CHECK_EQUAL(summarize({5}).p99, 5.0);
  CAF_CHECK_EQUAL(summarize({}).count, 0u);
  CAF_CHECK_EQUAL(summarize({}).mean, 0.0);
}

CAF_TEST(job_log_lines_parse_and_torn_ones_do_not) {
  auto e = parse_job_log_line("1700000000.250000\t1700000000.450000\t200.000\tdone\trun-a-7");
  CAF_REQUIRE(e.has_value());
  CAF_CHECK_EQUAL(e->start, 1700000000.25);
  CAF_CHECK_EQUAL(e->service_ms, 200.0);
  CAF_CHECK_EQUAL(e->outcome, "done");
  CAF_CHECK_EQUAL(e->id, "run-a-7");
  CAF_CHECK(parse_job_log_line("1.0\t1.0\t0.000\thung\tx y").has_value());
  CAF_CHECK(!parse_job_log_line("1700000000.25\t17000").has_value());
  CAF_CHECK(!parse_job_log_line("1.0\t2.0\t3.0\tlost\tid").has_value());
  CAF_CHECK(!parse_job_log_line("").has_value());
}

CAF_TEST(a_census_finds_work_jobs_run_twice_and_shares) {
  auto line = [](double start, double service_ms, const char* outcome, const char* id) {
    return job_log_entry{start, start + service_ms / 1000, service_ms, outcome, id};
  };
  std::vector<std::vector<job_log_entry>> logs = {
      {line(1, 200, "done", "p-1")},
      {line(2, 800, "done", "p-1"), line(3, 400, "done", "p-2"), line(4, 0, "hung", "p-3"),
       line(5, 100, "done", "other-1")}};
  auto c = take_census(logs, {1, 4}, "p-");
  // p-1 ran first on b0 (slowdown 1): 0.2 s; p-2 on b1 (slowdown 4): 0.4 / 4.
  CAF_CHECK_EQUAL(c.work.size(), 2u);
  CAF_CHECK_EQUAL(c.work["p-1"], 0.2);
  CAF_CHECK_EQUAL(c.work["p-2"], 0.1);
  CAF_CHECK_EQUAL(c.runs["p-1"], 2u);
  CAF_CHECK_EQUAL(c.run_twice, 1u);
  CAF_CHECK_EQUAL(c.hung, 1u);
  CAF_CHECK_EQUAL(c.done_per_backend, (std::vector<std::size_t>{1, 2}));
}
