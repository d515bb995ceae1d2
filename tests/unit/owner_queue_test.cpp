// The owner's queue (serving/owner_queue): capacity, FIFO order, the bound, deadlines,
// withdrawal, hung backends, probes on a timer, checks holding a slot, the all-down
// hand-back, reservations,
// and a randomized run checking that no job ever starts twice.
#define CAF_SUITE owner_queue
#include "caf/test/unit_test.hpp"

#include <algorithm>
#include <array>
#include <map>
#include <random>
#include <set>
#include <vector>

#include "serving/owner_queue.hpp"

using namespace sova::serving;
using namespace std::chrono_literals;
using sova::net::kind;
using sova::net::service;
using sova::net::wanted_kind;

namespace {

const queue_time t0 = queue_time{} + 1000s;

owned_slot_spec asr_cpu(unsigned capacity = 1) { return {service::asr, kind::cpu, capacity}; }
owned_slot_spec asr_gpu(unsigned capacity = 1) { return {service::asr, kind::gpu, capacity}; }
owned_slot_spec tts_cpu(unsigned capacity = 1) { return {service::tts, kind::cpu, capacity}; }

owner_job job(job_id id, service s = service::asr, queue_time arrival = t0,
              wanted_kind wanted = wanted_kind::any, queue_duration life = 120s) {
  owner_job j;
  j.id = id;
  j.service = s;
  j.wanted = wanted;
  j.arrival = arrival;
  j.deadline = arrival + life;
  return j;
}

owner_job reservation(job_id id, queue_time arrival = t0) {
  auto j = job(id, service::asr, arrival);
  j.reservation = true;
  return j;
}

std::vector<job_id> started_ids(const start_decisions& d) {
  std::vector<job_id> out;
  for (const auto& s : d.starts) out.push_back(s.id);
  return out;
}

bool queued_ok(const offer_result& r) { return r.st == offer_result::status::queued; }

}  // namespace

CAF_TEST(a_backend_never_gets_more_jobs_than_its_capacity) {
  owner_queue q{{asr_cpu(2)}};
  for (job_id id = 1; id <= 5; ++id)
    CAF_CHECK(queued_ok(q.offer(job(id, service::asr, t0 + id * 1ms))));
  auto d = q.next_starts(t0 + 10ms);
  CAF_CHECK_EQUAL(started_ids(d), (std::vector<job_id>{1, 2}));
  CAF_CHECK_EQUAL(q.view(0).running, 2u);
  CAF_CHECK_EQUAL(q.view(0).queued, 3u);
  CAF_CHECK(q.next_starts(t0 + 20ms).starts.empty());
  CAF_CHECK(q.finished(2, job_outcome::served, t0 + 1s));
  CAF_CHECK_EQUAL(started_ids(q.next_starts(t0 + 1s)), (std::vector<job_id>{3}));
  CAF_CHECK_EQUAL(q.view(0).running, 2u);
  // A job reported twice frees its slot once.
  CAF_CHECK(!q.finished(2, job_outcome::served, t0 + 2s));
  CAF_CHECK_EQUAL(q.view(0).running, 2u);
}

CAF_TEST(jobs_start_in_order_of_arrival) {
  owner_queue q{{asr_cpu()}};
  // Offered out of order (they came through different entry nodes); same instant: offer order.
  CAF_CHECK(queued_ok(q.offer(job(1, service::asr, t0 + 3ms))));
  CAF_CHECK(queued_ok(q.offer(job(2, service::asr, t0 + 1ms))));
  CAF_CHECK(queued_ok(q.offer(job(3, service::asr, t0 + 2ms))));
  CAF_CHECK(queued_ok(q.offer(job(4, service::asr, t0 + 2ms))));
  std::vector<job_id> order;
  for (int i = 0; i < 4; ++i) {
    auto d = q.next_starts(t0 + 10ms + i * 1s);
    CAF_REQUIRE_EQUAL(d.starts.size(), 1u);
    order.push_back(d.starts[0].id);
    CAF_CHECK(q.finished(d.starts[0].id, job_outcome::served, t0 + 10ms + i * 1s + 500ms));
  }
  CAF_CHECK_EQUAL(order, (std::vector<job_id>{2, 3, 4, 1}));
}

CAF_TEST(a_job_no_free_backend_can_serve_does_not_hold_back_later_ones) {
  owner_queue q{{asr_cpu(), asr_gpu(), tts_cpu()}};
  CAF_CHECK(queued_ok(q.offer(job(1, service::asr, t0, wanted_kind::gpu))));
  CAF_CHECK(queued_ok(q.offer(job(2, service::asr, t0 + 1ms, wanted_kind::gpu))));
  CAF_CHECK(queued_ok(q.offer(job(3, service::tts, t0 + 2ms))));
  CAF_CHECK(queued_ok(q.offer(job(4, service::asr, t0 + 3ms, wanted_kind::any))));
  auto d = q.next_starts(t0 + 5ms);
  // 2 waits for the one GPU; 3 and 4 pass it.
  CAF_CHECK_EQUAL(started_ids(d), (std::vector<job_id>{1, 3, 4}));
  CAF_CHECK(q.backend_of(1) == backend_index{1});
  CAF_CHECK(q.backend_of(3) == backend_index{2});
  CAF_CHECK(q.backend_of(4) == backend_index{0});
  CAF_CHECK(q.state_of(2) == job_state::queued);
  // A kind this node has no backend of is not queued at all.
  owner_queue cpu_only{{asr_cpu()}};
  CAF_CHECK(cpu_only.offer(job(9, service::asr, t0, wanted_kind::gpu)).st ==
            offer_result::status::no_backend);
  CAF_CHECK(cpu_only.offer(job(10, service::tts)).st == offer_result::status::no_backend);
}

CAF_TEST(a_full_queue_says_so_at_once_with_a_wait_estimate) {
  owner_queue_settings settings;
  settings.max_queued_per_service = 3;
  settings.initial_service_time = 2s;
  owner_queue q{{asr_cpu(), tts_cpu()}, settings};
  CAF_CHECK(queued_ok(q.offer(job(1))));
  CAF_CHECK_EQUAL(started_ids(q.next_starts(t0)), (std::vector<job_id>{1}));
  for (job_id id = 2; id <= 4; ++id) CAF_CHECK(queued_ok(q.offer(job(id))));
  auto full = q.offer(job(5));
  CAF_CHECK(full.st == offer_result::status::full);
  // One running and three waiting on one slot of 2 s each: 8 s before a fifth would start.
  CAF_CHECK_EQUAL(full.wait_estimate, queue_duration{8s});
  CAF_CHECK(q.state_of(5) == std::nullopt);
  // The bound is per service.
  CAF_CHECK(queued_ok(q.offer(job(6, service::tts))));
  CAF_CHECK(q.offer(job(2)).st == offer_result::status::duplicate);
  CAF_CHECK(q.offer(job(1)).st == offer_result::status::duplicate);
  // One leaves the queue: room again.
  CAF_CHECK(q.finished(1, job_outcome::served, t0 + 2s));
  CAF_CHECK_EQUAL(started_ids(q.next_starts(t0 + 2s)), (std::vector<job_id>{2, 6}));
  CAF_CHECK(queued_ok(q.offer(job(5))));
}

CAF_TEST(the_wait_estimate_learns_from_service_times) {
  owner_queue_settings settings;
  settings.initial_service_time = 1s;
  settings.service_time_weight = 0.5;
  owner_queue q{{asr_cpu(2)}, settings};
  CAF_CHECK_EQUAL(q.view(0).wait_estimate, queue_duration::zero());
  CAF_CHECK(queued_ok(q.offer(job(1))));
  q.next_starts(t0);
  CAF_CHECK(q.finished(1, job_outcome::served, t0 + 3s));
  CAF_CHECK_EQUAL(q.view(0).service_time, queue_duration{2s});  // (1 + 3) / 2
  // A failure or a release teaches nothing about service times.
  CAF_CHECK(queued_ok(q.offer(job(2, service::asr, t0 + 3s))));
  q.next_starts(t0 + 3s);
  CAF_CHECK(q.finished(2, job_outcome::failed, t0 + 3s + 10ms));
  CAF_CHECK_EQUAL(q.view(0).service_time, queue_duration{2s});
  for (job_id id = 3; id <= 7; ++id) CAF_CHECK(queued_ok(q.offer(job(id, service::asr, t0 + 4s))));
  q.next_starts(t0 + 4s);
  auto v = q.view(0);
  CAF_CHECK_EQUAL(v.running, 2u);
  CAF_CHECK_EQUAL(v.queued, 3u);
  // 5 ahead on 2 slots of 2 s each (1 job a second): a new one starts once 4 have left.
  CAF_CHECK_EQUAL(v.wait_estimate, queue_duration{4s});
  CAF_CHECK(v.health == backend_health::up);
}

CAF_TEST(a_job_past_its_deadline_is_dropped_and_never_started) {
  owner_queue q{{asr_cpu()}};
  CAF_CHECK(queued_ok(q.offer(job(1, service::asr, t0, wanted_kind::any, 60s))));
  CAF_CHECK(queued_ok(q.offer(job(2, service::asr, t0 + 1ms, wanted_kind::any, 2s))));
  CAF_CHECK(queued_ok(q.offer(job(3, service::asr, t0 + 2ms, wanted_kind::any, 60s))));
  CAF_CHECK_EQUAL(started_ids(q.next_starts(t0 + 5ms)), (std::vector<job_id>{1}));
  // 1 still runs when 2's deadline passes.
  auto d = q.next_starts(t0 + 3s);
  CAF_CHECK(d.starts.empty());
  CAF_CHECK_EQUAL(d.expired, (std::vector<job_id>{2}));
  CAF_CHECK(q.state_of(2) == std::nullopt);
  CAF_CHECK(q.withdraw(2) == withdraw_result::unknown);
  CAF_CHECK(q.finished(1, job_outcome::served, t0 + 4s));
  d = q.next_starts(t0 + 4s);
  CAF_CHECK_EQUAL(started_ids(d), (std::vector<job_id>{3}));
  CAF_CHECK(d.expired.empty());
}

CAF_TEST(a_job_can_be_withdrawn_until_it_starts) {
  owner_queue q{{asr_cpu()}};
  CAF_CHECK(queued_ok(q.offer(job(1, service::asr, t0))));
  CAF_CHECK(queued_ok(q.offer(job(2, service::asr, t0 + 1ms))));
  CAF_CHECK(queued_ok(q.offer(job(3, service::asr, t0 + 2ms))));
  CAF_CHECK(q.withdraw(2) == withdraw_result::withdrawn);
  CAF_CHECK_EQUAL(started_ids(q.next_starts(t0 + 5ms)), (std::vector<job_id>{1}));
  CAF_CHECK(q.withdraw(1) == withdraw_result::started);  // it runs to its end
  CAF_CHECK(q.state_of(1) == job_state::running);
  CAF_CHECK(q.withdraw(42) == withdraw_result::unknown);
  CAF_CHECK(q.finished(1, job_outcome::served, t0 + 1s));
  // The withdrawn job never comes back: 3 is next.
  CAF_CHECK_EQUAL(started_ids(q.next_starts(t0 + 1s)), (std::vector<job_id>{3}));
  CAF_CHECK(q.finished(3, job_outcome::served, t0 + 2s));
  CAF_CHECK(q.next_starts(t0 + 2s).starts.empty());
}

CAF_TEST(a_hung_backend_is_marked_down_within_one_attempt_timeout) {
  owner_queue_settings settings;
  settings.probe_pause = 1s;
  owner_queue q{{asr_cpu(), asr_cpu()}, settings};
  CAF_CHECK(queued_ok(q.offer(job(1, service::asr, t0))));
  CAF_CHECK(queued_ok(q.offer(job(2, service::asr, t0))));
  CAF_CHECK_EQUAL(started_ids(q.next_starts(t0)), (std::vector<job_id>{1, 2}));
  CAF_CHECK(q.finished(2, job_outcome::served, t0 + 1s));
  CAF_CHECK(queued_ok(q.offer(job(3, service::asr, t0 + 1s))));
  auto first = *q.backend_of(1);
  auto other = 1 - first;
  CAF_CHECK_EQUAL(started_ids(q.next_starts(t0 + 1s)), (std::vector<job_id>{3}));
  CAF_CHECK(q.backend_of(3) == other);
  CAF_CHECK(q.finished(3, job_outcome::served, t0 + 2s));
  auto early = q.hung(t0 + 5s - 1ms, 5s);
  CAF_CHECK(early.hung.empty() && early.marked_down.empty());
  auto r = q.hung(t0 + 5s, 5s);
  CAF_REQUIRE_EQUAL(r.hung.size(), 1u);
  CAF_CHECK_EQUAL(r.hung[0].id, 1u);
  CAF_CHECK_EQUAL(r.hung[0].backend, first);
  CAF_CHECK_EQUAL(r.marked_down, (std::vector<backend_index>{first}));
  CAF_CHECK(q.view(first).health == backend_health::down);
  CAF_CHECK_EQUAL(q.view(first).running, 0u);
  // Its answer, should it come, is not counted again.
  CAF_CHECK(!q.finished(1, job_outcome::served, t0 + 30s));
  // A down backend gets nothing, even with a free slot and work waiting.
  for (job_id id = 4; id <= 6; ++id) CAF_CHECK(queued_ok(q.offer(job(id, service::asr, t0 + 5s))));
  auto d = q.next_starts(t0 + 5s);
  CAF_CHECK_EQUAL(started_ids(d), (std::vector<job_id>{4}));
  CAF_CHECK_EQUAL(d.starts[0].backend, other);
  // The attempt timeout as an outcome marks down the same way.
  CAF_CHECK(q.finished(4, job_outcome::timed_out, t0 + 10s));
  CAF_CHECK(q.view(other).health == backend_health::down);
}

CAF_TEST(a_backend_whose_last_job_failed_is_chosen_after_the_others) {
  owner_queue q{{asr_cpu(), asr_cpu()}};
  CAF_CHECK(queued_ok(q.offer(job(1, service::asr, t0))));
  auto d = q.next_starts(t0);
  auto first = d.starts.at(0).backend;
  CAF_CHECK(q.finished(1, job_outcome::failed, t0 + 1s));
  // Both free: the retry goes to the other one, and so does the next job.
  CAF_CHECK(queued_ok(q.offer(job(2, service::asr, t0 + 1s))));
  d = q.next_starts(t0 + 1s);
  CAF_CHECK(d.starts.at(0).backend != first);
  CAF_CHECK(q.finished(2, job_outcome::served, t0 + 2s));
  CAF_CHECK(queued_ok(q.offer(job(3, service::asr, t0 + 2s))));
  CAF_CHECK(queued_ok(q.offer(job(4, service::asr, t0 + 2s))));
  // Both needed: it still gets work (it is up), and a served job clears the mark.
  d = q.next_starts(t0 + 2s);
  CAF_REQUIRE_EQUAL(d.starts.size(), 2u);
  CAF_CHECK(d.starts[1].backend == first);
  CAF_CHECK(q.finished(4, job_outcome::served, t0 + 3s));
  CAF_CHECK(q.finished(3, job_outcome::served, t0 + 3s));
  CAF_CHECK(queued_ok(q.offer(job(5, service::asr, t0 + 3s))));
  CAF_CHECK_EQUAL(q.next_starts(t0 + 3s).starts.size(), 1u);
}

CAF_TEST(a_job_never_goes_to_a_backend_it_avoids) {
  owner_queue q{{asr_cpu(), asr_cpu()}};
  auto j = job(1, service::asr, t0);
  j.avoid = {0};
  CAF_CHECK(queued_ok(q.offer(j)));
  auto d = q.next_starts(t0);
  CAF_REQUIRE_EQUAL(d.starts.size(), 1u);
  CAF_CHECK_EQUAL(d.starts[0].backend, 1u);
  // The other one busy: it waits rather than go to the avoided one.
  auto k = job(2, service::asr, t0);
  k.avoid = {0};
  CAF_CHECK(queued_ok(q.offer(k)));
  CAF_CHECK(q.next_starts(t0).starts.empty());
  // Every backend that fits avoided: none for it.
  auto l = job(3, service::asr, t0);
  l.avoid = {0, 1};
  CAF_CHECK(q.offer(l).st == offer_result::status::no_backend);
}

CAF_TEST(probe_all_sends_nothing_before_a_backend_answered) {
  owner_queue q{{asr_cpu(), asr_cpu()}};
  q.probe_all(t0);
  CAF_CHECK(q.offer(job(1, service::asr, t0)).st == offer_result::status::no_backend);
  CAF_CHECK_EQUAL(q.probes_due(t0), (std::vector<backend_index>{0, 1}));
  q.probe_result(1, true, t0 + 1ms);
  q.probe_result(0, false, t0 + 1ms);
  CAF_CHECK(queued_ok(q.offer(job(2, service::asr, t0 + 1ms))));
  auto d = q.next_starts(t0 + 1ms);
  CAF_REQUIRE_EQUAL(d.starts.size(), 1u);
  CAF_CHECK_EQUAL(d.starts[0].backend, 1u);
  CAF_CHECK(q.view(0).next_probe == t0 + 1ms + 2s);  // the pause doubles from the first
}

CAF_TEST(an_unreachable_backend_is_marked_down_a_failed_job_is_not) {
  owner_queue q{{asr_cpu()}};
  CAF_CHECK(queued_ok(q.offer(job(1, service::asr, t0))));
  q.next_starts(t0);
  // An answer that is not a reply (the request may be at fault): still up.
  CAF_CHECK(q.finished(1, job_outcome::failed, t0 + 1s));
  CAF_CHECK(q.view(0).health == backend_health::up);
  CAF_CHECK(queued_ok(q.offer(job(2, service::asr, t0 + 1s))));
  q.next_starts(t0 + 1s);
  // Connection refused: down, probed from the first pause on.
  CAF_CHECK(q.finished(2, job_outcome::unreachable, t0 + 1s));
  CAF_CHECK(q.view(0).health == backend_health::down);
  CAF_CHECK(q.view(0).next_probe == t0 + 2s);
  CAF_CHECK(q.offer(job(3, service::asr, t0 + 1s)).st == offer_result::status::no_backend);
}

CAF_TEST(a_down_backend_is_probed_on_a_timer_while_work_goes_on) {
  owner_queue_settings settings;
  settings.probe_pause = 1s;
  settings.max_probe_pause = 4s;
  owner_queue q{{asr_cpu(), asr_cpu()}, settings};
  CAF_CHECK(queued_ok(q.offer(job(1, service::asr, t0))));
  q.next_starts(t0);
  auto down = *q.backend_of(1);
  auto up = 1 - down;
  CAF_CHECK(q.finished(1, job_outcome::timed_out, t0 + 5s));
  CAF_CHECK(q.probes_due(t0 + 5s).empty());
  // The other backend is busy and work is waiting: the probe is due all the same.
  for (job_id id = 2; id <= 4; ++id) CAF_CHECK(queued_ok(q.offer(job(id, service::asr, t0 + 5s))));
  CAF_CHECK_EQUAL(started_ids(q.next_starts(t0 + 5s)), (std::vector<job_id>{2}));
  CAF_CHECK(q.probes_due(t0 + 6s - 1ms).empty());
  CAF_CHECK_EQUAL(q.probes_due(t0 + 6s), (std::vector<backend_index>{down}));
  CAF_CHECK(q.view(down).probe_in_flight);
  CAF_CHECK(q.probes_due(t0 + 7s).empty());  // one probe at a time
  // No answer: 2 s, then 4 s, then 4 s (the maximum).
  q.probe_result(down, false, t0 + 6s);
  CAF_CHECK(q.probes_due(t0 + 8s - 1ms).empty());
  CAF_CHECK_EQUAL(q.probes_due(t0 + 8s), (std::vector<backend_index>{down}));
  q.probe_result(down, false, t0 + 8s);
  CAF_CHECK(q.view(down).next_probe == t0 + 12s);
  CAF_CHECK_EQUAL(q.probes_due(t0 + 12s), (std::vector<backend_index>{down}));
  q.probe_result(down, false, t0 + 12s);
  CAF_CHECK(q.view(down).next_probe == t0 + 16s);
  CAF_CHECK(q.next_starts(t0 + 13s).starts.empty());
  CAF_CHECK_EQUAL(q.probes_due(t0 + 16s), (std::vector<backend_index>{down}));
  q.probe_result(down, true, t0 + 16s);
  CAF_CHECK(q.view(down).health == backend_health::up);
  CAF_CHECK(!q.view(down).next_probe);
  auto d = q.next_starts(t0 + 16s);
  CAF_CHECK_EQUAL(started_ids(d), (std::vector<job_id>{3}));
  CAF_CHECK_EQUAL(d.starts[0].backend, down);
  CAF_CHECK_EQUAL(q.view(up).running, 1u);
  // Marked down again later, it starts from the first pause.
  CAF_CHECK(q.finished(3, job_outcome::timed_out, t0 + 20s));
  CAF_CHECK(q.view(down).next_probe == t0 + 21s);
  CAF_CHECK(q.probes_due(t0 + 20s).empty());
}

CAF_TEST(a_check_of_an_up_backend_holds_a_slot_until_its_probe_answers) {
  owner_queue_settings settings;
  settings.probe_pause = 1s;
  owner_queue q{{asr_cpu(), asr_cpu(2)}, settings};
  CAF_CHECK(q.begin_check(0) == check_result::started);
  CAF_CHECK(q.view(0).checking && q.view(0).probe_in_flight);
  CAF_CHECK_EQUAL(q.view(0).running, 1u);
  CAF_CHECK(q.begin_check(0) == check_result::in_flight);  // never two probes at once
  // A job that comes meanwhile waits here, not behind the probe inside the backend.
  CAF_CHECK(queued_ok(q.offer(job(1, service::asr, t0, wanted_kind::any))));
  auto first = q.next_starts(t0);
  CAF_REQUIRE(first.starts.size() == 1u);
  CAF_CHECK_EQUAL(first.starts[0].backend, 1u);
  CAF_CHECK(queued_ok(q.offer(job(2, service::asr, t0))));
  CAF_CHECK(queued_ok(q.offer(job(3, service::asr, t0))));
  CAF_CHECK_EQUAL(started_ids(q.next_starts(t0)), (std::vector<job_id>{2}));
  // Backend 1 runs two jobs: its jobs tell, no probe. Backend 0's probe answers: job 3 goes.
  CAF_CHECK(q.begin_check(1) == check_result::busy);
  q.probe_result(0, true, t0 + 1s);
  CAF_CHECK(!q.view(0).checking && !q.view(0).probe_in_flight);
  CAF_CHECK(q.view(0).health == backend_health::up);
  auto after = q.next_starts(t0 + 1s);
  CAF_REQUIRE(after.starts.size() == 1u);
  CAF_CHECK_EQUAL(after.starts[0].id, 3u);
  CAF_CHECK_EQUAL(after.starts[0].backend, 0u);
  // A check that fails marks the backend down, probed again from the first pause.
  CAF_CHECK(q.finished(3, job_outcome::served, t0 + 2s));
  CAF_CHECK(q.begin_check(0) == check_result::started);
  q.probe_result(0, false, t0 + 7s);
  CAF_CHECK(q.view(0).health == backend_health::down);
  CAF_CHECK_EQUAL(q.view(0).running, 0u);
  CAF_CHECK(q.view(0).next_probe == t0 + 8s);
  CAF_CHECK(q.begin_check(0) == check_result::down);
  CAF_CHECK_EQUAL(q.probes_due(t0 + 8s), (std::vector<backend_index>{0}));
  CAF_CHECK(q.begin_check(0) == check_result::in_flight);
}

CAF_TEST(a_served_job_brings_a_down_backend_back_up) {
  // Two slots: one job times out (down), the other is then served: the backend works.
  owner_queue q{{asr_cpu(2)}};
  CAF_CHECK(queued_ok(q.offer(job(1, service::asr, t0))));
  CAF_CHECK(queued_ok(q.offer(job(2, service::asr, t0))));
  CAF_CHECK_EQUAL(started_ids(q.next_starts(t0)), (std::vector<job_id>{1, 2}));
  CAF_CHECK(q.finished(1, job_outcome::timed_out, t0 + 5s));
  CAF_CHECK(q.view(0).health == backend_health::down);
  CAF_CHECK(q.finished(2, job_outcome::served, t0 + 6s));
  CAF_CHECK(q.view(0).health == backend_health::up);
  CAF_CHECK(!q.view(0).next_probe);
  CAF_CHECK(q.probes_due(t0 + 60s).empty());
}

CAF_TEST(while_every_backend_of_a_service_is_down_its_jobs_are_handed_back) {
  owner_queue q{{asr_cpu(), asr_gpu(), tts_cpu()}};
  CAF_CHECK(queued_ok(q.offer(job(1, service::asr, t0, wanted_kind::cpu))));
  CAF_CHECK(queued_ok(q.offer(job(2, service::asr, t0, wanted_kind::gpu))));
  CAF_CHECK(queued_ok(q.offer(job(3, service::tts, t0))));
  q.next_starts(t0);
  CAF_CHECK(queued_ok(q.offer(job(4, service::asr, t0 + 1s, wanted_kind::cpu))));
  CAF_CHECK(queued_ok(q.offer(job(5, service::asr, t0 + 1s, wanted_kind::any))));
  CAF_CHECK(queued_ok(q.offer(job(6, service::tts, t0 + 1s))));
  // All three hang; the GPU and TTS backends answer their probes, the CPU one does not: a
  // CPU job has nowhere to go, an "any" one goes to the GPU.
  auto r = q.hung(t0 + 60s, 60s);
  CAF_CHECK_EQUAL(r.marked_down.size(), 3u);
  q.probe_result(1, true, t0 + 61s);
  q.probe_result(2, true, t0 + 61s);
  // Now only the CPU ASR backend is down.
  auto d = q.next_starts(t0 + 61s);
  CAF_CHECK_EQUAL(d.no_backend, (std::vector<job_id>{4}));
  CAF_CHECK_EQUAL(started_ids(d), (std::vector<job_id>{5, 6}));
  CAF_CHECK(q.offer(job(7, service::asr, t0 + 62s, wanted_kind::cpu)).st ==
            offer_result::status::no_backend);
  CAF_CHECK(queued_ok(q.offer(job(8, service::asr, t0 + 62s, wanted_kind::any))));
  // The GPU times out too: every ASR backend is down, the waiting ASR job goes back.
  CAF_CHECK(q.finished(5, job_outcome::timed_out, t0 + 70s));
  d = q.next_starts(t0 + 70s);
  CAF_CHECK_EQUAL(d.no_backend, (std::vector<job_id>{8}));
  CAF_CHECK(d.starts.empty());
  CAF_CHECK(q.queued_jobs().empty());
  CAF_CHECK(q.offer(job(9, service::asr, t0 + 71s)).st == offer_result::status::no_backend);
  CAF_CHECK(queued_ok(q.offer(job(10, service::tts, t0 + 71s))));
}

CAF_TEST(a_reservation_holds_its_slot_until_its_job_comes_or_it_is_released) {
  owner_queue_settings settings;
  settings.initial_service_time = 1s;
  settings.service_time_weight = 0.5;
  owner_queue q{{asr_cpu()}, settings};
  CAF_CHECK(queued_ok(q.offer(reservation(1, t0))));
  CAF_CHECK(queued_ok(q.offer(job(2, service::asr, t0 + 1ms))));
  auto d = q.next_starts(t0 + 2ms);
  CAF_REQUIRE_EQUAL(d.starts.size(), 1u);
  CAF_CHECK_EQUAL(d.starts[0].id, 1u);
  CAF_CHECK(d.starts[0].reservation);
  CAF_CHECK(q.state_of(1) == job_state::held);
  CAF_CHECK_EQUAL(q.view(0).running, 1u);
  CAF_CHECK(q.withdraw(1) == withdraw_result::started);
  // The entry node placed it elsewhere: the slot goes to the next job, no outcome counted.
  CAF_CHECK(q.release(1));
  CAF_CHECK(!q.release(1));
  CAF_CHECK_EQUAL(q.view(0).service_time, queue_duration{1s});
  CAF_CHECK_EQUAL(started_ids(q.next_starts(t0 + 3s)), (std::vector<job_id>{2}));
  CAF_CHECK(q.finished(2, job_outcome::served, t0 + 4s));
  // A reservation whose job comes: its service time counts from then.
  CAF_CHECK(queued_ok(q.offer(reservation(3, t0 + 4s))));
  q.next_starts(t0 + 4s);
  CAF_CHECK(!q.begin(2, t0 + 5s));
  CAF_CHECK(q.begin(3, t0 + 10s));
  CAF_CHECK(!q.begin(3, t0 + 10s));
  CAF_CHECK(q.state_of(3) == job_state::running);
  CAF_CHECK(q.finished(3, job_outcome::served, t0 + 13s));
  CAF_CHECK_EQUAL(q.view(0).service_time, queue_duration{2s});  // 1 s then 3 s: (1 + 3) / 2
  // A reservation held past the hold timeout (5 s by default) lapses, whatever the
  // attempt timeout; its backend is not blamed.
  CAF_CHECK(queued_ok(q.offer(reservation(4, t0 + 20s))));
  q.next_starts(t0 + 20s);
  CAF_CHECK(q.hung(t0 + 24s, 60s).lapsed.empty());
  CAF_CHECK(q.state_of(4) == job_state::held);
  auto r = q.hung(t0 + 25s, 60s);
  CAF_CHECK(r.hung.empty());
  CAF_CHECK_EQUAL(r.lapsed, (std::vector<job_id>{4}));
  CAF_CHECK(r.marked_down.empty());
  CAF_CHECK(q.view(0).health == backend_health::up);
  CAF_CHECK_EQUAL(q.view(0).running, 0u);
  CAF_CHECK(!q.begin(4, t0 + 26s));
  CAF_CHECK(queued_ok(q.offer(reservation(5, t0 + 90s))));
  q.next_starts(t0 + 90s);
  CAF_CHECK(q.finished(5, job_outcome::timed_out, t0 + 150s));
  CAF_CHECK(q.view(0).health == backend_health::up);
}

namespace {

/// What the randomized run knows from outside the queue.
struct world {
  std::map<job_id, owner_job> offered;       // waiting, by what the queue said
  std::map<job_id, backend_index> running;   // started and not ended
  std::set<job_id> ever_started;
  std::set<job_id> ended_unstarted;          // expired, handed back, withdrawn
};

}  // namespace

CAF_TEST(randomized_events_never_start_a_job_twice_nor_break_the_rules) {
  owner_queue_settings settings;
  settings.max_queued_per_service = 4;
  settings.probe_pause = 1s;
  settings.max_probe_pause = 8s;
  settings.initial_service_time = 500ms;
  std::vector<owned_slot_spec> specs{asr_cpu(1), asr_cpu(2), asr_gpu(1), tts_cpu(3), tts_cpu(1)};
  owner_queue q{specs, settings};
  world w;
  std::mt19937_64 rng{20};
  auto pick = [&](std::size_t n) {
    return std::uniform_int_distribution<std::size_t>(0, n - 1)(rng);
  };
  auto chance = [&](double p) { return std::uniform_real_distribution<double>(0, 1)(rng) < p; };
  queue_time now = t0;
  job_id next_id = 1;
  std::size_t starts = 0, expired = 0, handed_back = 0, hung = 0, withdrawn = 0, full = 0;
  std::set<backend_index> probing;   // down-probes and checks out
  std::set<backend_index> checking;  // the checks among them, each holding a slot
  std::size_t checks = 0;
  const queue_duration attempt_timeout = 5s;

  auto any_of_running = [&]() -> std::optional<job_id> {
    if (w.running.empty()) return std::nullopt;
    auto it = w.running.begin();
    std::advance(it, static_cast<long>(pick(w.running.size())));
    return it->first;
  };

  for (int step = 0; step < 20000; ++step) {
    now += std::chrono::milliseconds(pick(400));
    switch (pick(10)) {
      case 0:
      case 1:
      case 7: {  // offer
        owner_job j;
        j.id = next_id++;
        j.service = chance(0.6) ? service::asr : service::tts;
        j.wanted = std::array<wanted_kind, 3>{wanted_kind::any, wanted_kind::cpu,
                                              wanted_kind::gpu}[pick(3)];
        j.arrival = now - std::chrono::milliseconds(pick(300));  // entry nodes' clocks differ
        j.deadline = j.arrival + std::chrono::milliseconds(200 + pick(8000));
        j.reservation = chance(0.2);
        auto r = q.offer(j);
        if (r.st == offer_result::status::queued) w.offered.emplace(j.id, j);
        if (r.st == offer_result::status::full) ++full;
        if (r.st == offer_result::status::full)
          CAF_CHECK_GREATER_OR_EQUAL(q.queued(j.service), settings.max_queued_per_service);
        CAF_CHECK(r.st != offer_result::status::duplicate);
        break;
      }
      case 2: {  // withdraw something: waiting, running, or gone
        job_id id = 1 + pick(next_id);
        if (!w.offered.empty() && chance(0.5)) {
          auto it = w.offered.begin();
          std::advance(it, static_cast<long>(pick(w.offered.size())));
          id = it->first;
        }
        auto r = q.withdraw(id);
        if (w.offered.count(id)) {
          CAF_CHECK(r == withdraw_result::withdrawn);
          w.offered.erase(id);
          w.ended_unstarted.insert(id);
          ++withdrawn;
        } else if (w.running.count(id)) {
          CAF_CHECK(r == withdraw_result::started);
        } else {
          CAF_CHECK(r == withdraw_result::unknown);
        }
        break;
      }
      case 3:
      case 4: {  // a running job ends
        auto id = any_of_running();
        if (!id) break;
        if (q.state_of(*id) == job_state::held && chance(0.5)) {
          CAF_CHECK(q.begin(*id, now));
          break;
        }
        bool ok;
        if (chance(0.1)) {
          ok = q.release(*id);
        } else {
          auto outcome = std::array<job_outcome, 5>{job_outcome::served, job_outcome::served,
                                                    job_outcome::failed, job_outcome::timed_out,
                                                    job_outcome::unreachable}[pick(5)];
          ok = q.finished(*id, outcome, now);
        }
        CAF_CHECK(ok);
        w.running.erase(*id);
        break;
      }
      case 5: {  // the timer: hung jobs
        auto r = q.hung(now, attempt_timeout);
        for (const auto& h : r.hung) {
          CAF_CHECK(w.running.count(h.id) == 1 && w.running[h.id] == h.backend);
          w.running.erase(h.id);
          ++hung;
        }
        for (auto id : r.lapsed) {
          CAF_CHECK(w.running.count(id) == 1);
          w.running.erase(id);
        }
        for (auto b : r.marked_down) CAF_CHECK(q.view(b).health == backend_health::down);
        break;
      }
      case 6: {  // the timer: probes, and their answers
        for (auto b : q.probes_due(now)) {
          CAF_CHECK(q.view(b).health == backend_health::down);
          CAF_CHECK(probing.insert(b).second);
        }
        if (!probing.empty()) {
          auto it = probing.begin();
          std::advance(it, static_cast<long>(pick(probing.size())));
          q.probe_result(*it, chance(0.6), now);
          checking.erase(*it);
          probing.erase(it);
        }
        break;
      }
      case 8: {  // the announcer asks whether a backend works
        auto b = pick(specs.size());
        auto v = q.view(b);
        auto r = q.begin_check(b);
        if (r == check_result::started) {
          CAF_CHECK(v.health == backend_health::up && v.running < specs[b].capacity);
          CAF_CHECK(probing.insert(b).second);
          checking.insert(b);
          ++checks;
        }
        if (r == check_result::in_flight) CAF_CHECK(probing.count(b) == 1);
        if (r == check_result::busy) CAF_CHECK_EQUAL(v.running, specs[b].capacity);
        if (r == check_result::down) CAF_CHECK(v.health == backend_health::down);
        break;
      }
      default:
        break;
    }
    auto d = q.next_starts(now);
    for (const auto& s : d.starts) {
      CAF_CHECK(w.ever_started.insert(s.id).second);    // never twice
      CAF_CHECK(w.ended_unstarted.count(s.id) == 0);    // never after leaving unstarted
      CAF_REQUIRE(w.offered.count(s.id) == 1);
      const auto& j = w.offered[s.id];
      CAF_CHECK(q.serves(s.backend, j));
      CAF_CHECK(q.view(s.backend).health == backend_health::up);
      CAF_CHECK(j.deadline > now);
      CAF_CHECK_EQUAL(s.reservation, j.reservation);
      // FIFO: nobody who came earlier still waits for a backend this one got.
      for (const auto& left : q.queued_jobs())
        CAF_CHECK(!(left.arrival < j.arrival && q.serves(s.backend, left)));
      w.running.emplace(s.id, s.backend);
      w.offered.erase(s.id);
      ++starts;
    }
    for (auto id : d.expired) {
      CAF_CHECK(w.offered.count(id) == 1 && w.offered[id].deadline <= now);
      CAF_CHECK(w.ever_started.count(id) == 0);
      w.offered.erase(id);
      w.ended_unstarted.insert(id);
      ++expired;
    }
    for (auto id : d.no_backend) {
      CAF_CHECK(w.offered.count(id) == 1);
      CAF_CHECK(w.ever_started.count(id) == 0);
      w.offered.erase(id);
      w.ended_unstarted.insert(id);
      ++handed_back;
    }
    // The invariants, after every step.
    std::vector<unsigned> running(specs.size(), 0);
    for (auto b : checking) ++running[b];
    for (const auto& [id, b] : w.running) {
      ++running[b];
      CAF_CHECK(q.backend_of(id) == b);
    }
    for (backend_index b = 0; b < specs.size(); ++b) {
      auto v = q.view(b);
      CAF_CHECK_LESS_OR_EQUAL(v.running, specs[b].capacity);
      CAF_CHECK_EQUAL(v.running, running[b]);
    }
    auto waiting = q.queued_jobs();
    CAF_CHECK_EQUAL(waiting.size(), w.offered.size());
    CAF_CHECK_LESS_OR_EQUAL(q.queued(service::asr), settings.max_queued_per_service);
    CAF_CHECK_LESS_OR_EQUAL(q.queued(service::tts), settings.max_queued_per_service);
    for (const auto& j : waiting) {
      CAF_CHECK(w.offered.count(j.id) == 1);
      CAF_CHECK(j.deadline > now);
      bool some_up = false;
      for (backend_index b = 0; b < specs.size(); ++b) {
        auto v = q.view(b);
        if (!q.serves(b, j) || v.health != backend_health::up) continue;
        some_up = true;
        CAF_CHECK_EQUAL(v.running, specs[b].capacity);  // a free slot would have taken it
      }
      CAF_CHECK(some_up);  // else it was handed back
    }
  }
  CAF_MESSAGE("starts " << starts << ", expired " << expired << ", handed back " << handed_back
                        << ", hung " << hung << ", withdrawn " << withdrawn << ", full " << full
                        << ", checks " << checks);
  // Every path was taken.
  CAF_CHECK_GREATER(starts, 1000u);
  CAF_CHECK_GREATER(expired, 0u);
  CAF_CHECK_GREATER(handed_back, 0u);
  CAF_CHECK_GREATER(hung, 0u);
  CAF_CHECK_GREATER(withdrawn, 0u);
  CAF_CHECK_GREATER(full, 0u);
  CAF_CHECK_GREATER(checks, 0u);
}
