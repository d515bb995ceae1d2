#include "backends/worker_pool.hpp"

#include <cerrno>
#include <csignal>
#include <cstring>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <utility>

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <spdlog/spdlog.h>

#include "backends/frames.hpp"

extern char** environ;

namespace sova::backends {
namespace {

using clock = std::chrono::steady_clock;

struct worker_process {
  pid_t pid = -1;
  int to_child = -1;    // the worker's stdin
  int from_child = -1;  // the worker's stdout
};

void close_fd(int& fd) {
  if (fd >= 0) ::close(fd);
  fd = -1;
}

// Starts `argv` with its stdin and stdout on fresh pipes and no other descriptor of ours.
worker_process spawn(const std::vector<std::string>& argv) {
  int in[2], out[2];
  if (::pipe2(in, O_CLOEXEC) != 0) throw std::runtime_error(std::string("pipe: ") + std::strerror(errno));
  if (::pipe2(out, O_CLOEXEC) != 0) {
    ::close(in[0]);
    ::close(in[1]);
    throw std::runtime_error(std::string("pipe: ") + std::strerror(errno));
  }
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, in[0], 0);
  posix_spawn_file_actions_adddup2(&fa, out[1], 1);
  // The HTTP listener and other workers' pipes must not leak into a worker.
  posix_spawn_file_actions_addclosefrom_np(&fa, 3);
  // Workers leave SIGINT/SIGTERM to the backend (a Ctrl-C must not kill a job half-way;
  // the backend ends them by closing their stdin) and get back the SIGPIPE we ignore.
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t mask, defaults;
  sigemptyset(&mask);
  sigaddset(&mask, SIGINT);
  sigaddset(&mask, SIGTERM);
  sigemptyset(&defaults);
  sigaddset(&defaults, SIGPIPE);
  posix_spawnattr_setsigmask(&attr, &mask);
  posix_spawnattr_setsigdefault(&attr, &defaults);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = -1;
  int rc = ::posix_spawn(&pid, args[0], &fa, &attr, args.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  posix_spawnattr_destroy(&attr);
  ::close(in[0]);
  ::close(out[1]);
  if (rc != 0) {
    ::close(in[1]);
    ::close(out[0]);
    throw std::runtime_error("cannot start " + argv[0] + ": " + std::strerror(rc));
  }
  return {pid, in[1], out[0]};
}

// Waits up to `grace` for the worker to exit, then kills it; says how it ended.
std::string reap(pid_t pid, std::chrono::milliseconds grace) {
  int status = 0;
  auto deadline = clock::now() + grace;
  pid_t r = 0;
  while ((r = ::waitpid(pid, &status, WNOHANG)) == 0 && clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  if (r == 0) {
    ::kill(pid, SIGKILL);
    ::waitpid(pid, &status, 0);
    return "was killed";
  }
  if (r < 0) return "was lost";
  if (WIFSIGNALED(status)) return std::string("died of ") + ::strsignal(WTERMSIG(status));
  return "exited with status " + std::to_string(WEXITSTATUS(status));
}

// Closes the worker's pipes (EOF tells it to exit) and reaps it.
std::string end(worker_process& w, std::chrono::milliseconds grace) {
  close_fd(w.to_child);
  close_fd(w.from_child);
  std::string how = w.pid > 0 ? reap(w.pid, grace) : "was not running";
  w.pid = -1;
  return how;
}

}  // namespace

struct worker_pool::impl {
  worker_pool_options opts;
  mutable std::mutex mu;
  std::condition_variable work_cv;     // a job was queued, or the pool is stopping
  std::condition_variable started_cv;  // a worker finished loading (or failed to)
  std::condition_variable taken_cv;    // a worker took a job from the queue
  std::deque<std::pair<std::string, callback>> queue;
  bool refusing = false;  // stop() began: no new jobs
  bool stopping = false;  // the workers end once their job is done
  std::size_t started = 0;
  std::vector<std::string> start_errors;
  worker_pool_stats counters;
  std::vector<std::thread> threads;

  const std::string& name() const { return opts.name; }

  // Starts a worker and waits for its engine; on failure, the reason.
  std::string launch(worker_process& w) {
    try {
      w = spawn(opts.command);
    } catch (const std::exception& e) {
      return e.what();
    }
    frame f;
    auto s = read_frame(w.from_child, f, clock::now() + opts.start_timeout, 64 * 1024);
    if (s == read_status::ok && f.tag == frame_tag::ready) return {};
    std::string why = s == read_status::ok && f.tag == frame_tag::error ? f.payload
                      : s == read_status::timeout ? "its engine did not load in time"
                                                  : std::string("no ready signal (") + to_string(s) + ")";
    auto how = end(w, std::chrono::milliseconds(s == read_status::timeout ? 0 : 2000));
    return why + " (the worker " + how + ")";
  }

  job_reply run_job(worker_process& w, const std::string& payload, std::size_t index) {
    if (w.pid < 0) {
      if (auto err = launch(w); !err.empty())
        return {false, name() + " engine worker could not be started: " + err};
      note_restart();
    }
    frame f;
    auto s = read_status::failed;
    if (write_frame(w.to_child, frame_tag::job, payload))
      s = read_frame(w.from_child, f, clock::now() + opts.job_timeout, opts.max_reply);
    if (s == read_status::ok && f.tag == frame_tag::ok) return {true, std::move(f.payload)};
    std::string why = s == read_status::timeout
                          ? fmt::format("did not answer within {:g} s", opts.job_timeout.count() / 1000.0)
                      : s == read_status::ok ? "sent an unexpected frame"
                                             : std::string("stopped answering (") + to_string(s) + ")";
    pid_t pid = w.pid;
    auto how = end(w, std::chrono::milliseconds(s == read_status::timeout ? 0 : 1000));
    spdlog::warn("{} worker {} (pid {}) {} and {}; starting it again", name(), index, pid, why, how);
    if (is_stopping()) return {false, name() + " engine worker " + why + " during shutdown"};
    if (auto err = launch(w); err.empty())
      note_restart();
    else
      spdlog::error("{} worker {} could not be started again: {}", name(), index, err);
    return {false, name() + " engine worker " + why + " and " + how + "; it was restarted"};
  }

  bool is_stopping() const {
    std::lock_guard<std::mutex> lock(mu);
    return stopping;
  }

  void note_restart() {
    std::lock_guard<std::mutex> lock(mu);
    ++counters.restarts;
  }

  void run(std::size_t index) {
    worker_process w;
    auto err = launch(w);
    {
      std::lock_guard<std::mutex> lock(mu);
      ++started;
      if (!err.empty()) start_errors.push_back(std::move(err));
    }
    started_cv.notify_all();
    for (;;) {
      std::pair<std::string, callback> job;
      {
        std::unique_lock<std::mutex> lock(mu);
        work_cv.wait(lock, [&] { return stopping || !queue.empty(); });
        if (queue.empty()) break;  // stopping
        job = std::move(queue.front());
        queue.pop_front();
        ++counters.busy;
      }
      taken_cv.notify_all();
      auto reply = run_job(w, job.first, index);
      {
        std::lock_guard<std::mutex> lock(mu);
        --counters.busy;
        ++(reply.ok ? counters.served : counters.failed);
      }
      job.second(std::move(reply));
    }
    end(w, std::chrono::milliseconds(2000));
  }
};

std::unique_ptr<worker_pool> worker_pool::start(worker_pool_options opts) {
  if (opts.command.empty()) throw std::invalid_argument("worker_pool: no worker command");
  if (opts.workers == 0) throw std::invalid_argument("worker_pool: at least one worker");
  // A worker that dies mid-write would otherwise kill the whole backend with SIGPIPE.
  std::signal(SIGPIPE, SIG_IGN);
  std::unique_ptr<worker_pool> pool(new worker_pool());
  pool->impl_ = std::make_unique<impl>();
  auto& d = *pool->impl_;
  d.opts = std::move(opts);
  d.counters.workers = d.opts.workers;
  for (std::size_t i = 0; i < d.opts.workers; ++i) d.threads.emplace_back([&d, i] { d.run(i); });
  std::string first_error;
  {
    std::unique_lock<std::mutex> lock(d.mu);
    d.started_cv.wait(lock, [&] { return d.started == d.opts.workers; });
    if (!d.start_errors.empty()) first_error = d.start_errors.front();
  }
  if (!first_error.empty()) {
    pool->stop();
    throw std::runtime_error(first_error);
  }
  return pool;
}

worker_pool::~worker_pool() { stop(); }

bool worker_pool::submit(std::string payload, callback done) {
  {
    std::lock_guard<std::mutex> lock(impl_->mu);
    if (impl_->refusing || impl_->queue.size() >= impl_->opts.max_queue) {
      ++impl_->counters.rejected;
      return false;
    }
    impl_->queue.emplace_back(std::move(payload), std::move(done));
  }
  impl_->work_cv.notify_one();
  return true;
}

worker_pool_stats worker_pool::stats() const {
  std::lock_guard<std::mutex> lock(impl_->mu);
  auto s = impl_->counters;
  s.queued = impl_->queue.size();
  return s;
}

bool worker_pool::stopping() const {
  std::lock_guard<std::mutex> lock(impl_->mu);
  return impl_->refusing;
}

void worker_pool::stop(std::chrono::milliseconds finish_queued) {
  if (!impl_) return;
  std::deque<std::pair<std::string, callback>> dropped;
  {
    std::unique_lock<std::mutex> lock(impl_->mu);
    if (impl_->stopping && impl_->threads.empty()) return;
    impl_->refusing = true;
    if (finish_queued > std::chrono::milliseconds::zero() && !impl_->queue.empty()) {
      spdlog::info("{}: finishing {} queued job(s), for {:g} s at most", impl_->name(),
                   impl_->queue.size(), finish_queued.count() / 1000.0);
      impl_->taken_cv.wait_for(lock, finish_queued, [this] { return impl_->queue.empty(); });
    }
    impl_->stopping = true;
    dropped.swap(impl_->queue);
    impl_->counters.failed += dropped.size();
  }
  impl_->work_cv.notify_all();
  for (auto& job : dropped) job.second({false, "the backend is shutting down"});
  for (auto& t : impl_->threads)
    if (t.joinable()) t.join();
  impl_->threads.clear();
}

}  // namespace sova::backends
