#include "bench/job_log.hpp"

#include <cstdlib>
#include <fstream>
#include <stdexcept>
#include <string>

namespace sova::bench {

std::vector<job_log_entry> read_job_log(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot read " + path);
  std::vector<job_log_entry> out;
  std::string line;
  while (std::getline(in, line))
    if (auto e = parse_job_log_line(line)) out.push_back(std::move(*e));
  return out;
}

namespace {

/// The next tab-separated field of `rest`, taken off it.
std::string_view next_field(std::string_view& rest) {
  auto tab = rest.find('\t');
  auto field = rest.substr(0, tab);
  rest = tab == std::string_view::npos ? std::string_view() : rest.substr(tab + 1);
  return field;
}

std::optional<double> number(std::string_view text) {
  if (text.empty()) return std::nullopt;
  std::string s(text);
  char* end = nullptr;
  double v = std::strtod(s.c_str(), &end);
  if (end != s.c_str() + s.size()) return std::nullopt;
  return v;
}

}  // namespace

std::optional<job_log_entry> parse_job_log_line(std::string_view line) {
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  auto rest = line;
  auto start = number(next_field(rest));
  auto end = number(next_field(rest));
  auto service = number(next_field(rest));
  auto outcome = next_field(rest);
  if (!start || !end || !service || (outcome != "done" && outcome != "hung")) return std::nullopt;
  job_log_entry e;
  e.start = *start;
  e.end = *end;
  e.service_ms = *service;
  e.outcome = std::string(outcome);
  e.id = std::string(rest);  // the rest of the line: an id may hold tabs written as spaces
  return e;
}

job_census take_census(const std::vector<std::vector<job_log_entry>>& logs,
                       const std::vector<double>& slowdowns, std::string_view prefix) {
  job_census c;
  c.done_per_backend.assign(logs.size(), 0);
  std::map<std::string, double> first_start;
  for (std::size_t k = 0; k < logs.size(); ++k) {
    double slowdown = k < slowdowns.size() && slowdowns[k] > 0 ? slowdowns[k] : 1.0;
    for (const auto& e : logs[k]) {
      if (e.id.compare(0, prefix.size(), prefix) != 0) continue;
      if (e.outcome == "hung") {
        ++c.hung;
        continue;
      }
      ++c.done_per_backend[k];
      if (++c.runs[e.id] == 2) ++c.run_twice;
      auto it = first_start.find(e.id);
      if (it == first_start.end() || e.start < it->second) {
        first_start[e.id] = e.start;
        c.work[e.id] = e.service_ms / 1000.0 / slowdown;
      }
    }
  }
  return c;
}

}  // namespace sova::bench
