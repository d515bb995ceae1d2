// The worker pool with real worker processes (sova_test_worker): jobs answered in order of
// arrival by whichever worker is idle, a bounded queue, and every way a worker can die
// (crash, hang past the timeout, garbage on its pipe) costing only the job it held: the
// worker is started again and the next job is served.
#define CAF_SUITE integration_worker_pool
#include "caf/test/unit_test.hpp"

#include <atomic>
#include <future>
#include <string>
#include <vector>

#include <signal.h>

#include "backends/worker_pool.hpp"
#include "process.hpp"

using namespace sova::backends;
using namespace std::chrono_literals;

namespace {

worker_pool_options options(std::size_t workers, std::vector<std::string> args = {}) {
  worker_pool_options o;
  o.name = "test";
  o.command = {SOVA_TEST_WORKER_BINARY};
  o.command.insert(o.command.end(), args.begin(), args.end());
  o.workers = workers;
  o.start_timeout = 10s;
  o.job_timeout = 2s;
  o.max_reply = 1 << 20;
  return o;
}

// Submits and waits (bounded) for the reply.
job_reply call(worker_pool& pool, const std::string& job) {
  auto p = std::make_shared<std::promise<job_reply>>();
  auto f = p->get_future();
  if (!pool.submit(job, [p](job_reply r) { p->set_value(std::move(r)); }))
    return {false, "refused"};
  if (f.wait_for(20s) != std::future_status::ready) return {false, "no reply in 20 s"};
  return f.get();
}

}  // namespace

CAF_TEST(jobs_are_answered_by_the_workers) {
  auto pool = worker_pool::start(options(2));
  auto r = call(*pool, "hello");
  CAF_CHECK(r.ok);
  CAF_CHECK_EQUAL(r.payload, "echo:hello");
  CAF_CHECK_EQUAL(call(*pool, "sleep:10").payload.substr(0, 12), "slept 10 in ");
  auto s = pool->stats();
  CAF_CHECK_EQUAL(s.workers, 2u);
  CAF_CHECK_EQUAL(s.served, 2u);
  CAF_CHECK_EQUAL(s.failed, 0u);
  CAF_CHECK_EQUAL(s.busy, 0u);
  CAF_CHECK_EQUAL(s.queued, 0u);
}

CAF_TEST(two_workers_serve_in_parallel) {
  auto pool = worker_pool::start(options(2));
  // Two slow jobs submitted together: each idle worker takes one, so two processes answer.
  auto a = std::async(std::launch::async, [&] { return call(*pool, "sleep:300"); });
  auto b = std::async(std::launch::async, [&] { return call(*pool, "sleep:300"); });
  auto ra = a.get(), rb = b.get();
  CAF_CHECK(ra.ok && rb.ok);
  CAF_CHECK_EQUAL(ra.payload.substr(0, 13), "slept 300 in ");
  CAF_CHECK_NOT_EQUAL(ra.payload, rb.payload);
}

CAF_TEST(the_queue_is_bounded_and_reported) {
  auto o = options(1);
  o.max_queue = 2;
  auto pool = worker_pool::start(o);
  std::atomic<int> done{0};
  pool->submit("sleep:500", [&](job_reply) { ++done; });
  CAF_REQUIRE(sova::testing::eventually([&] { return pool->stats().busy == 1; }, 5s));
  CAF_CHECK(pool->submit("a", [&](job_reply) { ++done; }));
  CAF_CHECK(pool->submit("b", [&](job_reply) { ++done; }));
  CAF_CHECK_EQUAL(pool->stats().queued, 2u);
  CAF_CHECK(!pool->submit("c", [&](job_reply) { ++done; }));  // full: refused, never called
  CAF_CHECK_EQUAL(pool->stats().rejected, 1u);
  CAF_CHECK(sova::testing::eventually([&] { return done == 3; }, 10s));
  CAF_CHECK_EQUAL(pool->stats().queued, 0u);
}

CAF_TEST(a_crashing_worker_costs_only_its_job) {
  auto pool = worker_pool::start(options(1));
  auto before = call(*pool, "pid").payload;
  auto r = call(*pool, "crash");
  CAF_CHECK(!r.ok);
  CAF_CHECK_NOT_EQUAL(r.payload.find("died of Aborted"), std::string::npos);
  CAF_CHECK_NOT_EQUAL(r.payload.find("restarted"), std::string::npos);
  auto after = call(*pool, "pid");
  CAF_CHECK(after.ok);
  CAF_CHECK_NOT_EQUAL(after.payload, before);  // a new process
  CAF_CHECK_EQUAL(call(*pool, "x").payload, "echo:x");
  auto s = pool->stats();
  CAF_CHECK_EQUAL(s.restarts, 1u);
  CAF_CHECK_EQUAL(s.failed, 1u);
}

CAF_TEST(a_worker_killed_from_outside_is_replaced) {
  auto pool = worker_pool::start(options(1));
  auto pid = std::stoi(call(*pool, "pid").payload);
  ::kill(pid, SIGKILL);
  auto r = call(*pool, "after");  // finds the pipe dead, fails, restarts
  if (!r.ok) r = call(*pool, "after");
  CAF_CHECK(r.ok);
  CAF_CHECK_EQUAL(r.payload, "echo:after");
  CAF_CHECK_EQUAL(pool->stats().restarts, 1u);
}

CAF_TEST(a_hanging_worker_is_killed_at_the_job_timeout) {
  auto o = options(1);
  o.job_timeout = 500ms;
  auto pool = worker_pool::start(o);
  auto t0 = std::chrono::steady_clock::now();
  auto r = call(*pool, "hang");
  CAF_CHECK(!r.ok);
  CAF_CHECK_NOT_EQUAL(r.payload.find("did not answer within"), std::string::npos);
  CAF_CHECK_LESS(std::chrono::steady_clock::now() - t0, 5s);
  CAF_CHECK_EQUAL(call(*pool, "y").payload, "echo:y");
}

CAF_TEST(garbage_on_the_pipe_fails_the_job_and_restarts) {
  auto pool = worker_pool::start(options(1));
  auto r = call(*pool, "garbage");
  CAF_CHECK(!r.ok);
  CAF_CHECK_EQUAL(call(*pool, "z").payload, "echo:z");
  CAF_CHECK_EQUAL(pool->stats().restarts, 1u);
}

CAF_TEST(an_engine_that_cannot_load_stops_the_start_with_its_message) {
  std::string what;
  try {
    worker_pool::start(options(2, {"fail-start"}));
  } catch (const std::runtime_error& e) {
    what = e.what();
  }
  CAF_CHECK_NOT_EQUAL(what.find("model file /nonexistent is missing"), std::string::npos);
  what.clear();
  try {
    worker_pool::start(options(1, {"no-ready"}));
  } catch (const std::runtime_error& e) {
    what = e.what();
  }
  CAF_CHECK_NOT_EQUAL(what.find("exited with status 3"), std::string::npos);
}

namespace {

/// A one-worker pool whose worker is running `job` (its reply goes to `running`).
std::unique_ptr<worker_pool> busy_pool(const std::string& job, std::promise<job_reply>& running) {
  auto pool = worker_pool::start(options(1));
  pool->submit(job, [&running](job_reply r) { running.set_value(r); });
  CAF_REQUIRE(sova::testing::eventually([&] { return pool->stats().busy == 1; }, 5s));
  return pool;
}

}  // namespace

CAF_TEST(stop_fails_queued_jobs_and_lets_the_running_one_finish) {
  std::promise<job_reply> running, queued;
  auto pool = busy_pool("sleep:400", running);
  pool->submit("never", [&](job_reply r) { queued.set_value(r); });
  pool->stop();
  auto q = queued.get_future().get();
  CAF_CHECK(!q.ok);
  CAF_CHECK_EQUAL(q.payload, "the backend is shutting down");
  auto r = running.get_future().get();
  CAF_CHECK(r.ok);
  CAF_CHECK_EQUAL(r.payload.substr(0, 13), "slept 400 in ");
  CAF_CHECK(!pool->submit("late", [](job_reply) {}));
}

CAF_TEST(stop_with_a_grace_runs_the_queued_jobs_it_has_time_for) {
  std::promise<job_reply> running, first, second;
  auto pool = busy_pool("sleep:300", running);
  pool->submit("sleep:10", [&](job_reply r) { first.set_value(r); });
  pool->submit("sleep:1000", [&](job_reply r) { second.set_value(r); });
  // The grace lasts until the queue is empty: both queued jobs are taken, one after the
  // other, and the last one taken is finished before stop() returns.
  pool->stop(20s);
  CAF_CHECK(!pool->submit("late", [](job_reply) {}));
  CAF_CHECK(running.get_future().get().ok);
  auto f = first.get_future().get();
  CAF_CHECK(f.ok);
  CAF_CHECK_EQUAL(f.payload.substr(0, 11), "slept 10 in");
  CAF_CHECK(second.get_future().get().ok);
}

CAF_TEST(stop_fails_what_is_still_queued_when_the_grace_is_over) {
  std::promise<job_reply> running, queued;
  auto pool = busy_pool("sleep:1500", running);
  pool->submit("never", [&](job_reply r) { queued.set_value(r); });
  pool->stop(200ms);  // over long before the running job ends
  auto q = queued.get_future().get();
  CAF_CHECK(!q.ok);
  CAF_CHECK_EQUAL(q.payload, "the backend is shutting down");
  CAF_CHECK(running.get_future().get().ok);
}
