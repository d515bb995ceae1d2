// sova_test_worker: an engine worker for the worker-pool tests, speaking the frames of
// backends/frames.hpp on stdin/stdout like `sova-dc backend-worker`, with behaviour the
// job chooses:
//   "crash"      abort() (a crashing engine)
//   "hang"       never answer (a stuck engine)
//   "garbage"    write bytes that are not a frame, then wait for EOF
//   "sleep:N"    answer "slept N in PID" after N milliseconds
//   "pid"        answer this process's pid
//   anything     answered as "echo:" + the job
// `sova_test_worker fail-start` reports an engine that cannot load; `no-ready` exits
// without a word.

#include <chrono>
#include <cstdlib>
#include <string>
#include <thread>

#include <unistd.h>

#include "backends/frames.hpp"

using namespace sova::backends;

int main(int argc, char** argv) {
  std::string mode = argc > 1 ? argv[1] : "";
  if (mode == "fail-start") {
    write_frame(1, frame_tag::error, "model file /nonexistent is missing");
    return 1;
  }
  if (mode == "no-ready") return 3;
  write_frame(1, frame_tag::ready, "");
  for (;;) {
    frame job;
    auto s = read_frame(0, job, std::chrono::steady_clock::time_point::max(), 1 << 20);
    if (s != read_status::ok) return s == read_status::closed ? 0 : 1;
    const auto& p = job.payload;
    if (p == "crash") std::abort();
    if (p == "hang") {
      for (;;) std::this_thread::sleep_for(std::chrono::hours(1));
    }
    if (p == "garbage") {
      (void)!::write(1, "\x7fnot a frame at all, but more than five bytes", 46);
      continue;
    }
    std::string reply = "echo:" + p;
    if (p.rfind("sleep:", 0) == 0) {
      std::this_thread::sleep_for(std::chrono::milliseconds(std::atoi(p.c_str() + 6)));
      reply = "slept " + p.substr(6) + " in " + std::to_string(::getpid());
    } else if (p == "pid") {
      reply = std::to_string(::getpid());
    }
    if (!write_frame(1, frame_tag::ok, reply)) return 1;
  }
}
