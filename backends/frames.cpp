#include "backends/frames.hpp"

#include <cerrno>
#include <cstdint>

#include <poll.h>
#include <unistd.h>

namespace sova::backends {
namespace {

using clock = std::chrono::steady_clock;

bool write_all(int fd, const char* data, std::size_t size) {
  while (size > 0) {
    auto n = ::write(fd, data, size);
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    data += n;
    size -= static_cast<std::size_t>(n);
  }
  return true;
}

// Waits until `fd` is readable; false at the deadline.
bool wait_readable(int fd, clock::time_point deadline) {
  for (;;) {
    int timeout_ms = -1;
    if (deadline != clock::time_point::max()) {
      auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - clock::now()).count();
      if (left <= 0) return false;
      timeout_ms = left > 60000 ? 60000 : static_cast<int>(left);
    }
    pollfd p{fd, POLLIN, 0};
    int r = ::poll(&p, 1, timeout_ms);
    if (r > 0) return true;  // readable, or hung up: read() tells which
    if (r < 0 && errno != EINTR) return true;  // let read() report the error
  }
}

read_status read_exact(int fd, char* data, std::size_t size, clock::time_point deadline) {
  while (size > 0) {
    if (!wait_readable(fd, deadline)) return read_status::timeout;
    auto n = ::read(fd, data, size);
    if (n == 0) return read_status::closed;
    if (n < 0) {
      if (errno == EINTR || errno == EAGAIN) continue;
      return read_status::failed;
    }
    data += n;
    size -= static_cast<std::size_t>(n);
  }
  return read_status::ok;
}

}  // namespace

bool write_frame(int fd, char tag, std::string_view payload) {
  if (payload.size() > UINT32_MAX) return false;
  auto len = static_cast<std::uint32_t>(payload.size());
  char header[5] = {tag, static_cast<char>(len & 0xff), static_cast<char>(len >> 8 & 0xff),
                    static_cast<char>(len >> 16 & 0xff), static_cast<char>(len >> 24 & 0xff)};
  return write_all(fd, header, sizeof header) && write_all(fd, payload.data(), payload.size());
}

read_status read_frame(int fd, frame& out, clock::time_point deadline, std::size_t max_payload) {
  unsigned char header[5];
  if (auto s = read_exact(fd, reinterpret_cast<char*>(header), sizeof header, deadline);
      s != read_status::ok)
    return s;
  std::size_t len = header[1] | header[2] << 8 | header[3] << 16 |
                    static_cast<std::size_t>(header[4]) << 24;
  if (len > max_payload) return read_status::too_large;
  out.tag = static_cast<char>(header[0]);
  out.payload.resize(len);
  auto s = read_exact(fd, out.payload.data(), len, deadline);
  // A stream that ends inside a frame is a dead worker, not a clean close.
  return s == read_status::closed ? read_status::failed : s;
}

const char* to_string(read_status s) {
  switch (s) {
    case read_status::ok: return "ok";
    case read_status::closed: return "closed";
    case read_status::timeout: return "timeout";
    case read_status::too_large: return "too large";
    case read_status::failed: return "failed";
  }
  return "?";
}

}  // namespace sova::backends
