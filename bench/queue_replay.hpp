#pragma once
// Replays the arrivals and service times of a routing-benchmark run through queueing
// models the run is compared with: one central FIFO queue in front of every server (the
// M/M/c ideal), and each request sent to a server chosen up front (uniform random choice)
// with a FIFO queue of its own. Pure: no clock, no I/O, no randomness of its own.

#include <cstddef>
#include <utility>
#include <vector>

namespace sova::bench {

/// One request: when it arrived (seconds, any origin) and its work, the service time it
/// takes on a server of slowdown 1.
struct replay_job {
  double arrival = 0;
  double work = 0;
};

/// One single-worker server. A job on it takes work * slowdown. No job starts on it inside
/// a down window [from, to) (a hung worker): one that would is held until `to`; a job in
/// service when a window opens runs to its end.
struct replay_server {
  double slowdown = 1.0;
  std::vector<std::pair<double, double>> down;
};

/// One FIFO queue, every server taking the job at its head as soon as it is free: jobs
/// start in arrival order (ties: input order), each on the server where it can start
/// first (ties: the smaller slowdown, then the lower index). Returns each job's response
/// time (finish - arrival), in input order.
std::vector<double> replay_central_fifo(const std::vector<replay_job>& jobs,
                                        const std::vector<replay_server>& servers);

/// Each job queued at servers[assignment[i]], FIFO by arrival. Returns each job's response
/// time, in input order. Throws std::invalid_argument when the sizes disagree or an
/// assignment names no server.
std::vector<double> replay_assigned(const std::vector<replay_job>& jobs,
                                    const std::vector<std::size_t>& assignment,
                                    const std::vector<replay_server>& servers);

/// The earliest time at or after `t` at which `s` may start a job.
double earliest_start(const replay_server& s, double t);

}  // namespace sova::bench
