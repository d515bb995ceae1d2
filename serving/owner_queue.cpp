#include "serving/owner_queue.hpp"

#include <algorithm>
#include <utility>

namespace sova::serving {

namespace {

double seconds_of(queue_duration d) { return std::chrono::duration<double>(d).count(); }

queue_duration duration_of(double seconds) {
  return std::chrono::duration_cast<queue_duration>(std::chrono::duration<double>(seconds));
}

bool kind_fits(net::wanted_kind wanted, net::kind k) {
  return wanted == net::wanted_kind::any ||
         (wanted == net::wanted_kind::cpu) == (k == net::kind::cpu);
}

/// Time before one more job starts when `ahead` jobs (running and waiting) compete for
/// `capacity` slots that finish `rate` jobs a second between them.
queue_duration wait_behind(std::size_t ahead, unsigned capacity, double rate) {
  if (capacity == 0 || rate <= 0 || ahead < capacity) return queue_duration::zero();
  return duration_of(static_cast<double>(ahead - capacity + 1) / rate);
}

}  // namespace

owner_queue::owner_queue(std::vector<owned_slot_spec> backends, owner_queue_settings settings)
    : settings_(settings) {
  backends_.reserve(backends.size());
  for (auto& spec : backends) {
    backend_state b;
    b.spec = spec;
    b.spec.capacity = std::max(1u, spec.capacity);
    b.pause = settings_.probe_pause;
    b.service_seconds = seconds_of(settings_.initial_service_time);
    backends_.push_back(b);
  }
}

bool owner_queue::serves(backend_index backend, const owner_job& job) const {
  const auto& spec = backends_[backend].spec;
  return spec.service == job.service && kind_fits(job.wanted, spec.kind) &&
         std::find(job.avoid.begin(), job.avoid.end(), backend) == job.avoid.end();
}

void owner_queue::probe_all(queue_time now) {
  for (auto& s : backends_) {
    s.health = backend_health::down;
    s.pause = settings_.probe_pause;
    s.next_probe = now;
  }
}

bool owner_queue::any_up_for(const owner_job& job) const {
  for (backend_index b = 0; b < backends_.size(); ++b)
    if (backends_[b].health == backend_health::up && serves(b, job)) return true;
  return false;
}

std::optional<backend_index> owner_queue::free_backend_for(const owner_job& job) const {
  // Of the free backends that fit, one whose latest job did not fail (a job is retried
  // by its entry node, and must not meet the same fault again while another backend is
  // free); then the fastest by its moving average; then the one with the most free slots;
  // then the first.
  std::optional<backend_index> best;
  for (backend_index b = 0; b < backends_.size(); ++b) {
    const auto& s = backends_[b];
    if (s.health != backend_health::up || s.running >= s.spec.capacity || !serves(b, job))
      continue;
    if (!best) {
      best = b;
      continue;
    }
    const auto& o = backends_[*best];
    if (s.last_failed != o.last_failed) {
      if (!s.last_failed) best = b;
      continue;
    }
    if (s.service_seconds < o.service_seconds ||
        (s.service_seconds == o.service_seconds &&
         s.spec.capacity - s.running > o.spec.capacity - o.running))
      best = b;
  }
  return best;
}

std::size_t owner_queue::queued(net::service s) const {
  return static_cast<std::size_t>(std::count_if(
      queue_.begin(), queue_.end(), [&](const owner_job& j) { return j.service == s; }));
}

std::size_t owner_queue::queued_for(backend_index b) const {
  return static_cast<std::size_t>(std::count_if(
      queue_.begin(), queue_.end(), [&](const owner_job& j) { return serves(b, j); }));
}

queue_duration owner_queue::wait_for(const owner_job& job) const {
  unsigned capacity = 0;
  std::size_t ahead = 0;
  double rate = 0;
  std::vector<bool> usable(backends_.size(), false);
  for (backend_index b = 0; b < backends_.size(); ++b) {
    const auto& s = backends_[b];
    if (s.health != backend_health::up || !serves(b, job)) continue;
    usable[b] = true;
    capacity += s.spec.capacity;
    ahead += s.running;
    rate += s.spec.capacity / std::max(s.service_seconds, 1e-6);
  }
  for (const auto& q : queue_)
    for (backend_index b = 0; b < backends_.size(); ++b)
      if (usable[b] && serves(b, q)) {
        ++ahead;
        break;
      }
  return wait_behind(ahead, capacity, rate);
}

offer_result owner_queue::offer(const owner_job& job) {
  if (started_.count(job.id) ||
      std::any_of(queue_.begin(), queue_.end(), [&](const owner_job& q) { return q.id == job.id; }))
    return {offer_result::status::duplicate, {}};
  if (!any_up_for(job)) return {offer_result::status::no_backend, {}};
  auto wait = wait_for(job);
  if (queued(job.service) >= settings_.max_queued_per_service)
    return {offer_result::status::full, wait};
  // After every job that arrived no later than it: FIFO by arrival, offers of the same
  // instant in the order they came.
  auto at = std::upper_bound(queue_.begin(), queue_.end(), job.arrival,
                             [](queue_time t, const owner_job& q) { return t < q.arrival; });
  queue_.insert(at, job);
  return {offer_result::status::queued, wait};
}

withdraw_result owner_queue::withdraw(job_id id) {
  auto it =
      std::find_if(queue_.begin(), queue_.end(), [&](const owner_job& q) { return q.id == id; });
  if (it != queue_.end()) {
    queue_.erase(it);
    return withdraw_result::withdrawn;
  }
  return started_.count(id) ? withdraw_result::started : withdraw_result::unknown;
}

start_decisions owner_queue::next_starts(queue_time now) {
  start_decisions out;
  std::deque<owner_job> waiting;
  for (auto& job : queue_) {
    if (now >= job.deadline) {
      out.expired.push_back(job.id);
      continue;
    }
    if (!any_up_for(job)) {
      out.no_backend.push_back(job.id);
      continue;
    }
    auto b = free_backend_for(job);
    if (!b) {
      waiting.push_back(std::move(job));
      continue;
    }
    ++backends_[*b].running;
    out.starts.push_back({job.id, *b, job.reservation});
    started_.emplace(job.id, started_job{job, *b, now, job.reservation});
  }
  queue_ = std::move(waiting);
  return out;
}

bool owner_queue::begin(job_id id, queue_time now) {
  auto it = started_.find(id);
  if (it == started_.end() || !it->second.held) return false;
  it->second.held = false;
  it->second.since = now;
  return true;
}

void owner_queue::free_slot(const started_job& j) {
  auto& b = backends_[j.backend];
  if (b.running > 0) --b.running;
}

bool owner_queue::finished(job_id id, job_outcome outcome, queue_time now) {
  auto it = started_.find(id);
  if (it == started_.end()) return false;
  auto job = std::move(it->second);
  started_.erase(it);
  free_slot(job);
  auto& b = backends_[job.backend];
  switch (outcome) {
    case job_outcome::served:
      b.last_failed = false;
      // An answer: whatever marked it down (a timeout of another job), it works.
      // A probe still out keeps its mark until its answer (probe_result), so that a
      // second one is never sent beside it.
      if (b.health == backend_health::down) {
        b.health = backend_health::up;
        b.pause = settings_.probe_pause;
      }
      // A reservation that never began measured the entry node, not the backend.
      if (!job.held && now >= job.since) {
        double w = settings_.service_time_weight;
        b.service_seconds = (1 - w) * b.service_seconds + w * seconds_of(now - job.since);
      }
      break;
    case job_outcome::failed:
      b.last_failed = true;
      break;
    case job_outcome::timed_out:
    case job_outcome::unreachable:
      // A reservation without its body never reached the backend: nothing to blame.
      if (!job.held) mark_down(job.backend, now);
      break;
  }
  return true;
}

bool owner_queue::release(job_id id) {
  auto it = started_.find(id);
  if (it == started_.end()) return false;
  free_slot(it->second);
  started_.erase(it);
  return true;
}

void owner_queue::mark_down(backend_index b, queue_time now) {
  auto& s = backends_[b];
  if (s.health == backend_health::down) return;
  s.health = backend_health::down;
  s.pause = settings_.probe_pause;
  s.next_probe = now + s.pause;
}

hung_report owner_queue::hung(queue_time now, queue_duration attempt_timeout) {
  hung_report out;
  for (auto it = started_.begin(); it != started_.end();) {
    const auto& j = it->second;
    if (now - j.since < (j.held ? settings_.hold_timeout : attempt_timeout)) {
      ++it;
      continue;
    }
    if (j.held) {
      out.lapsed.push_back(j.job.id);
    } else {
      out.hung.push_back({j.job.id, j.backend});
      if (backends_[j.backend].health == backend_health::up) {
        mark_down(j.backend, now);
        out.marked_down.push_back(j.backend);
      }
    }
    free_slot(j);
    it = started_.erase(it);
  }
  // The map's order is arbitrary; the caller gets a stable one.
  std::sort(out.hung.begin(), out.hung.end(),
            [](const hung_job& a, const hung_job& b) { return a.id < b.id; });
  std::sort(out.lapsed.begin(), out.lapsed.end());
  std::sort(out.marked_down.begin(), out.marked_down.end());
  return out;
}

std::vector<backend_index> owner_queue::probes_due(queue_time now) {
  std::vector<backend_index> out;
  for (backend_index b = 0; b < backends_.size(); ++b) {
    auto& s = backends_[b];
    if (s.health == backend_health::down && !s.probe_in_flight && now >= s.next_probe) {
      s.probe_in_flight = true;
      out.push_back(b);
    }
  }
  return out;
}

check_result owner_queue::begin_check(backend_index backend) {
  auto& s = backends_[backend];
  if (s.probe_in_flight) return check_result::in_flight;
  if (s.health == backend_health::down) return check_result::down;
  if (s.running >= s.spec.capacity) return check_result::busy;
  s.probe_in_flight = true;
  s.checking = true;
  ++s.running;
  return check_result::started;
}

void owner_queue::probe_result(backend_index backend, bool ok, queue_time now) {
  if (backend >= backends_.size()) return;
  auto& s = backends_[backend];
  s.probe_in_flight = false;
  if (s.checking) {
    s.checking = false;
    if (s.running > 0) --s.running;
    if (!ok) return mark_down(backend, now);  // probed again from the first pause
  }
  if (s.health == backend_health::up) return;
  if (ok) {
    s.health = backend_health::up;
    s.pause = settings_.probe_pause;
    return;
  }
  s.pause = std::min(s.pause * 2, settings_.max_probe_pause);
  s.next_probe = now + s.pause;
}

void owner_queue::set_capacity(backend_index backend, unsigned capacity) {
  if (backend < backends_.size()) backends_[backend].spec.capacity = std::max(1u, capacity);
}

owned_backend_view owner_queue::view(backend_index backend) const {
  const auto& s = backends_[backend];
  owned_backend_view v;
  v.spec = s.spec;
  v.running = s.running;
  v.queued = queued_for(backend);
  v.service_time = duration_of(s.service_seconds);
  v.health = s.health;
  v.probe_in_flight = s.probe_in_flight;
  v.checking = s.checking;
  if (s.health == backend_health::down) v.next_probe = s.next_probe;
  v.wait_estimate = wait_behind(s.running + v.queued, s.spec.capacity,
                                s.spec.capacity / std::max(s.service_seconds, 1e-6));
  return v;
}

std::vector<owned_backend_view> owner_queue::views() const {
  std::vector<owned_backend_view> out;
  out.reserve(backends_.size());
  for (backend_index b = 0; b < backends_.size(); ++b) out.push_back(view(b));
  return out;
}

std::optional<job_state> owner_queue::state_of(job_id id) const {
  auto it = started_.find(id);
  if (it != started_.end()) return it->second.held ? job_state::held : job_state::running;
  if (std::any_of(queue_.begin(), queue_.end(), [&](const owner_job& q) { return q.id == id; }))
    return job_state::queued;
  return std::nullopt;
}

std::optional<backend_index> owner_queue::backend_of(job_id id) const {
  auto it = started_.find(id);
  if (it == started_.end()) return std::nullopt;
  return it->second.backend;
}

const char* to_string(backend_health h) { return h == backend_health::up ? "up" : "down"; }

const char* to_string(job_outcome o) {
  switch (o) {
    case job_outcome::served: return "served";
    case job_outcome::failed: return "failed";
    case job_outcome::timed_out: return "timed_out";
    case job_outcome::unreachable: return "unreachable";
  }
  return "served";
}

}  // namespace sova::serving
