// The routing benchmark's figures for one scenario: the requests bench_routing_load sent
// (its CSV) and the job logs of the backends, compared with the same arrivals and service
// times replayed through one central FIFO queue (the M/M/c ideal) and through uniform
// random choice of a backend (bench/queue_replay).
//
//   bench_routing_report --requests requests.csv --job-log b1.log --job-log b2.log ...
//                        --prefix run1-load0.8 [--slowdowns 1,1,1,4] [--hang K:FROM:TO]
//                        [--mean-ms 200] [--seed 1] [--label "load 0.8"]
//
// Which work a request gets in the replays: the service time its first completed run was
// given, divided by the slowdown of the backend that ran it; on a replayed server of
// slowdown s it takes s times that. A request no backend completed (it failed) gets a
// draw of mean --mean-ms. --hang K:FROM:TO (Unix seconds; backend K from 0, in --job-log
// order) keeps backend K from starting a job in that window in both replays.
// Prints a block for people and one "ROW" line for scripts:
//   ROW label requests failed run_twice hung net_mean net_p50 net_p99 ideal_mean ideal_p50
//       ideal_p99 uniform_mean uniform_p50 uniform_p99 share_1,share_2,...

#include <cstdio>
#include <fstream>
#include <map>
#include <iostream>
#include <random>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "bench/job_log.hpp"
#include "bench/latency_summary.hpp"
#include "bench/queue_replay.hpp"

namespace {

using namespace sova::bench;

struct sent_request {
  std::string id;
  double send_unix = 0;
  unsigned status = 0;
  double latency = 0;
};

/// The first `n` comma-separated fields of a line (the rest, the error, is not needed).
std::vector<std::string> first_fields(const std::string& line, std::size_t n) {
  std::vector<std::string> out;
  std::size_t at = 0;
  while (out.size() < n) {
    auto comma = line.find(',', at);
    out.push_back(line.substr(at, comma == std::string::npos ? std::string::npos : comma - at));
    if (comma == std::string::npos) break;
    at = comma + 1;
  }
  return out;
}

std::vector<sent_request> read_requests(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot read " + path);
  std::vector<sent_request> out;
  std::string line;
  std::getline(in, line);  // header
  while (std::getline(in, line)) {
    auto f = first_fields(line, 5);
    if (f.size() < 5) throw std::runtime_error(path + ": short line: " + line);
    out.push_back({f[0], std::stod(f[1]), static_cast<unsigned>(std::stoul(f[3])), std::stod(f[4])});
  }
  return out;
}

std::vector<double> parse_numbers(const std::string& list) {
  std::vector<double> out;
  std::stringstream s(list);
  std::string item;
  while (std::getline(s, item, ',')) out.push_back(std::stod(item));
  return out;
}

void print_row(const char* name, const latency_summary& s) {
  std::printf("  %-16s %8.3f %8.3f %8.3f\n", name, s.mean, s.p50, s.p99);
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Figures of one routing-benchmark scenario against the M/M/c ideal"};
  std::string requests_path, prefix, slowdowns_text, label;
  std::vector<std::string> logs, hangs;
  double mean_ms = 200;
  std::uint64_t seed = 1;
  app.add_option("--requests", requests_path, "bench_routing_load's CSV")->required();
  app.add_option("--job-log", logs, "A backend's job log (repeat, one per backend)")->required();
  app.add_option("--prefix", prefix, "Ids of this scenario's requests start with it")->required();
  app.add_option("--slowdowns", slowdowns_text, "Per backend, how many times slower (1,1,1,4)");
  app.add_option("--hang", hangs, "K:FROM:TO: backend K hung from FROM to TO (Unix s)");
  app.add_option("--mean-ms", mean_ms, "Mean service time drawn for requests no backend completed")
      ->capture_default_str();
  app.add_option("--seed", seed, "Seed of uniform random choice and of those draws")
      ->capture_default_str();
  app.add_option("--label", label, "Name of the scenario in the output");
  CLI11_PARSE(app, argc, argv);
  if (label.empty()) label = prefix;

  try {
    auto requests = read_requests(requests_path);
    std::vector<std::vector<job_log_entry>> entries;
    for (const auto& p : logs) entries.push_back(read_job_log(p));
    std::vector<double> slowdowns =
        slowdowns_text.empty() ? std::vector<double>() : parse_numbers(slowdowns_text);
    slowdowns.resize(logs.size(), 1.0);
    auto census = take_census(entries, slowdowns, prefix);

    std::vector<replay_server> servers(logs.size());
    for (std::size_t k = 0; k < servers.size(); ++k) servers[k].slowdown = slowdowns[k];
    for (const auto& h : hangs) {
      auto first = h.find(':'), second = h.find(':', first + 1);
      if (first == std::string::npos || second == std::string::npos)
        throw std::invalid_argument("--hang " + h + ": expected K:FROM:TO");
      auto k = std::stoul(h.substr(0, first));
      if (k >= servers.size()) throw std::invalid_argument("--hang " + h + ": no such backend");
      servers[k].down.emplace_back(std::stod(h.substr(first + 1, second - first - 1)),
                                   std::stod(h.substr(second + 1)));
    }

    std::mt19937_64 rng(seed);
    std::exponential_distribution<double> draw(1000.0 / mean_ms);
    std::uniform_int_distribution<std::size_t> pick(0, servers.size() - 1);
    std::vector<replay_job> jobs;
    std::vector<std::size_t> assignment;
    std::vector<double> network;
    std::size_t failed = 0, drawn = 0;
    std::map<unsigned, std::size_t> failed_by_status;  // 0: no HTTP reply
    for (const auto& r : requests) {
      if (r.status != 200) {
        ++failed;
        ++failed_by_status[r.status];
      }
      network.push_back(r.latency);
      auto w = census.work.find(r.id);
      double work = w != census.work.end() ? w->second : (++drawn, draw(rng));
      jobs.push_back({r.send_unix, work});
      assignment.push_back(pick(rng));
    }
    auto net = summarize(network);
    auto ideal = summarize(replay_central_fifo(jobs, servers));
    auto uniform = summarize(replay_assigned(jobs, assignment, servers));

    std::size_t done = 0;
    for (auto n : census.done_per_backend) done += n;
    std::string statuses;
    for (const auto& [status, n] : failed_by_status)
      statuses += (statuses.empty() ? " (" : ", ") + std::to_string(n) + "x " +
                  (status ? std::to_string(status) : std::string("no reply"));
    if (!statuses.empty()) statuses += ")";
    std::printf("%s: %zu requests, %zu failed (not 200)%s, %zu jobs run twice, %zu hung, "
                "%zu without a completed run (work drawn)\n",
                label.c_str(), requests.size(), failed, statuses.c_str(), census.run_twice,
                census.hung, drawn);
    std::printf("  %-16s %8s %8s %8s\n", "seconds", "mean", "p50", "p99");
    print_row("network", net);
    print_row("ideal (M/M/c)", ideal);
    print_row("uniform random", uniform);
    auto ratio = [](double a, double b) { return b > 0 ? a / b : 0.0; };
    std::printf("  %-16s %8.2f %8.2f %8.2f\n", "network/ideal", ratio(net.mean, ideal.mean),
                ratio(net.p50, ideal.p50), ratio(net.p99, ideal.p99));
    std::printf("  %-16s %8.2f %8.2f %8.2f\n", "uniform/ideal", ratio(uniform.mean, ideal.mean),
                ratio(uniform.p50, ideal.p50), ratio(uniform.p99, ideal.p99));
    std::string shares;
    std::printf("  jobs per backend:");
    for (std::size_t k = 0; k < census.done_per_backend.size(); ++k) {
      double share = done ? 100.0 * static_cast<double>(census.done_per_backend[k]) /
                                static_cast<double>(done)
                          : 0.0;
      std::printf(" b%zu %zu (%.1f%%%s)", k + 1, census.done_per_backend[k], share,
                  slowdowns[k] != 1.0 ? ", slow" : "");
      char buf[32];
      std::snprintf(buf, sizeof buf, "%s%.1f", k ? "," : "", share);
      shares += buf;
    }
    std::printf("\n");
    std::printf("ROW %s %zu %zu %zu %zu %.3f %.3f %.3f %.3f %.3f %.3f %.3f %.3f %.3f %s\n",
                label.c_str(), requests.size(), failed, census.run_twice, census.hung, net.mean,
                net.p50, net.p99, ideal.mean, ideal.p50, ideal.p99, uniform.mean, uniform.p50,
                uniform.p99, shares.c_str());
  } catch (const std::exception& e) {
    std::cerr << "bench_routing_report: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
