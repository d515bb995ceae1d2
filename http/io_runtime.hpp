#pragma once
// The io threads an http::server and an http::client can share. A node gives both the
// same runtime, so that a request, its call to a backend and the reply stay on one thread
// instead of being handed between two (each hand-over is a wake-up of another thread,
// which on a loaded machine costs more than the proxying itself). Asio stays out of here.

#include <cstddef>
#include <memory>

namespace sova::http {

class io_runtime {
public:
  /// Starts `threads` io threads (at least one).
  static std::shared_ptr<io_runtime> start(std::size_t threads);
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
