#include "bench/queue_replay.hpp"

#include <algorithm>
#include <numeric>
#include <stdexcept>

namespace sova::bench {

namespace {

/// Job indices by arrival; equal arrivals keep their input order.
std::vector<std::size_t> arrival_order(const std::vector<replay_job>& jobs) {
  std::vector<std::size_t> order(jobs.size());
  std::iota(order.begin(), order.end(), std::size_t{0});
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
    return jobs[a].arrival < jobs[b].arrival;
  });
  return order;
}

}  // namespace

double earliest_start(const replay_server& s, double t) {
  // Windows may overlap or come in any order: move past each one t falls in until none.
  for (bool moved = true; moved;) {
    moved = false;
    for (const auto& [from, to] : s.down)
      if (t >= from && t < to) {
        t = to;
        moved = true;
      }
  }
  return t;
}

std::vector<double> replay_central_fifo(const std::vector<replay_job>& jobs,
                                        const std::vector<replay_server>& servers) {
  if (servers.empty() && !jobs.empty())
    throw std::invalid_argument("replay_central_fifo: no server");
  std::vector<double> free_at(servers.size(), -1e300);
  std::vector<double> response(jobs.size(), 0.0);
  // Jobs start in arrival order, so the head of the queue is always the next job taken:
  // giving each job in turn the server where it starts first is the FIFO queue.
  for (auto i : arrival_order(jobs)) {
    const auto& j = jobs[i];
    std::size_t best = 0;
    double best_start = 0;
    for (std::size_t k = 0; k < servers.size(); ++k) {
      double start = earliest_start(servers[k], std::max(j.arrival, free_at[k]));
      if (k == 0 || start < best_start ||
          (start == best_start && servers[k].slowdown < servers[best].slowdown)) {
        best = k;
        best_start = start;
      }
    }
    free_at[best] = best_start + j.work * servers[best].slowdown;
    response[i] = free_at[best] - j.arrival;
  }
  return response;
}

std::vector<double> replay_assigned(const std::vector<replay_job>& jobs,
                                    const std::vector<std::size_t>& assignment,
                                    const std::vector<replay_server>& servers) {
  if (assignment.size() != jobs.size())
    throw std::invalid_argument("replay_assigned: one assignment per job needed");
  for (auto k : assignment)
    if (k >= servers.size()) throw std::invalid_argument("replay_assigned: no such server");
  std::vector<double> free_at(servers.size(), -1e300);
  std::vector<double> response(jobs.size(), 0.0);
  for (auto i : arrival_order(jobs)) {
    auto k = assignment[i];
    double start = earliest_start(servers[k], std::max(jobs[i].arrival, free_at[k]));
    free_at[k] = start + jobs[i].work * servers[k].slowdown;
    response[i] = free_at[k] - jobs[i].arrival;
  }
  return response;
}

}  // namespace sova::bench
