// DHT simulation benchmark: N nodes over the in-memory fabric in one process with
// simulated time. Prints, for each N, lookup success rate, median and p99 rounds
// and RPCs per lookup with 0% and 20% of the nodes dead, and memory per node.
//
//   bench_dht_sim [--nodes 1000,10000] [--records 100] [--lookups 2000] [--seed 7]

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include "sim_scenario.hpp"

using namespace sova;

namespace {

struct options {
  std::vector<std::size_t> nodes{1000, 10000};
  std::size_t records = 100;
  std::size_t lookups = 2000;
  std::uint64_t seed = 7;
};

long rss_kib() {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("VmRSS:", 0) == 0) return std::strtol(line.c_str() + 6, nullptr, 10);
  return 0;
}

std::vector<std::size_t> parse_list(const char* s) {
  std::vector<std::size_t> out;
  for (char* end = nullptr; *s; s = *end ? end + 1 : end) {
    out.push_back(std::strtoull(s, &end, 10));
    if (end == s) break;
  }
  return out;
}

bool parse(int argc, char** argv, options& o) {
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--nodes")) o.nodes = parse_list(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--records")) o.records = std::strtoull(argv[i + 1], nullptr, 10);
    else if (!std::strcmp(argv[i], "--lookups")) o.lookups = std::strtoull(argv[i + 1], nullptr, 10);
    else if (!std::strcmp(argv[i], "--seed")) o.seed = std::strtoull(argv[i + 1], nullptr, 10);
    else return false;
  }
  return argc % 2 == 1 && !o.nodes.empty() && o.records > 0 && o.lookups > 0;
}

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

void print_row(std::size_t n, const char* dead, const sim::lookup_stats& st, double wall_s) {
  std::printf("%7zu %5s %8zu %8.2f%% %7u %7u %7u %7u %9.1f\n", n, dead, st.lookups,
              100.0 * st.success_rate(), sim::percentile(st.rounds, 50),
              sim::percentile(st.rounds, 99), sim::percentile(st.queries, 50),
              sim::percentile(st.queries, 99), wall_s);
  std::fflush(stdout);
}

void run(std::size_t n, const options& o) {
  caf::actor_system_config cfg;
  sim::configure_for_simulation(cfg);
  caf::actor_system sys{cfg};
  auto& sched = sim::coordinator(sys);
  long rss0 = rss_kib();
  {
    sim::sim_network net{sys, o.seed};
    auto t0 = std::chrono::steady_clock::now();
    auto joined = sim::grow(net, sched, n, actors::dht_config{});
    double build_s = seconds_since(t0);
    long rss1 = rss_kib();
    std::printf("# N=%zu: %zu/%zu joins got contacts, built in %.1f s wall; memory %.1f KiB per node (RSS %ld -> %ld KiB)\n",
                n, joined, n - 1, build_s, double(rss1 - rss0) / double(n), rss0, rss1);
    auto records = sim::put_records(net, sched, o.records);
    t0 = std::chrono::steady_clock::now();
    auto alive = sim::find_records(net, sched, records, sim::random_pairs(net, records.size(), o.lookups), 500);
    print_row(n, "0%", alive, seconds_since(t0));
    sim::kill_fraction(net, 0.2);
    t0 = std::chrono::steady_clock::now();
    auto dead = sim::find_records(net, sched, records, sim::random_pairs(net, records.size(), o.lookups), 500);
    print_row(n, "20%", dead, seconds_since(t0));
  }
  sched.run();
}

}  // namespace

int main(int argc, char** argv) {
  options o;
  if (!parse(argc, argv, o)) {
    std::fprintf(stderr, "usage: %s [--nodes 1000,10000] [--records 100] [--lookups 2000] [--seed 7]\n", argv[0]);
    return 2;
  }
  std::printf("DHT simulation: k=20, alpha=3, 5 s RPC timeout, in-memory datagrams, simulated time\n");
  std::printf("%zu records stored from random nodes; %zu gets from random live nodes per row\n",
              o.records, o.lookups);
  std::printf("%7s %5s %8s %9s %7s %7s %7s %7s %9s\n", "nodes", "dead", "lookups", "success",
              "rnd p50", "rnd p99", "rpc p50", "rpc p99", "wall s");
  for (auto n : o.nodes) run(n, o);
  return 0;
}
