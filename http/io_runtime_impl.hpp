#pragma once
// The inside of http::io_runtime, for the files that run Asio on it.

#include <atomic>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>

#include "http/io_runtime.hpp"

namespace sova::http {

struct io_runtime::impl {
  explicit impl(std::size_t threads)
      : io(static_cast<int>(threads)), thread_count(threads), work(io.get_executor()) {}

  /// An executor whose handlers never run at the same time, for one connection: with
  /// one thread the io_context is that already (an implicit strand); a real strand
  /// would only add a lock and a queue to every completion.
  boost::asio::any_io_executor serial_executor() {
    if (thread_count == 1) return io.get_executor();
    return boost::asio::make_strand(io);
  }

  boost::asio::io_context io;
  const std::size_t thread_count;
  std::optional<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>> work;
  std::vector<std::thread> threads;
  std::once_flag stopped;
  std::atomic<bool> stopping{false};
  std::optional<boost::asio::steady_timer> heap_timer;  // heap_policy's give-back; io threads only
};

}  // namespace sova::http
