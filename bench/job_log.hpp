#pragma once
// The job logs of sova_test_backend (--job-log) as the routing benchmark reads them: one
// line per job, "<start>\t<end>\t<service_ms>\t<outcome>\t<id>", and what a run's logs say
// together: each request's work, jobs run twice, each backend's share. Pure (lines in,
// figures out) but for read_job_log, which reads a whole log file.

#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sova::bench {

struct job_log_entry {
  double start = 0;  ///< Unix seconds
  double end = 0;
  double service_ms = 0;
  std::string outcome;  ///< "done" or "hung"
  std::string id;
};

/// One line of a job log, or nothing when it is not one (a torn last line, say).
std::optional<job_log_entry> parse_job_log_line(std::string_view line);

/// Every job line of the log file at `path` (torn lines skipped); throws
/// std::runtime_error when it cannot be read.
std::vector<job_log_entry> read_job_log(const std::string& path);

/// What the logs of all backends say about the jobs whose id starts with a prefix.
struct job_census {
  /// Per id, its work: the service time (s) of its first "done" run (the earliest start)
  /// divided by the slowdown of the backend it ran on, i.e. what it would take on a
  /// backend of slowdown 1.
  std::map<std::string, double> work;
  std::map<std::string, std::size_t> runs;  ///< per id, its "done" runs
  std::vector<std::size_t> done_per_backend;
  std::size_t hung = 0;        ///< "hung" lines
  std::size_t run_twice = 0;   ///< ids with two or more "done" runs
};

/// logs[k] are backend k's entries; slowdowns[k] its slowdown (missing: 1).
job_census take_census(const std::vector<std::vector<job_log_entry>>& logs,
                       const std::vector<double>& slowdowns, std::string_view prefix);

}  // namespace sova::bench
