// Deterministic tests of the owner actor over a real backend pool and forwarders, with a
// fake HTTP exchange that the test completes by hand: at most `capacity` jobs on a backend
// at once, FIFO order, reservations granted when a slot frees and claimed or cancelled,
// a full queue answered at once, a held reservation that lapses, a hung backend seen
// within the attempt timeout and probed on a timer, the announcer's check (a probe on a
// free slot), the capacity a backend tells in its answers, and the view for /status.
#define CAF_SUITE owner_actor
#include "caf/test/dsl.hpp"

#include <algorithm>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "actors/backend_pool.hpp"
#include "actors/owner_actor.hpp"
#include "sim_network.hpp"

using namespace sova;
using namespace std::chrono_literals;
using actors::forward_outcome;
using actors::forward_request;
using actors::forward_status;
using actors::owned_backend_states;
using actors::reservation_answer;
using actors::reservation_request;
using actors::reservation_status;

namespace {

struct exchange {
  net::service_record backend;
  std::string body;
  http::client_callback done;
};
using exchanges = std::shared_ptr<std::vector<exchange>>;

struct probe_call {
  net::service_record backend;
  std::function<void(actors::probe_verdict)> done;
};
using probe_calls = std::shared_ptr<std::vector<probe_call>>;

net::owned_backend owned(const std::string& text) {
  auto o = net::parse_owned_backend(text);
  CAF_REQUIRE(o);
  return *o;
}

/// What a SOVA TTS server answers for a synthesized text.
http::client_result tts_reply() {
  http::client_result r{true, http::client_errc::protocol, "", {}, {}};
  r.response.status = 200;
  r.response.headers = {{"Content-Type", "application/json"}};
  r.response.body = R"({"response":[{"response_audio":"UklGRg=="}],"response_code":0})";
  return r;
}

struct fixture : test_coordinator_fixture<> {
  exchanges sent = std::make_shared<std::vector<exchange>>();
  probe_calls probes = std::make_shared<std::vector<probe_call>>();
  actors::backend_pool_actor pool;
  actors::owner_actor owner;

  /// The Sova-Workers each backend's first probe answer carries (by port; absent: none).
  std::map<std::uint16_t, unsigned> workers_told;

  void start(std::vector<net::owned_backend> own, actors::owner_config cfg = {}) {
    auto log = sent;
    actors::http_send fake = [log](const net::service_record& backend, http::client_request req,
                                   http::client_callback done) {
      log->push_back(exchange{backend, std::move(req.body), std::move(done)});
    };
    pool = actors::spawn_backend_pool(sys, {}, fake);
    auto calls = probes;
    actors::backend_probe probe = [calls](const net::service_record& backend,
                                          std::function<void(actors::probe_verdict)> done) {
      calls->push_back(probe_call{backend, std::move(done)});
    };
    cfg.attempt_timeout = 5s;
    auto count = own.size();
    owner = actors::spawn_owner(sys, cfg, std::move(own), pool, probe);
    sched.run();
    // Nothing goes to a backend before it answered: the owner probes them all first.
    CAF_REQUIRE_EQUAL(probes->size(), count);
    CAF_CHECK(states().at(0).up == false);
    for (auto& p : *probes) {
      actors::probe_verdict alive;
      alive.alive = true;
      if (auto it = workers_told.find(p.backend.port); it != workers_told.end())
        alive.workers = it->second;
      p.done(alive);
    }
    probes->clear();
    sched.run();
  }

  ~fixture() {
    anon_send_exit(owner, caf::exit_reason::user_shutdown);
    anon_send_exit(pool, caf::exit_reason::user_shutdown);
    sched.run();
  }

  forward_request job(std::string body, caf::timespan timeout = 60s) {
    forward_request r;
    r.service = net::service::tts;
    r.content_type = "application/json";
    r.body = std::move(body);
    r.timeout = timeout;
    return r;
  }

  sim::answer<forward_outcome> run(std::string body) {
    auto x = sim::ask<forward_outcome>(sys, owner, actors::run_atom::value, job(std::move(body)),
                                       net::wanted_kind::any);
    sched.run();
    return x;
  }

  sim::answer<reservation_answer> reserve(std::string id, caf::timespan timeout = 60s) {
    reservation_request r{std::move(id), net::service::tts, net::wanted_kind::any, timeout};
    auto x = sim::ask<reservation_answer>(sys, owner, actors::reserve_atom::value, r);
    sched.run();
    return x;
  }

  sim::answer<forward_outcome> claim(std::string id, std::string body) {
    auto x = sim::ask<forward_outcome>(sys, owner, actors::claim_atom::value, std::move(id),
                                       job(std::move(body)));
    sched.run();
    return x;
  }

  void cancel(std::string id) {
    anon_send(owner, actors::cancel_atom::value, std::move(id));
    sched.run();
  }

  /// Completes exchange `i` with `r` and lets everyone react.
  void complete(std::size_t i, http::client_result r = tts_reply()) {
    CAF_REQUIRE(i < sent->size());
    auto done = std::move((*sent)[i].done);
    CAF_REQUIRE(done);
    done(std::move(r));
    sched.run();
  }

  owned_backend_states states() {
    auto x = sim::ask<owned_backend_states>(sys, owner, actors::queue_atom::value);
    sched.run();
    return value(x);
  }

  /// Lets `d` of simulated time pass, firing the owner's timer on the way.
  void pass(caf::timespan d) {
    for (auto t = caf::timespan{0}; t < d; t += 250ms) {
      sched.advance_time(250ms);
      sched.run();
    }
  }

  template <class T>
  T value(const sim::answer<T>& x) {
    CAF_REQUIRE(sim::ready(x));
    CAF_REQUIRE(**x);
    return ***x;
  }
};

}  // namespace

CAF_TEST_FIXTURE_SCOPE(owner_actor_tests, fixture)

CAF_TEST(one_job_at_a_time_on_a_one_worker_backend_in_arrival_order) {
  start({owned("tts/cpu/127.0.0.1:8899")});
  auto a = run("a");
  auto b = run("b");
  auto c = run("c");
  CAF_REQUIRE_EQUAL(sent->size(), 1u);  // b and c wait here, not in the backend's queue
  CAF_CHECK((*sent)[0].body == "a");
  auto s = states();
  CAF_REQUIRE_EQUAL(s.size(), 1u);
  CAF_CHECK_EQUAL(s[0].capacity, 1u);
  CAF_CHECK_EQUAL(s[0].running, 1u);
  CAF_CHECK_EQUAL(s[0].queued, 2u);
  CAF_CHECK(s[0].wait_s > 0);
  complete(0);
  CAF_CHECK(value(a).status == forward_status::served);
  CAF_REQUIRE_EQUAL(sent->size(), 2u);
  CAF_CHECK((*sent)[1].body == "b");
  CAF_CHECK(!sim::ready(c));
  complete(1);
  CAF_CHECK(value(b).status == forward_status::served);
  CAF_REQUIRE_EQUAL(sent->size(), 3u);
  CAF_CHECK((*sent)[2].body == "c");
  complete(2);
  CAF_CHECK(value(c).status == forward_status::served);
  s = states();
  CAF_CHECK_EQUAL(s[0].running, 0u);
  CAF_CHECK_EQUAL(s[0].queued, 0u);
  CAF_CHECK_EQUAL(s[0].served, 3u);
}

CAF_TEST(a_capacity_of_two_runs_two_jobs_at_once) {
  start({owned("tts/cpu/127.0.0.1:8899*2")});
  auto a = run("a");
  auto b = run("b");
  auto c = run("c");
  CAF_CHECK(sent->size() == 2u);
  complete(1);
  CAF_CHECK(value(b).status == forward_status::served);
  CAF_REQUIRE_EQUAL(sent->size(), 3u);
  CAF_CHECK((*sent)[2].body == "c");
  complete(0);
  complete(2);
  CAF_CHECK(value(a).status == forward_status::served);
  CAF_CHECK(value(c).status == forward_status::served);
}

CAF_TEST(a_reservation_is_granted_when_a_slot_frees_and_its_job_runs_there) {
  start({owned("tts/cpu/127.0.0.1:8899")});
  auto busy = run("first");
  auto r1 = reserve("r1");
  auto r2 = reserve("r2");
  CAF_CHECK(!sim::ready(r1));
  complete(0);
  CAF_CHECK(value(busy).status == forward_status::served);
  CAF_CHECK(value(r1).status == reservation_status::granted);
  CAF_CHECK(!sim::ready(r2));
  CAF_CHECK(sent->size() == 1u);  // a held slot sends nothing until its job comes
  CAF_CHECK(states()[0].running == 1u);
  auto job = claim("r1", "for r1");
  CAF_REQUIRE_EQUAL(sent->size(), 2u);
  CAF_CHECK((*sent)[1].body == "for r1");
  complete(1);
  CAF_CHECK(value(job).status == forward_status::served);
  CAF_CHECK(value(r2).status == reservation_status::granted);
  // The entry node placed r2's job elsewhere: the slot goes to the next one, nothing ran.
  auto r3 = reserve("r3");
  cancel("r2");
  CAF_CHECK(value(r3).status == reservation_status::granted);
  CAF_CHECK(sent->size() == 2u);
  // A claim of a reservation given up holds nothing: refused, its body given back.
  auto late = claim("r2", "too late");
  CAF_CHECK(value(late).status == forward_status::refused);
  CAF_CHECK(value(late).request_body == "too late");
  CAF_CHECK(sent->size() == 2u);
}

CAF_TEST(a_waiting_reservation_cancelled_never_takes_a_slot) {
  start({owned("tts/cpu/127.0.0.1:8899")});
  auto busy = run("first");
  auto r1 = reserve("r1");
  auto b = run("second");
  cancel("r1");
  CAF_CHECK(value(r1).status == reservation_status::cancelled);  // its HTTP wait is answered
  complete(0);
  CAF_REQUIRE_EQUAL(sent->size(), 2u);
  CAF_CHECK((*sent)[1].body == "second");
  complete(1);
  CAF_CHECK(value(b).status == forward_status::served);
  // A reservation id is taken once while it is here.
  auto r4 = reserve("r4");
  CAF_CHECK(value(r4).status == reservation_status::granted);
  auto again = reserve("r4");
  CAF_CHECK(value(again).status == reservation_status::failed);
}

CAF_TEST(a_full_queue_is_said_at_once_with_a_wait) {
  actors::owner_config cfg;
  cfg.queue.max_queued_per_service = 1;
  start({owned("tts/cpu/127.0.0.1:8899")}, cfg);
  auto a = run("a");
  auto b = run("b");
  auto c = run("c");
  auto r = reserve("r");
  CAF_CHECK(value(c).status == forward_status::busy);
  CAF_CHECK(value(c).retry_after >= caf::timespan{1s});
  CAF_CHECK(value(c).request_body == "c");
  CAF_CHECK(value(r).status == reservation_status::full);
  CAF_CHECK(value(r).retry_after >= caf::timespan{1s});
  CAF_CHECK(sent->size() == 1u);
  complete(0);
  complete(1);
  CAF_CHECK(value(b).status == forward_status::served);
}

CAF_TEST(a_held_reservation_whose_job_never_comes_lapses) {
  start({owned("tts/cpu/127.0.0.1:8899")});
  auto r1 = reserve("r1");
  CAF_CHECK(value(r1).status == reservation_status::granted);
  auto a = run("a");
  pass(4s);
  CAF_CHECK(sent->empty());
  pass(2s);  // past the 5 s hold: the slot is free again
  CAF_REQUIRE_EQUAL(sent->size(), 1u);
  CAF_CHECK((*sent)[0].body == "a");
  auto late = claim("r1", "late");
  CAF_CHECK(value(late).status == forward_status::refused);
  complete(0);
  CAF_CHECK(value(a).status == forward_status::served);
}

CAF_TEST(a_queued_job_past_its_deadline_never_runs) {
  start({owned("tts/cpu/127.0.0.1:8899")});
  auto a = run("a");
  auto late = sim::ask<forward_outcome>(sys, owner, actors::run_atom::value, job("b", 2s),
                                        net::wanted_kind::any);
  sched.run();
  pass(3s);
  CAF_CHECK(value(late).status != forward_status::served);
  CAF_CHECK(value(late).request_body == "b");
  complete(0);
  CAF_CHECK(value(a).status == forward_status::served);
  CAF_CHECK(sent->size() == 1u);
}

CAF_TEST(a_hung_backend_is_marked_down_within_the_attempt_timeout_and_probed_on_a_timer) {
  start({owned("tts/cpu/127.0.0.1:8899"), owned("tts/cpu/127.0.0.1:8900")});
  auto a = run("a");
  auto b = run("b");
  CAF_REQUIRE_EQUAL(sent->size(), 2u);
  auto hung_port = (*sent)[0].backend.port;
  complete(1);  // the other backend answers; the first never does
  CAF_CHECK(value(b).status == forward_status::served);
  pass(5500ms);
  // Within the attempt timeout: a's attempt failed as timed out, its backend is down.
  CAF_CHECK(value(a).status == forward_status::failed);
  CAF_CHECK(value(a).timed_out);
  auto s = states();
  for (const auto& x : s) CAF_CHECK_EQUAL(x.up, x.backend.port != hung_port);
  // The down backend gets no job: d waits for the other one although its slot is free.
  auto c = run("c");
  auto d = run("d");
  CAF_REQUIRE_EQUAL(sent->size(), 3u);
  CAF_CHECK((*sent)[2].backend.port != hung_port);
  // It is probed on the timer, while work goes on elsewhere.
  pass(1500ms);
  CAF_REQUIRE_EQUAL(probes->size(), 1u);
  CAF_CHECK((*probes)[0].backend.port == hung_port);
  actors::probe_verdict ok;
  ok.alive = true;
  (*probes)[0].done(ok);
  sched.run();
  CAF_REQUIRE_EQUAL(sent->size(), 4u);  // back up: d goes to it
  CAF_CHECK((*sent)[3].backend.port == hung_port);
  CAF_CHECK((*sent)[3].body == "d");
  complete(2);
  complete(3);
  CAF_CHECK(value(c).status == forward_status::served);
  CAF_CHECK(value(d).status == forward_status::served);
  // The hung exchange's late answer changes nothing.
  complete(0);
  s = states();
  for (const auto& x : s) {
    CAF_CHECK(x.up);
    CAF_CHECK_EQUAL(x.running, 0u);
  }
}

CAF_TEST(a_check_probes_an_idle_backend_on_a_slot_so_no_job_waits_behind_the_probe) {
  start({owned("tts/cpu/127.0.0.1:8899")});
  auto backend = net::service_record{net::service::tts, net::kind::cpu, "127.0.0.1", 8899};
  auto check = [&] {
    auto x = sim::ask<actors::probe_verdict>(sys, owner, actors::check_atom::value, backend);
    sched.run();
    return x;
  };
  // Idle: the announcer's check probes it, holding its one slot.
  auto first = check();
  CAF_REQUIRE_EQUAL(probes->size(), 1u);
  CAF_CHECK(!sim::ready(first));
  CAF_CHECK(states().at(0).running == 1u);
  auto second = check();  // the probe out answers both
  CAF_CHECK_EQUAL(probes->size(), 1u);
  // A job that comes meanwhile waits in the owner, not behind the probe in the backend.
  auto a = run("a");
  CAF_CHECK(sent->empty());
  CAF_CHECK(states().at(0).queued == 1u);
  // The backend hangs: the probe times out, it is marked down, and the job never reached
  // it: handed back at once, for the entry node to place elsewhere.
  actors::probe_verdict late{false, true, "timeout: no response within 5000 ms"};
  (*probes)[0].done(late);
  sched.run();
  CAF_CHECK(!value(first).alive && value(first).timed_out);
  CAF_CHECK(!value(second).alive);
  CAF_CHECK(value(a).status == forward_status::failed);
  CAF_CHECK(sent->empty());
  CAF_CHECK(!states().at(0).up);
  CAF_CHECK(states().at(0).running == 0u);
  // Down: a check says so at once, with why.
  auto down = check();
  CAF_CHECK(!value(down).alive);
  CAF_CHECK_NOT_EQUAL(value(down).error.find("its probe failed: timeout"), std::string::npos);
  CAF_CHECK_EQUAL(probes->size(), 1u);
  // The owner's timer probes it again; a check meanwhile waits for that probe's answer.
  pass(1250ms);
  CAF_REQUIRE_EQUAL(probes->size(), 2u);
  auto back = check();
  CAF_CHECK(!sim::ready(back));
  actors::probe_verdict ok;
  ok.alive = true;
  (*probes)[1].done(ok);
  sched.run();
  CAF_CHECK(value(back).alive);
  // Busy with a job: alive by its job, no probe.
  auto b = run("b");
  CAF_REQUIRE_EQUAL(sent->size(), 1u);
  auto busy = check();
  CAF_CHECK(value(busy).alive);
  CAF_CHECK_EQUAL(probes->size(), 2u);
  complete(0);
  CAF_CHECK(value(b).status == forward_status::served);
  // Not an own backend.
  backend.port = 9999;
  CAF_CHECK(!value(check()).alive);
}

CAF_TEST(a_backend_given_without_a_capacity_gets_the_workers_it_tells) {
  // 8899 is a reference backend with two workers, 8900 a real SOVA server (no header),
  // 8901 was given `*3`, which stands whatever it says.
  workers_told = {{8899, 2}, {8901, 5}};
  start({owned("tts/cpu/127.0.0.1:8899"), owned("tts/cpu/127.0.0.1:8900"),
         owned("tts/cpu/127.0.0.1:8901*3")});
  auto s = states();
  CAF_REQUIRE_EQUAL(s.size(), 3u);
  CAF_CHECK_EQUAL(s[0].capacity, 2u);
  CAF_CHECK_EQUAL(s[1].capacity, 1u);
  CAF_CHECK_EQUAL(s[2].capacity, 3u);
  // Six jobs: all run at once, two of them on the reference backend.
  std::vector<sim::answer<forward_outcome>> jobs;
  for (int i = 0; i < 6; ++i) jobs.push_back(run("j" + std::to_string(i)));
  CAF_REQUIRE_EQUAL(sent->size(), 6u);
  std::map<std::uint16_t, int> per_port;
  for (const auto& e : *sent) ++per_port[e.backend.port];
  CAF_CHECK_EQUAL(per_port[8899], 2);
  CAF_CHECK_EQUAL(per_port[8900], 1);
  CAF_CHECK_EQUAL(per_port[8901], 3);
  for (std::size_t i = 0; i < 6; ++i) complete(i);
  for (const auto& j : jobs) CAF_CHECK(value(j).status == forward_status::served);
}

CAF_TEST(finished_jobs_leave_nothing_behind_in_the_actor_clock) {
  // CAF 0.17's clock keeps a request timeout until it fires, answered or not: a long-lived
  // owner setting one per job would hold the attempt timeout's worth of them.
  start({owned("tts/cpu/127.0.0.1:8899*4")});
  auto before = sched.clock().schedule().size();
  std::vector<sim::answer<forward_outcome>> jobs;
  for (int i = 0; i < 40; ++i) jobs.push_back(run("j" + std::to_string(i)));
  for (std::size_t i = 0; i < 40; ++i) {
    CAF_REQUIRE(i < sent->size());
    complete(i);
  }
  for (const auto& j : jobs) CAF_CHECK(value(j).status == forward_status::served);
  CAF_CHECK_LESS_OR_EQUAL(sched.clock().schedule().size(), before);
}

CAF_TEST(no_backend_of_the_kind_is_said_at_once) {
  start({owned("tts/cpu/127.0.0.1:8899")});
  reservation_request r{"g", net::service::tts, net::wanted_kind::gpu, 60s};
  auto x = sim::ask<reservation_answer>(sys, owner, actors::reserve_atom::value, r);
  sched.run();
  CAF_CHECK(value(x).status == reservation_status::no_backend);
  auto asr = job("a");
  asr.service = net::service::asr;
  auto y = sim::ask<forward_outcome>(sys, owner, actors::run_atom::value, asr, net::wanted_kind::any);
  sched.run();
  CAF_CHECK(value(y).status == forward_status::failed);
  CAF_CHECK(sent->empty());
}

CAF_TEST_FIXTURE_SCOPE_END()
