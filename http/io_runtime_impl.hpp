#pragma once
// The inside of http::io_runtime, for the files that run Asio on it.

#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>

#include "http/io_runtime.hpp"

namespace sova::http {

struct io_runtime::impl {
  explicit impl(std::size_t threads) : io(static_cast<int>(threads)), work(io.get_executor()) {}
  boost::asio::io_context io;
  std::optional<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>> work;
  std::vector<std::thread> threads;
  std::once_flag stopped;
};

}  // namespace sova::http
