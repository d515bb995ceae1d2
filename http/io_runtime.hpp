#pragma once
// The io threads an http::server and an http::client can share. A node gives both the
// same runtime, so that a request, its call to a backend and the reply stay on one thread
// instead of being handed between two (each hand-over is a wake-up of another thread,
// which on a loaded machine costs more than the proxying itself). Asio stays out of here.

#include <chrono>
#include <cstddef>
#include <memory>

namespace sova::http {

/// How the process's heap treats the bodies relayed on these threads. With `kept` 0
/// (the default) glibc's own policy stays: it gives back what passes 128 KB at a heap's
/// top, so each next body faulted its pages in again (5 page faults per 276 KB reply and
/// 109 per 1 MiB upload, measured). Else up to `kept` bytes of freed memory stay in the
/// heap, bodies under that size come from it, every thread allocates from the one heap
/// that malloc_trim can shrink, and every `give_back_every` what lies free goes back to
/// the kernel, so that a process gone idle is its idle size again. Process-wide, and
/// set before the threads start: one runtime per process may ask for it.
struct heap_policy {
  std::size_t kept = 0;
  std::chrono::milliseconds give_back_every{5000};
};

class io_runtime {
public:
  /// Starts `threads` io threads (at least one).
  static std::shared_ptr<io_runtime> start(std::size_t threads, heap_policy heap = {});
  ~io_runtime();  // stops

  io_runtime(const io_runtime&) = delete;
  io_runtime& operator=(const io_runtime&) = delete;

  /// Lets the threads finish the work left and joins them; idempotent. Stop the servers
  /// and clients on the runtime first: until they are stopped there is always work left.
  /// Called from an io thread, it cannot join that thread, which ends by itself.
  void stop();

  struct impl;  // io_runtime_impl.hpp, for server.cpp and client.cpp
  impl& internals() { return *impl_; }

private:
  io_runtime() = default;
  std::shared_ptr<impl> impl_;
};

}  // namespace sova::http
