#pragma once
// Tagged, length-prefixed frames over pipes: how the backend hands jobs to its engine
// worker processes and reads their replies. A frame is one tag byte, a 32-bit
// little-endian length and that many bytes. Blocking I/O on file descriptors.

#include <chrono>
#include <cstddef>
#include <string>
#include <string_view>

namespace sova::backends {

namespace frame_tag {
constexpr char job = 'j';    // backend -> worker: one unit of work
constexpr char ready = 'r';  // worker -> backend: engine loaded, waiting for jobs
constexpr char ok = 'o';     // worker -> backend: the job's result
constexpr char error = 'e';  // worker -> backend: the engine could not start (message)
}  // namespace frame_tag

struct frame {
  char tag = 0;
  std::string payload;
};

/// Writes the whole frame; false when the other end is gone (EPIPE) or on another error.
bool write_frame(int fd, char tag, std::string_view payload);

enum class read_status { ok, closed, timeout, too_large, failed };

/// Reads one frame. `deadline` bounds the whole read (time_point::max(): no bound);
/// frames whose payload exceeds `max_payload` are refused (the stream is then unusable).
read_status read_frame(int fd, frame& out, std::chrono::steady_clock::time_point deadline,
                       std::size_t max_payload);

const char* to_string(read_status s);

}  // namespace sova::backends
