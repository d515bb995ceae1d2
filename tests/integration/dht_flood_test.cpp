// A real `sova-dc node` process flooded for a bounded time on loopback: mutated captured
// datagrams, random bytes, valid requests from made-up ids at full speed from 32
// addresses, and a hostile peer that answers the node's calls with alternately valid
// and garbage replies. The node must keep answering an honest peer's pings, keep its
// memory bounded, and stop within seconds of SIGTERM.
#define CAF_SUITE integration_dht_flood
#include "caf/test/unit_test.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <sstream>
#include <thread>

#include <nlohmann/json.hpp>

#include "net/wire.hpp"
#include "process.hpp"
#include "serving_fixture.hpp"

using namespace sova;
using namespace sova::testing;
using namespace std::chrono_literals;
using net::wire::rpc_kind;

namespace {

using clock_type = std::chrono::steady_clock;

/// A non-blocking UDP socket bound to `host` (any free port).
class udp_socket {
public:
  explicit udp_socket(const std::string& host) {
    fd_ = ::socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    CAF_REQUIRE(fd_ >= 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    ::inet_pton(AF_INET, host.c_str(), &a.sin_addr);
    CAF_REQUIRE_EQUAL(::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
    socklen_t len = sizeof a;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
  }
  ~udp_socket() { ::close(fd_); }
  udp_socket(const udp_socket&) = delete;
  udp_socket& operator=(const udp_socket&) = delete;

  void send(const std::string& host, std::uint16_t port, const std::string& bytes) {
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    ::inet_pton(AF_INET, host.c_str(), &a.sin_addr);
    ::sendto(fd_, bytes.data(), bytes.size(), 0, reinterpret_cast<sockaddr*>(&a), sizeof a);
  }
  /// The next datagram waiting, if any.
  std::optional<std::string> receive() {
    char buf[65536];
    auto n = ::recv(fd_, buf, sizeof buf, 0);
    if (n < 0) return std::nullopt;
    return std::string(buf, static_cast<std::size_t>(n));
  }
  std::uint16_t port() const { return port_; }

private:
  int fd_ = -1;
  std::uint16_t port_ = 0;
};

std::string unhex(const std::string& hex) {
  std::string out;
  for (std::size_t i = 0; i + 1 < hex.size(); i += 2)
    out.push_back(static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16)));
  return out;
}

/// The captured datagrams of the original network (requests and replies), framed.
std::vector<std::string> captured_datagrams() {
  std::ifstream in(SOVA_SHARED_DIR "/protocol/kademlia-2.2.2-capture.jsonl");
  std::vector<std::string> out;
  std::string line;
  while (std::getline(in, line)) {
    auto j = nlohmann::json::parse(line);
    auto kind = j["kind"].get<std::string>();
    std::string d(1, kind == "request" ? '\0' : '\1');
    d += unhex(j["msg_id"].get<std::string>()) + unhex(j["body_hex"].get<std::string>());
    out.push_back(std::move(d));
  }
  return out;
}

std::string frame(bool response, std::mt19937_64& rng, const std::string& body) {
  net::wire::frame f;
  f.is_response = response;
  for (auto& b : f.id) b = static_cast<std::uint8_t>(rng());
  f.body = body;
  return net::wire::encode_frame(f);
}

std::string request(std::mt19937_64& rng, rpc_kind kind, const net::node_id& sender) {
  net::wire::request r;
  r.kind = kind;
  r.sender = sender;
  r.key = net::node_id::random(rng);
  if (kind == rpc_kind::store) r.values = {"tts/cpu/192.0.2." + std::to_string(rng() % 250) + ":8899"};
  return frame(false, rng, net::wire::encode_request(r));
}

/// One flooding datagram: a mutated capture, random bytes, or a valid request from a
/// made-up id.
std::string flood_datagram(std::mt19937_64& rng, const std::vector<std::string>& captures) {
  switch (rng() % 5) {
    case 0: {
      auto d = captures[rng() % captures.size()];
      for (int flips = 1 + static_cast<int>(rng() % 4); flips > 0 && !d.empty(); --flips)
        d[rng() % d.size()] ^= static_cast<char>(1u << (rng() % 8));
      if (rng() % 4 == 0) d.resize(rng() % (d.size() + 1));
      return d;
    }
    case 1: {
      std::string d(rng() % 1500, '\0');
      for (auto& c : d) c = static_cast<char>(rng());
      return d;
    }
    case 2: return request(rng, rpc_kind::ping, net::node_id::random(rng));
    case 3: return request(rng, rpc_kind::find_node, net::node_id::random(rng));
    default: return request(rng, rpc_kind::store, net::node_id::random(rng));
  }
}

/// The hostile peer: answers each call of the node; stores alternately with `true` and
/// garbage, everything else with a valid reply.
void answer_as_hostile(udp_socket& s, const std::string& node_host, std::uint16_t node_port,
                       const net::node_id& me, bool& good_turn) {
  while (auto d = s.receive()) {
    auto f = net::wire::parse_frame(*d);
    if (!f || f->is_response) continue;
    auto req = net::wire::decode_request(f->body);
    if (!req) continue;
    net::wire::reply rep;
    rep.id = me;
    rep.stored = true;
    net::wire::frame out;
    out.is_response = true;
    out.id = f->id;
    if (req->kind == rpc_kind::store && !(good_turn = !good_turn))
      out.body = "\xc1garbage";
    else
      out.body = net::wire::encode_reply(req->kind, rep);
    s.send(node_host, node_port, net::wire::encode_frame(out));
  }
}

/// The kernel's view of the UDP socket bound to `host:port`: bytes waiting in its
/// receive queue and datagrams dropped because the queue was full (/proc/net/udp).
struct socket_queue {
  long waiting = 0;
  long dropped = 0;
};

socket_queue udp_socket_queue(const std::string& host, std::uint16_t port) {
  in_addr a{};
  ::inet_pton(AF_INET, host.c_str(), &a);
  char local[32];
  std::snprintf(local, sizeof local, "%08X:%04X", a.s_addr, port);
  std::ifstream in("/proc/net/udp");
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    std::string slot, addr, remote, state, queues;
    fields >> slot >> addr >> remote >> state >> queues;
    if (addr != local) continue;
    socket_queue q;
    q.waiting = std::stol(queues.substr(queues.find(':') + 1), nullptr, 16);
    std::string field;
    while (fields >> field) q.dropped = std::atol(field.c_str());  // the last field
    return q;
  }
  return {};
}

/// Resident memory of `pid` in KiB (0 when unreadable).
long rss_kib(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("VmRSS:", 0) == 0) return std::atol(line.c_str() + 6);
  return 0;
}

}  // namespace

CAF_TEST(a_flooded_node_keeps_answering_keeps_memory_bounded_and_stops_at_once) {
  const std::string node_host = "127.0.0.2";
  auto port = free_udp_port({node_host});
  auto dir = temp_dir();
  // ASan keeps freed memory in quarantine (256 MB by default), which would hide what the
  // node really holds: keep it small for the child.
  std::string asan = std::getenv("ASAN_OPTIONS") ? std::getenv("ASAN_OPTIONS") : "";
  ::setenv("ASAN_OPTIONS", (asan + (asan.empty() ? "" : ":") + "quarantine_size_mb=16").c_str(), 1);
  child_process node({SOVA_DC_BINARY, "node", "--bind", node_host, "--port", std::to_string(port),
                      "--http-port", "0", "--admin-port", "0", "--log-level", "info"},
                     dir + "/node.log");
  ::setenv("ASAN_OPTIONS", asan.c_str(), 1);
  CAF_REQUIRE(eventually([&] { return contains(node.log(), "listening on udp"); }, 20s));

  std::mt19937_64 rng(7);
  auto captures = captured_datagrams();
  CAF_REQUIRE_EQUAL(captures.size(), 48u);

  // The hostile peer makes itself known and stores 200 keys (its store burst), so that
  // the node has keys to hand over to every newcomer.
  udp_socket hostile("127.0.0.3");
  auto hostile_id = net::node_id::random(rng);
  bool good_turn = false;
  for (int i = 0; i < 200; ++i) hostile.send(node_host, port, request(rng, rpc_kind::store, hostile_id));
  // The honest peer: a ping every 100 ms, each must be answered.
  udp_socket honest("127.0.0.4");
  auto honest_id = net::node_id::random(rng);
  std::map<std::string, clock_type::time_point> asked;  // message id -> when
  std::size_t answered = 0, late = 0;
  std::vector<double> waits_ms;

  std::vector<std::unique_ptr<udp_socket>> flooders;
  for (int i = 1; i <= 32; ++i) flooders.push_back(std::make_unique<udp_socket>("127.0.1." + std::to_string(i)));

  std::this_thread::sleep_for(500ms);
  long rss_before = rss_kib(node.pid());
  long rss_max = rss_before;
  std::uint64_t flooded = 0, paused = 0;
  auto start = clock_type::now();
  auto next_ping = start, next_sample = start;
  while (clock_type::now() - start < 20s) {
    // Flood as fast as the node reads, not faster: beyond that the kernel drops
    // datagrams before the node sees them, the honest peer's pings among them, and no
    // server can answer what it never received.
    if (udp_socket_queue(node_host, port).waiting > 128 * 1024) {
      ++paused;
      std::this_thread::sleep_for(1ms);
    } else
      for (int burst = 0; burst < 64; ++burst) {
        auto& s = *flooders[rng() % flooders.size()];
        s.send(node_host, port, flood_datagram(rng, captures));
        ++flooded;
      }
    answer_as_hostile(hostile, node_host, port, hostile_id, good_turn);
    // The hostile peer keeps pinging too, from new ids, so it looks new again and again.
    hostile.send(node_host, port, request(rng, rpc_kind::ping, net::node_id::random(rng)));
    auto now = clock_type::now();
    if (now >= next_ping) {
      auto d = request(rng, rpc_kind::ping, honest_id);
      asked.emplace(d.substr(1, net::wire::msg_id_size), now);
      honest.send(node_host, port, d);
      next_ping = now + 100ms;
    }
    while (auto d = honest.receive()) {
      auto f = net::wire::parse_frame(*d);
      if (!f || !f->is_response) continue;
      auto it = asked.find(std::string(f->id.begin(), f->id.end()));
      if (it == asked.end()) continue;
      auto wait = std::chrono::duration<double, std::milli>(clock_type::now() - it->second).count();
      waits_ms.push_back(wait);
      ++(wait <= 2000 ? answered : late);
      asked.erase(it);
    }
    if (now >= next_sample) {
      rss_max = std::max(rss_max, rss_kib(node.pid()));
      next_sample = now + 250ms;
    }
  }
  // Pings sent in the last two seconds may still be on their way.
  auto drain_until = clock_type::now() + 2s;
  while (clock_type::now() < drain_until) {
    while (auto d = honest.receive()) {
      auto f = net::wire::parse_frame(*d);
      if (!f) continue;
      auto it = asked.find(std::string(f->id.begin(), f->id.end()));
      if (it == asked.end()) continue;
      ++answered;
      asked.erase(it);
    }
    std::this_thread::sleep_for(10ms);
  }
  auto sent_pings = answered + late + asked.size();
  std::sort(waits_ms.begin(), waits_ms.end());
  double p99 = waits_ms.empty() ? 0 : waits_ms[waits_ms.size() * 99 / 100];
  CAF_MESSAGE("flooded " << flooded << " datagrams in 20 s from 32 addresses + a hostile peer; "
                         << "honest pings answered " << answered << "/" << sent_pings
                         << " (p99 " << p99 << " ms); RSS " << rss_before / 1024 << " -> max "
                         << rss_max / 1024 << " MiB; flood paused " << paused
                         << " times for the node to catch up; the node's socket dropped "
                         << udp_socket_queue(node_host, port).dropped << " datagrams");
  // What the node dropped, and why (its /metrics).
  auto log = node.log();
  auto at = log.find("and http " + node_host + ":");
  CAF_REQUIRE(at != std::string::npos);
  auto http_port = static_cast<std::uint16_t>(std::stoi(log.substr(at + 10 + node_host.size())));
  auto metrics = http_call(node_host, http_port, "GET", "/metrics");
  std::string drops;
  std::istringstream lines(metrics.response.body);
  for (std::string l; std::getline(lines, l);)
    if (l.rfind("sova_dc_dht_", 0) == 0) drops += "\n  " + l;
  CAF_MESSAGE("the node's counters:" << drops);
  CAF_CHECK_GREATER(sent_pings, 150u);
  CAF_CHECK_GREATER_OR_EQUAL(answered * 100, sent_pings * 90);
  // ASan's own bookkeeping grows with what was allocated; the node's live data stays
  // bounded (routing table, stores, backlog, pending calls).
  CAF_CHECK_LESS(rss_max - rss_before, 200L * 1024);

  auto stop_at = clock_type::now();
  node.signal(SIGTERM);
  auto status = node.wait_for(10s);
  auto took = std::chrono::duration<double>(clock_type::now() - stop_at).count();
  CAF_MESSAGE("SIGTERM to exit: " << took << " s");
  CAF_REQUIRE(status);
  CAF_CHECK_EQUAL(*status, 0);
  CAF_CHECK_LESS(took, 5.0);
}
