// Issue 20's ownership model with real processes: four one-worker test backends (one job
// at a time, the rest in their listen queue, like a real SOVA server), three nodes owning
// them (node 0: two, nodes 1 and 2: one each) and announcing their own endpoints. Requests
// through every node are placed by late binding across the owners. No backend ever holds
// two jobs at once (each owner hands a backend one job at a time), no job runs twice (job
// logs), every request is served; then one owner node is killed, and the requests that
// reach the others are still served, by the backends the survivors own.
#define CAF_SUITE integration_owners
#include "caf/test/unit_test.hpp"

#include <atomic>
#include <csignal>
#include <fstream>
#include <map>
#include <mutex>
#include <thread>

#include <nlohmann/json.hpp>

#include "bench/job_log.hpp"
#include "serving_fixture.hpp"

using namespace sova;
using namespace sova::testing;
using namespace std::chrono_literals;
using nlohmann::json;

namespace {

std::string host(int i) { return "127.0.0." + std::to_string(i + 2); }

struct outcome_counts {
  std::atomic<int> ok{0};
  std::mutex mutex;
  std::vector<std::string> failures;
};

/// `total` TTS requests with texts "<prefix>-N", from 6 client threads, each through
/// one of `nodes` in turn.
void send_load(const std::vector<node_process*>& nodes, const std::string& prefix, int total,
               outcome_counts& out) {
  std::atomic<int> next{0};
  auto worker = [&] {
    for (int i = next++; i < total; i = next++) {
      auto& n = *nodes[static_cast<std::size_t>(i) % nodes.size()];
      auto text = prefix + "-" + std::to_string(i);
      auto r = http_call(n.host, n.http_port, "POST", "/synthesize", "application/json",
                         json{{"text", text}, {"voice", "Natasha"}}.dump(), 60s);
      bool good = r.ok && r.response.status == 200 &&
                  r.response.body.find("response_audio") != std::string::npos;
      if (good) {
        ++out.ok;
        continue;
      }
      std::lock_guard<std::mutex> lock(out.mutex);
      out.failures.push_back(text + " via " + n.host + ": " +
                             (r.ok ? std::to_string(r.response.status) + " " + r.response.body
                                   : r.message));
    }
  };
  std::vector<std::thread> threads;
  for (int w = 0; w < 6; ++w) threads.emplace_back(worker);
  for (auto& t : threads) t.join();
}

}  // namespace

CAF_TEST(owners_queue_their_backends_and_survive_the_loss_of_one_owner) {
  auto dir = temp_dir();
  std::vector<std::unique_ptr<test_backend>> backends;
  for (int i = 0; i < 4; ++i) {
    auto name = "b" + std::to_string(i + 1);
    backends.push_back(std::make_unique<test_backend>(
        name, dir,
        std::vector<std::string>{"--only", "tts", "--service-mean-ms", "30", "--seed",
                                 std::to_string(i + 1), "--job-log", dir + "/" + name + ".jobs"}));
  }
  auto tts = [&](std::initializer_list<int> owned) {
    std::string out;
    for (auto b : owned) out += (out.empty() ? "" : ",") + ("tts/cpu/" + backends[b]->address());
    return out;
  };
  auto port = static_cast<std::uint16_t>(free_udp_port({host(0), host(1), host(2)}));
  std::vector<std::string> common{"--directory-refresh", "1",  "--attempt-timeout", "5",
                                  "--request-timeout",   "30", "--rpc-timeout",     "1"};
  auto args = [&](std::vector<std::string> more) {
    more.insert(more.end(), common.begin(), common.end());
    return more;
  };
  auto first = host(0) + ":" + std::to_string(port);
  node_process n0{host(0), port, dir + "/node0.log", args({"--services", tts({0, 1})})};
  node_process n1{host(1), port, dir + "/node1.log",
                  args({"--neighbours", first, "--services", tts({2})})};
  node_process n2{host(2), port, dir + "/node2.log",
                  args({"--neighbours", first, "--services", tts({3})})};
  std::vector<node_process*> all{&n0, &n1, &n2};
  for (auto* n : all)  // each node's endpoint is one tts/cpu record
    CAF_REQUIRE(eventually([&] { return offered_backends(*n, "tts") == 3; }, 60s));

  outcome_counts before;
  constexpr int total = 150;
  send_load(all, "before", total, before);
  for (const auto& f : before.failures) CAF_MESSAGE("failed: " << f);
  CAF_CHECK_EQUAL(before.ok.load(), total);

  // Each owner's queue, as /status shows it: capacity 1 for every backend, every job
  // served, nothing left running or queued.
  int served_by_owners = 0;
  for (auto* n : all) {
    auto own = status_of(*n)["own_services"];
    CAF_MESSAGE(n->host << " own backends: " << own.dump());
    for (const auto& b : own) {
      CAF_CHECK_EQUAL(b["capacity"].get<int>(), 1);
      CAF_CHECK_EQUAL(b["running"].get<int>(), 0);
      CAF_CHECK_EQUAL(b["queued"].get<int>(), 0);
      served_by_owners += b["served"].get<int>();
    }
  }
  CAF_CHECK_EQUAL(served_by_owners, total);
  // No backend held two jobs at once, and each served a share.
  for (const auto& b : backends) {
    auto stats = backend_stats(*b);
    CAF_MESSAGE(b->name << ": " << stats.dump());
    CAF_CHECK_EQUAL(stats["peak_work_held"].get<int>(), 1);
    CAF_CHECK_GREATER(stats["tts"].get<int>(), 0);
  }

  // The owner of b3 dies; its record lives on in the DHT until it expires. Requests through
  // the other two still succeed, on the three backends whose owners are alive.
  n1.proc->signal(SIGKILL);
  n1.proc->wait_for(10s);
  outcome_counts after;
  constexpr int more = 60;
  send_load({&n0, &n2}, "after", more, after);
  for (const auto& f : after.failures) CAF_MESSAGE("failed after the kill: " << f);
  CAF_CHECK_EQUAL(after.ok.load(), more);

  // Every request's job ran exactly once (a text is a job's id in the logs).
  std::map<std::string, int> runs;
  for (int i = 0; i < 4; ++i)
    for (const auto& e : bench::read_job_log(dir + "/b" + std::to_string(i + 1) + ".jobs"))
      if (e.outcome == "done") ++runs[e.id];
  int twice = 0;
  for (const auto& [id, count] : runs)
    if (count > 1) {
      ++twice;
      CAF_MESSAGE("ran " << count << " times: " << id);
    }
  CAF_CHECK_EQUAL(twice, 0);
  int done = 0;
  for (const auto& [id, count] : runs)
    if (id.rfind("before-", 0) == 0 || id.rfind("after-", 0) == 0) ++done;
  CAF_CHECK_EQUAL(done, total + more);
  for (const auto& b : backends) CAF_CHECK_EQUAL(backend_stats(*b)["peak_work_held"].get<int>(), 1);

  for (auto* n : {&n0, &n2}) n->proc->signal(SIGTERM);
  for (auto* n : {&n0, &n2}) {
    auto status = n->proc->wait_for(15s);
    CAF_REQUIRE(status.has_value());
    CAF_CHECK_EQUAL(*status, 0);
  }
}
