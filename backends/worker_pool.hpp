#pragma once
// A pool of engine worker processes. Speech engines are slow to load and not thread-safe
// (espeak-ng keeps its state in globals), so each worker is a process holding one engine,
// loaded once, fed one job at a time over pipes (backends/frames). Jobs beyond the idle
// workers wait in a bounded queue. A worker that crashes, hangs past the job timeout or
// talks nonsense is killed and started again; the job it held fails, no other job does.
//
// Each worker has a dispatcher thread here that blocks on its pipes: nothing in the pool
// runs on the HTTP server's io threads.

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace sova::backends {

struct worker_pool_options {
  std::string name = "engine";       ///< for logs and messages: "tts", "asr"
  std::vector<std::string> command;  ///< argv of one worker (frames on its stdin/stdout)
  std::size_t workers = 1;
  std::size_t max_queue = 256;  ///< jobs waiting beyond this are refused
  std::chrono::milliseconds start_timeout{120000};  ///< to load an engine
  std::chrono::milliseconds job_timeout{300000};
  std::size_t max_reply = 512 * 1024 * 1024;
};

struct worker_pool_stats {
  std::size_t workers = 0;
  std::size_t busy = 0;
  std::size_t queued = 0;
  std::size_t served = 0;    ///< jobs answered by an engine
  std::size_t failed = 0;    ///< jobs lost to a crash, a timeout or shutdown
  std::size_t rejected = 0;  ///< submits refused: queue full or pool stopped
  std::size_t restarts = 0;  ///< workers started again after dying
};

struct job_reply {
  bool ok = false;
  std::string payload;  ///< the engine's answer; when !ok, why there is none
};

class worker_pool {
public:
  using callback = std::function<void(job_reply)>;

  /// Starts the workers and waits until every engine has loaded. Throws
  /// std::runtime_error with the worker's own message when one cannot start.
  static std::unique_ptr<worker_pool> start(worker_pool_options opts);
  ~worker_pool();  // stop()
  worker_pool(const worker_pool&) = delete;
  worker_pool& operator=(const worker_pool&) = delete;

  /// Queues a job; `done` runs once, on a dispatcher thread, with the reply. False (and
  /// `done` is not called) when the queue is full or the pool is stopping.
  bool submit(std::string payload, callback done);

  worker_pool_stats stats() const;
  /// True once stop() began: submit refuses everything from then on.
  bool stopping() const;

  /// Refuses new jobs; lets the workers go on taking queued jobs for up to `finish_queued`
  /// (0: none); then fails the jobs still queued, lets the running ones finish, ends the
  /// workers (EOF on their stdin, SIGKILL if one lingers) and joins the threads.
  void stop(std::chrono::milliseconds finish_queued = std::chrono::milliseconds::zero());

  struct impl;

private:
  worker_pool() = default;
  std::unique_ptr<impl> impl_;
};

}  // namespace sova::backends
