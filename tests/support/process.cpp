#include "process.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <random>
#include <stdexcept>
#include <thread>

namespace sova::testing {

run_result run(const std::vector<std::string>& argv, std::chrono::milliseconds limit) {
  auto dir = temp_dir();
  auto out = dir + "/out", err = dir + "/err";
  pid_t pid = apps::spawn_logged(argv, out, err);
  run_result r;
  auto status = apps::wait_exit(pid, limit);
  if (!status) {
    ::kill(pid, SIGKILL);
    apps::wait_exit(pid, std::chrono::seconds(5));
  }
  r.status = status ? *status : -1;
  r.out = apps::read_file(out);
  r.err = apps::read_file(err);
  std::remove(out.c_str());
  std::remove(err.c_str());
  ::rmdir(dir.c_str());
  return r;
}

bool eventually(const std::function<bool()>& pred, std::chrono::milliseconds limit) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  while (!pred()) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return true;
}

namespace {
bool port_free(int type, const std::string& host, unsigned short port) {
  int fd = ::socket(AF_INET, type, 0);
  if (fd < 0) return false;
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  inet_pton(AF_INET, host.c_str(), &a.sin_addr);
  bool ok = ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  ::close(fd);
  return ok;
}

unsigned short free_port(int type, const std::vector<std::string>& hosts) {
  std::mt19937 rng(std::random_device{}());
  std::uniform_int_distribution<int> pick(20000, 60000);
  for (int attempt = 0; attempt < 200; ++attempt) {
    auto port = static_cast<unsigned short>(pick(rng));
    bool all = true;
    for (const auto& h : hosts) all = all && port_free(type, h, port);
    if (all) return port;
  }
  throw std::runtime_error("no free port found on the test addresses");
}
}  // namespace

unsigned short free_udp_port(const std::vector<std::string>& hosts) {
  return free_port(SOCK_DGRAM, hosts);
}

unsigned short free_tcp_port(const std::vector<std::string>& hosts) {
  return free_port(SOCK_STREAM, hosts);
}

bool tcp_connects(const std::string& host, std::uint16_t port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  inet_pton(AF_INET, host.c_str(), &a.sin_addr);
  timeval limit{2, 0};  // for addresses that do not answer at all
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &limit, sizeof limit);
  bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  ::close(fd);
  return ok;
}

std::string temp_dir() {
  const char* base = std::getenv("TMPDIR");
  std::string tmpl = std::string(base && *base ? base : "/tmp") + "/sova-test-XXXXXX";
  std::vector<char> buf(tmpl.begin(), tmpl.end());
  buf.push_back('\0');
  if (!mkdtemp(buf.data())) throw std::runtime_error("mkdtemp failed");
  return buf.data();
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

}  // namespace sova::testing
