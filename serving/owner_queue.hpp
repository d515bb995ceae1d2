#pragma once
// The owner's queue: the one place that queues work for this node's own backends (its
// --services) and hands each backend at most `capacity` jobs at once (1 for a real SOVA
// server, whose one synchronous worker runs one job at a time; `--services ...:8888*4`
// for more, net/owned_backend.hpp). Real SOVA servers queue extra connections in their
// listen queue where nobody can see, cancel or reorder them; keeping the queue here
// instead makes it visible (wait estimates), ordered (FIFO by arrival), bounded (full is
// said at once) and cancellable (a job that has not started is never run).
//
// Across owners, entry nodes use late binding (Sparrow, SOSP 2013): an entry node
// places a reservation (a job without its body) at several owners; the first owner
// with a free slot grants it, and the entry node sends the job there and withdraws the
// other reservations. A reservation is queued like any job; once started it holds its
// slot (counted as running) until begin() (the body came), release() or finished().
//
// A state machine with no I/O and no clock, in the style of net/lookup.hpp: the caller
// (an actor) reports events with the time they happened and acts on what comes back.
// After any event, next_starts(now) says what to start; on a timer, hung() and
// probes_due() say which backends stopped answering and which to probe. A backend that
// is up is checked (begin_check) with its probe holding one of its slots, so that no job
// waits behind a probe inside the backend, where nobody can see or withdraw it. A job runs at
// most once: nothing the queue hands out is ever queued again; a failure goes back to
// the caller, which may place the job elsewhere under the same or a new id.
// docs/owner-queue.md explains the design.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>
#include <unordered_map>
#include <vector>

#include "net/service_kind.hpp"

namespace sova::serving {

using queue_clock = std::chrono::steady_clock;
using queue_time = queue_clock::time_point;
using queue_duration = queue_clock::duration;
using job_id = std::uint64_t;
/// A backend's position in the list the queue was built with.
using backend_index = std::size_t;

/// One owned backend, as --services gave it.
struct owned_slot_spec {
  net::service service = net::service::asr;
  net::kind kind = net::kind::cpu;
  unsigned capacity = 1;
};

struct owner_queue_settings {
  /// Jobs waiting per service (asr, tts); more are refused as full. Large: with late
  /// binding every request waiting anywhere in the network holds a reservation (no body)
  /// at each owner it asked, so the bound must cover the network's whole backlog.
  std::size_t max_queued_per_service = 1024;
  /// First pause before a backend marked down is probed; doubled after each failed
  /// probe up to max_probe_pause, back to this once it answers.
  queue_duration probe_pause = std::chrono::seconds(1);
  queue_duration max_probe_pause = std::chrono::seconds(30);
  /// The service time assumed before a backend has served anything.
  queue_duration initial_service_time = std::chrono::seconds(1);
  /// Weight of the newest sample in each backend's moving average of service times.
  double service_time_weight = 0.2;
  /// How long a granted reservation holds its slot without its job: the entry node sends
  /// the job within a round trip, so a longer hold means it is gone.
  queue_duration hold_timeout = std::chrono::seconds(5);
};

struct owner_job {
  job_id id = 0;
  net::service service = net::service::asr;
  net::wanted_kind wanted = net::wanted_kind::any;
  queue_time arrival{};
  /// Past it the job is dropped unstarted.
  queue_time deadline{};
  /// Late binding: a slot to hold for an entry node, the job's body to come.
  bool reservation = false;
  /// Backends this job must not go to (an attempt of its request failed there).
  std::vector<backend_index> avoid;
};

enum class backend_health : std::uint8_t { up, down };

struct offer_result {
  enum class status : std::uint8_t {
    queued,
    /// The service's queue is at its bound: 503 with Retry-After from wait_estimate.
    full,
    /// No backend of this node serves it, or all that would are down: place it elsewhere.
    no_backend,
    /// The id is already queued or running here.
    duplicate,
  };
  status st = status::queued;
  /// How long a job offered now would wait before it starts, by the moving averages.
  queue_duration wait_estimate{};
};

struct job_start {
  job_id id = 0;
  backend_index backend = 0;
  bool reservation = false;
};

/// What next_starts decided. Every job named here has left the queue.
struct start_decisions {
  /// To start now, oldest arrival first; each slot is taken until finished/release.
  std::vector<job_start> starts;
  /// Past their deadline: never started; answer them (504 or the like).
  std::vector<job_id> expired;
  /// Every backend that could serve them is down: never started; place them elsewhere.
  std::vector<job_id> no_backend;
};

enum class withdraw_result : std::uint8_t {
  /// It was waiting: removed, it will never run.
  withdrawn,
  /// It runs (or its reservation holds a slot): it cannot be withdrawn and runs to its end.
  started,
  /// Not here (never offered, or already finished, expired, handed back).
  unknown,
};

enum class job_outcome : std::uint8_t {
  /// The backend answered with a reply of its service.
  served,
  /// Connect error, 5xx, an answer that is not a reply: the caller decides whether to
  /// retry elsewhere; the backend stays up (the queue never runs the job again).
  failed,
  /// The backend did not answer within the attempt timeout: it is marked down (not for
  /// a reservation that never began, which never reached it).
  timed_out,
  /// The backend could not be reached (connection refused, connection broken): marked
  /// down like a timeout, so that a dead backend, free at once, does not draw every job.
  unreachable,
};

struct hung_job {
  job_id id = 0;
  backend_index backend = 0;
};

/// What hung() found. The jobs named here have left the queue.
struct hung_report {
  /// Running longer than the attempt timeout: answer them; their backends are down.
  std::vector<hung_job> hung;
  /// Reservations held past hold_timeout without their body: their slots are free again.
  std::vector<job_id> lapsed;
  /// Backends that were up and are now down.
  std::vector<backend_index> marked_down;
};

/// A read-only view of one backend.
struct owned_backend_view {
  owned_slot_spec spec;
  /// Jobs on it, held reservations and a check's probe included.
  unsigned running = 0;
  /// Jobs waiting that it could serve (other backends may take them first).
  std::size_t queued = 0;
  /// How long a job it could serve, offered now, would wait for it.
  queue_duration wait_estimate{};
  /// The moving average of its service times.
  queue_duration service_time{};
  backend_health health = backend_health::up;
  /// When down: when its next probe is due (one in flight: when that one was due).
  std::optional<queue_time> next_probe;
  bool probe_in_flight = false;
  /// A probe of it while up holds one of its slots (counted in `running`).
  bool checking = false;
};

enum class job_state : std::uint8_t { queued, held, running };

enum class check_result : std::uint8_t {
  /// Probe it now: one of its slots is held for the probe.
  started,
  /// A probe of it is out: its answer will tell.
  in_flight,
  /// Every slot runs a job: no probe needed, its jobs tell whether it works.
  busy,
  /// Down: its owner's probes on the timer bring it back.
  down,
};

class owner_queue {
public:
  owner_queue(std::vector<owned_slot_spec> backends, owner_queue_settings settings = {});

  /// Marks every backend down with a probe due at `now`: nothing goes to a backend before
  /// it has answered once (a backend given at the wrong port, or not started yet).
  void probe_all(queue_time now);

  /// Queues the job, or says why not (refused jobs are not kept).
  offer_result offer(const owner_job& job);

  /// Removes a job that has not started (client gone, placed elsewhere).
  withdraw_result withdraw(job_id id);

  /// Starts what can start now, FIFO by arrival over the jobs that match a backend with
  /// a free slot: a job no free backend can serve does not hold back later jobs that
  /// another backend can. Drops expired jobs and hands back those whose every backend
  /// is down. Call it after every event.
  start_decisions next_starts(queue_time now);

  /// A reserved job's body came: it now runs, its service time counted from `now`.
  /// False when `id` is not a held reservation.
  bool begin(job_id id, queue_time now);

  /// A started job ended: its slot is free; a served one shows its backend is up. False (and nothing changes) when `id` is not
  /// running or held here, e.g. already reported by hung().
  bool finished(job_id id, job_outcome outcome, queue_time now);

  /// Frees a started job's slot without an outcome (a reservation the entry node gave
  /// up, or placed elsewhere). False when `id` is not running or held here.
  bool release(job_id id);

  /// Jobs running longer than `attempt_timeout` (their backends marked down, so a
  /// backend that stops answering is seen within one attempt timeout), and reservations
  /// held longer than the settings' hold_timeout without their body. Call it on a timer.
  hung_report hung(queue_time now, queue_duration attempt_timeout);

  /// Down backends whose probe is due and not yet sent; each is returned once, then
  /// waits for its probe_result. The caller sends a cheap liveness request (API.md's
  /// empty body) to each.
  std::vector<backend_index> probes_due(queue_time now);

  /// Whether an up backend may be probed now: `started` when it has a free slot, which
  /// the probe then holds (counted as running) until its probe_result. Any other answer
  /// changes nothing: the backend is down, has every slot taken (its jobs show whether it
  /// works) or has a probe out already.
  check_result begin_check(backend_index backend);

  /// A probe's answer. For a down backend: up again, or the next probe after a pause
  /// twice as long (up to the maximum). For a check (begin_check): its slot is free again,
  /// and a failed one marks the backend down. A stray answer for an up backend is ignored.
  void probe_result(backend_index backend, bool ok, queue_time now);

  /// The jobs `backend` runs at once from now on (at least 1), as the backend itself told
  /// (a reference backend's workers). Jobs running beyond a lowered capacity run to their end.
  void set_capacity(backend_index backend, unsigned capacity);

  std::size_t backend_count() const { return backends_.size(); }
  owned_backend_view view(backend_index backend) const;
  std::vector<owned_backend_view> views() const;

  /// Where a job is; nothing when it is not here.
  std::optional<job_state> state_of(job_id id) const;
  /// The backend a started job holds a slot of.
  std::optional<backend_index> backend_of(job_id id) const;
  /// The waiting jobs, oldest arrival first.
  std::vector<owner_job> queued_jobs() const { return {queue_.begin(), queue_.end()}; }
  std::size_t queued(net::service s) const;

  /// Whether `backend` could serve `job` at all (service and kind, not avoided by it),
  /// whatever its state.
  bool serves(backend_index backend, const owner_job& job) const;

private:
  struct backend_state {
    owned_slot_spec spec;
    unsigned running = 0;
    backend_health health = backend_health::up;
    queue_time next_probe{};
    queue_duration pause{};
    bool probe_in_flight = false;
    bool checking = false;  // the probe out is a check, holding a slot
    double service_seconds = 0;
    bool last_failed = false;  // its latest job ended `failed`: others are chosen first
  };
  struct started_job {
    owner_job job;
    backend_index backend = 0;
    queue_time since{};
    bool held = false;
  };

  bool any_up_for(const owner_job& job) const;
  std::optional<backend_index> free_backend_for(const owner_job& job) const;
  void mark_down(backend_index b, queue_time now);
  void free_slot(const started_job& j);
  /// Time before a new job of `job`'s kind would start, over the backends up for it.
  queue_duration wait_for(const owner_job& job) const;
  std::size_t queued_for(backend_index b) const;

  std::vector<backend_state> backends_;
  owner_queue_settings settings_;
  std::deque<owner_job> queue_;  // oldest arrival first
  std::unordered_map<job_id, started_job> started_;
};

const char* to_string(backend_health h);
const char* to_string(job_outcome o);

}  // namespace sova::serving
