// Deterministic tests of the request actor against a fake directory, pool and
// forwarders: the choice of backend, retries on failure, the attempt limit, the
// deadline, and what an open breaker means. Time is simulated.
#define CAF_SUITE request_actor
#include "caf/test/dsl.hpp"

#include <map>
#include <memory>
#include <optional>

#include <nlohmann/json.hpp>

#include "actors/request_actor.hpp"
#include "actors/service_directory.hpp"
#include "serving/backend_board.hpp"

using namespace sova;
using namespace std::chrono_literals;
using actors::backend_link;
using actors::backend_links;
using actors::forward_outcome;
using actors::forward_request;
using actors::forward_status;
using actors::request_outcome;
using actors::service_records;
using actors::strings;

namespace {

/// The backends a request tried, in order.
actors::strings tried_names(const actors::request_outcome& o) {
  actors::strings out;
  for (const auto& t : o.attempt_log) out.push_back(t.backend);
  return out;
}

/// What a fake backend does with each attempt, and what it saw.
struct script {
  std::vector<forward_outcome> replies;  // one per call, the last one repeats
  bool hang = false;                     // never answer
  bool keeps_body = false;  // answers without the body, as a forwarder that ended mid-attempt
  std::vector<forward_request> seen;
  std::vector<std::string> blamed;  // failures told to it afterwards (failed_atom)
  // Held, not dropped: CAF answers a dropped promise with broken_promise.
  std::vector<caf::typed_response_promise<forward_outcome>> held;
  // Late binding: the answers to reservations in turn, the last one repeating (none: each
  // is held until the test answers it); what was reserved and cancelled there.
  std::vector<actors::reservation_answer> reservations;
  std::vector<actors::reservation_request> reserved;
  std::vector<caf::typed_response_promise<actors::reservation_answer>> held_reservations;
  std::vector<std::string> cancelled;
  // As the real forwarder: a not_a_node answer marks its cell plain.
  std::shared_ptr<serving::backend_cell> cell;
};
using script_ptr = std::shared_ptr<script>;

/// A scripted attempt: the next reply, or held (hang).
template <class Self>
caf::result<forward_outcome> answer_attempt(Self* self, const script_ptr& s, forward_request& req) {
  s->seen.push_back(req);
  if (s->hang) {
    s->held.push_back(self->template make_response_promise<forward_outcome>());
    return s->held.back();
  }
  auto i = std::min(s->seen.size(), s->replies.size()) - 1;
  auto out = s->replies[i];
  // As the real forwarder: the body comes back with the outcome.
  if (!s->keeps_body) out.request_body = std::move(req.body);
  return out;
}

/// A scripted reservation: the next answer, or held until the test answers it.
template <class Self>
caf::result<actors::reservation_answer> answer_reservation(Self* self, const script_ptr& s,
                                                            const actors::reservation_request& r) {
  s->reserved.push_back(r);
  if (s->reservations.empty()) {
    s->held_reservations.push_back(
        self->template make_response_promise<actors::reservation_answer>());
    return s->held_reservations.back();
  }
  auto a = s->reservations[std::min(s->reserved.size(), s->reservations.size()) - 1];
  if (s->cell)
    s->cell->set_peer(a.status == actors::reservation_status::not_a_node ? serving::peer_kind::plain
                                                                         : serving::peer_kind::node);
  return a;
}

actors::backend_forwarder_actor::behavior_type
fake_forwarder(actors::backend_forwarder_actor::pointer self, script_ptr s) {
  return {
      [=](actors::forward_atom, forward_request& req) { return answer_attempt(self, s, req); },
      [=](actors::forwarded_atom, std::uint64_t, const forward_outcome&) {},
      [=](actors::half_open_atom) {},
      [=](actors::failed_atom, const std::string& reason) { s->blamed.push_back(reason); },
      [=](actors::reserve_atom, const actors::reservation_request& r) {
        return answer_reservation(self, s, r);
      },
      [=](actors::cancel_atom, const std::string& id) { s->cancelled.push_back(id); },
      // The test answers held reservation `i` (a promise is delivered in its actor's context).
      [=](actors::reserved_atom, std::uint64_t i, actors::reservation_answer& a,
          serving::peer_kind) { s->held_reservations.at(i).deliver(std::move(a)); },
  };
}

/// This node's owner, scripted like a backend: reservations as above; a claim or a run is
/// an attempt (a claim's id in the request's reservation field).
actors::owner_actor::behavior_type fake_owner(actors::owner_actor::pointer self, script_ptr s) {
  return {
      [=](actors::run_atom, forward_request& req, net::wanted_kind) {
        return answer_attempt(self, s, req);
      },
      [=](actors::reserve_atom, const actors::reservation_request& r) {
        return answer_reservation(self, s, r);
      },
      [=](actors::claim_atom, const std::string& id, forward_request& req) {
        req.reservation = id;
        return answer_attempt(self, s, req);
      },
      [=](actors::cancel_atom, const std::string& id) { s->cancelled.push_back(id); },
      [=](actors::failed_atom, const std::string& backend, const std::string& reason) {
        s->blamed.push_back(backend + ": " + reason);
      },
      [=](actors::queue_atom) { return actors::owned_backend_states{}; },
      [=](actors::check_atom, const net::service_record&) { return actors::probe_verdict{}; },
      [=](actors::probed_atom, std::uint32_t, actors::probe_verdict&) {},
      [=](actors::tick_atom) {},
  };
}

struct fake_backend {
  net::service_record rec;
  script_ptr s = std::make_shared<script>();
  std::shared_ptr<serving::backend_cell> cell;
  actors::backend_forwarder_actor fwd;
};
using backends_ptr = std::shared_ptr<std::vector<fake_backend>>;

actors::service_directory_actor::behavior_type
fake_directory(actors::service_directory_actor::pointer, backends_ptr bs) {
  return {
      [=](actors::backends_atom, net::service service, net::wanted_kind wanted) {
        service_records out;
        for (const auto& key : actors::directory_keys(service, wanted))
          for (const auto& b : *bs)
            if (b.rec.key_text() == key) out.push_back(b.rec);
        return out;
      },
      [=](actors::stats_atom) { return actors::directory_stats{}; },
      [=](actors::known_backends_atom) { return actors::directory_view{}; },
      [=](actors::own_atom, const actors::strings&, const actors::service_records&) {},
      [=](actors::tick_atom) {},
  };
}

actors::backend_pool_actor::behavior_type fake_pool(actors::backend_pool_actor::pointer,
                                                    backends_ptr bs) {
  return {
      [=](actors::forwarders_atom, const service_records& records) {
        backend_links out;
        for (const auto& r : records)
          for (const auto& b : *bs)
            if (b.rec == r) out.push_back(backend_link{b.fwd, b.cell});
        return out;
      },
      [=](actors::health_atom) { return serving::backend_readings{}; },
      [=](actors::tick_atom) {},
  };
}

forward_outcome served(const std::string& body, unsigned status = 200) {
  forward_outcome o;
  o.status = forward_status::served;
  o.http_status = status;
  o.body = body;
  return o;
}

/// The backend answered, but not with a reply of its service.
forward_outcome unusable(const std::string& reason, unsigned status = 500) {
  forward_outcome o;
  o.status = forward_status::unusable;
  o.http_status = status;
  o.reason = reason;
  o.body = "<html>" + reason + "</html>";
  return o;
}

forward_outcome failed(const std::string& reason) {
  forward_outcome o;
  o.status = forward_status::failed;
  o.reason = reason;
  return o;
}

forward_outcome busy(caf::timespan wait) {
  forward_outcome o;
  o.status = forward_status::busy;
  o.http_status = 503;
  o.retry_after = wait;
  o.reason = "busy: answered 503";
  return o;
}

forward_outcome refused() {
  forward_outcome o;
  o.status = forward_status::refused;
  o.reason = "circuit breaker open";
  return o;
}

/// A cell showing `n` attempts in flight (as its forwarder would count them).
void in_flight(const std::shared_ptr<serving::backend_cell>& cell, int n) {
  for (int i = 0; i < n; ++i) cell->attempt_started();
}

struct fixture : test_coordinator_fixture<> {
  backends_ptr backends = std::make_shared<std::vector<fake_backend>>();
  actors::request_config cfg;

  ~fixture() {
    // A held promise keeps its fake forwarder alive (and the fixture waits for it).
    for (auto& b : *backends) {
      b.s->held.clear();
      b.s->held_reservations.clear();
    }
    if (owner_script) {
      owner_script->held.clear();
      owner_script->held_reservations.clear();
    }
    sched.run();
  }

  /// A backend "tts/cpu/192.0.2.<n>:8899" (or asr, gpu) answering `replies` in turn.
  fake_backend add(const std::string& text, std::vector<forward_outcome> replies) {
    fake_backend b;
    b.rec = *net::parse_service_record(text);
    b.cell = std::make_shared<serving::backend_cell>(b.rec, 0.3);
    b.s->replies = std::move(replies);
    b.s->cell = b.cell;
    b.fwd = sys.spawn(fake_forwarder, b.s);
    backends->push_back(b);
    return b;  // a copy: the vector may grow; the script is shared
  }

  std::shared_ptr<serving::backend_board> board;  // none: every request asks directory and pool

  /// Every backend on the board, as the directory and the pool post them once a key is
  /// warm: both kinds of TTS keyed, each backend with its forwarder and cell.
  void warm_board() {
    board = std::make_shared<serving::backend_board>();
    std::map<std::string, service_records> keys{{"tts/cpu", {}}, {"tts/gpu", {}}};
    for (const auto& b : *backends) {
      keys[b.rec.key_text()].push_back(b.rec);
      board->post_backend(backend_link{b.fwd, b.cell});
    }
    for (const auto& [key, records] : keys) board->post_records(key, records);
  }

  std::string job_body = R"({"text": "hi", "voice": "Natasha"})";  // every request's
  service_records own;    // the node's own backends (request_context::own)
  actors::owner_actor owner;  // their owner (request_context::owner); none by default
  script_ptr owner_script;

  /// This node owns `records`, behind a fake owner answering `replies` to claims and runs.
  void own_backends(service_records records, std::vector<forward_outcome> replies) {
    own = std::move(records);
    owner_script = std::make_shared<script>();
    owner_script->replies = std::move(replies);
    owner = sys.spawn(fake_owner, owner_script);
  }
  bool own_only = false;  // the next requests came from another node (client_job::own_only)
  std::string reservation;  // ... with this reservation of ours (client_job::reservation)

  std::shared_ptr<std::optional<request_outcome>> send(const std::string& service = "tts",
                                                       const std::string& kind = "any") {
    auto slot = std::make_shared<std::optional<request_outcome>>();
    auto calls = std::make_shared<int>(0);
    auto dir = sys.spawn(fake_directory, backends);
    auto pool = sys.spawn(fake_pool, backends);
    actors::client_job job;
    job.service = *net::parse_service(service);
    job.wanted = *net::parse_wanted_kind(kind);
    job.content_type = "application/json";
    job.body = job_body;
    job.own_only = own_only;
    job.reservation = reservation;
    actors::spawn_request(
        sys,
        std::make_shared<const actors::request_context>(
            actors::request_context{cfg, dir, pool, board, own, owner}),
        std::move(job), [slot, calls](request_outcome o) {
          CAF_CHECK_EQUAL(++*calls, 1);  // done runs exactly once
          *slot = std::move(o);
        });
    sched.run();  // not the fixture's run(): that would also fire the deadline timer
    return slot;
  }

  static std::string error_code(const request_outcome& o) {
    auto j = nlohmann::json::parse(o.body);
    CAF_CHECK_EQUAL(j["response_code"], 1);
    return j["error"]["code"].get<std::string>();
  }
};

}  // namespace

CAF_TEST_FIXTURE_SCOPE(request_actor_tests, fixture)

CAF_TEST(a_served_reply_is_passed_on_byte_for_byte) {
  const std::string body = "{\"response_code\": 0,  \"response\": [ ]}\n";
  auto b = add("tts/cpu/192.0.2.1:8899", {served(body)});
  auto out = send();
  CAF_REQUIRE(out->has_value());
  CAF_CHECK_EQUAL((*out)->status, 200u);
  CAF_CHECK_EQUAL((*out)->body, body);
  CAF_CHECK_EQUAL((*out)->content_type, "application/json; charset=utf-8");
  CAF_CHECK_EQUAL((*out)->error_code, "");
  CAF_CHECK_EQUAL((*out)->attempts, 1u);
  CAF_REQUIRE_EQUAL(b.s->seen.size(), 1u);
  CAF_CHECK_EQUAL(b.s->seen[0].service, net::service::tts);
  CAF_CHECK_EQUAL(b.s->seen[0].body, R"({"text": "hi", "voice": "Natasha"})");
  CAF_CHECK_EQUAL(b.s->seen[0].content_type, "application/json");
}

CAF_TEST(an_unusable_answer_is_retried_and_blamed_once_another_backend_served) {
  auto a = add("tts/cpu/192.0.2.1:8899", {unusable("answered 404 (text/html)", 404)});
  auto b = add("tts/cpu/192.0.2.2:8899", {served(R"({"response_code": 0})")});
  in_flight((*backends)[1].cell, 5);  // a is cheaper: it is asked first
  auto out = send();
  CAF_REQUIRE(out->has_value());
  CAF_CHECK_EQUAL((*out)->status, 200u);
  CAF_CHECK_EQUAL((*out)->body, R"({"response_code": 0})");
  CAF_CHECK_EQUAL((*out)->attempts, 2u);
  CAF_REQUIRE_EQUAL((*out)->attempt_log.size(), 2u);
  CAF_CHECK_EQUAL((*out)->attempt_log[0].failure, "answered 404 (text/html)");
  CAF_CHECK_EQUAL(a.s->blamed, strings{"answered 404 (text/html)"});
  CAF_CHECK(b.s->blamed.empty());
}

CAF_TEST(two_unusable_answers_end_the_request_with_what_they_said_and_blame_nobody) {
  for (int i = 1; i <= 3; ++i)
    add("tts/cpu/192.0.2." + std::to_string(i) + ":8899",
        {unusable("answered 500 (text/html) page " + std::to_string(i))});
  cfg.max_attempts = 3;
  auto out = send();
  CAF_REQUIRE(out->has_value());
  CAF_CHECK_EQUAL((*out)->status, 502u);
  CAF_CHECK_EQUAL(error_code(**out), "all_failed");
  CAF_CHECK_EQUAL((*out)->attempts, 2u);  // tried on two backends, not three
  CAF_CHECK_EQUAL((*out)->content_type, "application/json");
  std::size_t calls = 0;
  for (const auto& b : *backends) {
    calls += b.s->seen.size();
    CAF_CHECK(b.s->blamed.empty());  // no breaker moves
  }
  CAF_CHECK_EQUAL(calls, 2u);
  auto message = nlohmann::json::parse((*out)->body)["error"]["message"].get<std::string>();
  CAF_MESSAGE(message);
  CAF_CHECK_NOT_EQUAL(message.find("may be at fault"), std::string::npos);
  for (const auto& t : (*out)->attempt_log)
    CAF_CHECK_NOT_EQUAL(message.find(t.backend + ": " + t.failure), std::string::npos);
}

CAF_TEST(a_single_backend_answering_unusable_is_not_blamed) {
  auto a = add("tts/cpu/192.0.2.1:8899", {unusable("answered 500 (text/html)")});
  auto out = send();
  CAF_REQUIRE(out->has_value());
  CAF_CHECK_EQUAL((*out)->status, 502u);
  CAF_CHECK_EQUAL((*out)->attempts, 1u);
  CAF_CHECK(a.s->blamed.empty());
  CAF_CHECK_NOT_EQUAL((*out)->body.find("192.0.2.1:8899: answered 500"), std::string::npos);
}

CAF_TEST(a_first_attempt_picked_from_the_board_is_blamed_when_another_backend_serves) {
  auto a = add("tts/cpu/192.0.2.1:8899", {unusable("answered 500")});
  auto b = add("tts/cpu/192.0.2.2:8899", {served(R"({"response_code": 0})")});
  warm_board();
  in_flight((*backends)[1].cell, 9);  // the board's pick is a
  auto out = send();
  CAF_REQUIRE(out->has_value());
  CAF_CHECK_EQUAL((*out)->status, 200u);
  CAF_CHECK_EQUAL(a.s->seen.size(), 1u);
  CAF_CHECK_EQUAL(a.s->blamed, strings{"answered 500"});
  // And when the second backend answers unusable too, the request is at fault: nobody blamed.
  (*backends)[1].s->replies = {unusable("answered 500 again")};
  auto bad = send();
  CAF_REQUIRE(bad->has_value());
  CAF_CHECK_EQUAL((*bad)->status, 502u);
  CAF_CHECK_EQUAL(a.s->blamed.size(), 1u);
  CAF_CHECK(b.s->blamed.empty());
}

CAF_TEST(a_failed_attempt_is_retried_on_another_backend) {
  auto a = add("tts/cpu/192.0.2.1:8899", {failed("status 503")});
  auto b = add("tts/gpu/192.0.2.2:8899", {failed("connect_failed: refused")});
  auto c = add("tts/cpu/192.0.2.3:8899", {served(R"({"response_code": 0})")});
  // Whatever order P2C takes them in, the request ends served by c, each backend
  // tried at most once.
  auto out = send();
  CAF_REQUIRE(out->has_value());
  CAF_CHECK_EQUAL((*out)->status, 200u);
  CAF_CHECK_EQUAL((*out)->body, R"({"response_code": 0})");
  CAF_CHECK_LESS_OR_EQUAL(a.s->seen.size(), 1u);
  CAF_CHECK_LESS_OR_EQUAL(b.s->seen.size(), 1u);
  CAF_CHECK_EQUAL(c.s->seen.size(), 1u);
  CAF_CHECK_EQUAL((*out)->attempts, 1u + a.s->seen.size() + b.s->seen.size());
  CAF_CHECK_EQUAL((*out)->attempt_log.size(), (*out)->attempts);
  CAF_CHECK_EQUAL((*out)->attempt_log.back().backend, "tts/cpu/192.0.2.3:8899");
  // Each attempt is recorded with its result (the metrics and the request log use it).
  for (std::size_t i = 0; i < (*out)->attempt_log.size(); ++i)
    CAF_CHECK_EQUAL((*out)->attempt_log[i].ok, i + 1 == (*out)->attempt_log.size());
}

CAF_TEST(attempts_are_bounded) {
  for (int i = 1; i <= 5; ++i)
    add("asr/cpu/192.0.2." + std::to_string(i) + ":8888", {failed("status 500")});
  cfg.max_attempts = 3;
  auto out = send("asr");
  CAF_REQUIRE(out->has_value());
  CAF_CHECK_EQUAL((*out)->status, 502u);
  CAF_CHECK_EQUAL(error_code(**out), "all_failed");
  CAF_CHECK_EQUAL((*out)->attempts, 3u);
  std::size_t calls = 0;
  for (const auto& b : *backends) calls += b.s->seen.size();
  CAF_CHECK_EQUAL(calls, 3u);
  CAF_CHECK_EQUAL((*out)->attempt_log.size(), 3u);
  CAF_CHECK_NOT_EQUAL((*out)->body.find("status 500"), std::string::npos);  // last reason
}

CAF_TEST(when_every_backend_failed_the_reply_is_502) {
  add("tts/cpu/192.0.2.1:8899", {failed("timeout: 60 s")});
  add("tts/cpu/192.0.2.2:8899", {failed("protocol: end of stream")});
  auto out = send();
  CAF_REQUIRE(out->has_value());
  CAF_CHECK_EQUAL((*out)->status, 502u);
  CAF_CHECK_EQUAL((*out)->attempts, 2u);  // each once, none twice
}

CAF_TEST(no_known_backend_is_503_naming_the_service) {
  add("tts/cpu/192.0.2.1:8899", {served("{}")});
  auto out = send("asr");
  CAF_REQUIRE(out->has_value());
  CAF_CHECK_EQUAL((*out)->status, 503u);
  CAF_CHECK_EQUAL(error_code(**out), "no_backend");
  CAF_CHECK_NOT_EQUAL((*out)->body.find("no asr backend"), std::string::npos);
  auto gpu = send("tts", "gpu");
  CAF_REQUIRE(gpu->has_value());
  CAF_CHECK_EQUAL((*gpu)->status, 503u);
  CAF_CHECK_NOT_EQUAL((*gpu)->body.find("no gpu tts backend"), std::string::npos);
}

CAF_TEST(the_backend_kind_limits_the_candidates) {
  auto cpu = add("tts/cpu/192.0.2.1:8899", {served(R"({"cpu": 1})")});
  auto gpu = add("tts/gpu/192.0.2.2:8899", {served(R"({"gpu": 1})")});
  for (int i = 0; i < 5; ++i) {
    auto out = send("tts", "gpu");
    CAF_REQUIRE(out->has_value());
    CAF_CHECK_EQUAL((*out)->body, R"({"gpu": 1})");
  }
  CAF_CHECK_EQUAL(cpu.s->seen.size(), 0u);
  CAF_CHECK_EQUAL(gpu.s->seen.size(), 5u);
}

CAF_TEST(the_deadline_ends_a_hanging_request_with_504) {
  auto a = add("tts/cpu/192.0.2.1:8899", {});
  a.s->hang = true;
  cfg.deadline = 10s;
  cfg.attempt_timeout = 30s;
  auto out = send();
  CAF_CHECK(!out->has_value());
  sched.advance_time(9s);
  sched.run();
  CAF_CHECK(!out->has_value());
  sched.advance_time(1s);
  sched.run();
  CAF_REQUIRE(out->has_value());
  CAF_CHECK_EQUAL((*out)->status, 504u);
  CAF_CHECK_EQUAL(error_code(**out), "deadline");
  // The attempt was bounded by what was left of the deadline, not the attempt timeout.
  CAF_REQUIRE_EQUAL(a.s->seen.size(), 1u);
  CAF_CHECK_EQUAL(a.s->seen[0].timeout, caf::timespan{10s});
}

CAF_TEST(each_attempt_gets_the_attempt_timeout_within_the_deadline) {
  auto a = add("tts/cpu/192.0.2.1:8899", {served("{}")});
  cfg.deadline = 120s;
  cfg.attempt_timeout = 20s;
  auto out = send();
  CAF_REQUIRE(out->has_value());
  CAF_REQUIRE_EQUAL(a.s->seen.size(), 1u);
  CAF_CHECK_EQUAL(a.s->seen[0].timeout, caf::timespan{20s});
}

CAF_TEST(a_refusal_by_an_open_breaker_is_not_an_attempt) {
  // The pool's snapshot still says closed, but the forwarder's breaker has just opened.
  auto a = add("tts/cpu/192.0.2.1:8899", {refused()});
  auto b = add("tts/cpu/192.0.2.2:8899", {served("{}")});
  in_flight(a.cell, 0);
  in_flight(b.cell, 3);  // a looks cheaper: it is asked first
  auto out = send();
  CAF_REQUIRE(out->has_value());
  CAF_CHECK_EQUAL((*out)->status, 200u);
  CAF_CHECK_EQUAL((*out)->attempts, 1u);
  CAF_CHECK_EQUAL(tried_names(**out), strings{"tts/cpu/192.0.2.2:8899"});
  CAF_CHECK_EQUAL(a.s->seen.size(), 1u);
}

CAF_TEST(open_breakers_everywhere_mean_503_without_calling_anyone) {
  auto a = add("asr/cpu/192.0.2.1:8888", {served("{}")});
  (*backends)[0].cell->set_breaker(serving::breaker_state::open);
  auto out = send("asr");
  CAF_REQUIRE(out->has_value());
  CAF_CHECK_EQUAL((*out)->status, 503u);
  CAF_CHECK_EQUAL(error_code(**out), "no_backend");
  CAF_CHECK_EQUAL(a.s->seen.size(), 0u);
}

CAF_TEST(the_less_loaded_of_two_backends_is_chosen) {
  auto busy = add("tts/cpu/192.0.2.1:8899", {served("{}")});
  auto idle = add("tts/cpu/192.0.2.2:8899", {served("{}")});
  in_flight((*backends)[0].cell, 4);
  (*backends)[0].cell->record_served(50);
  in_flight((*backends)[1].cell, 0);
  (*backends)[1].cell->record_served(50);
  for (int i = 0; i < 20; ++i) CAF_CHECK(send()->has_value());
  CAF_CHECK_EQUAL(busy.s->seen.size(), 0u);
  CAF_CHECK_EQUAL(idle.s->seen.size(), 20u);
}

CAF_TEST(the_faster_of_two_equally_loaded_backends_is_chosen) {
  auto slow = add("tts/cpu/192.0.2.1:8899", {served("{}")});
  auto fast = add("tts/cpu/192.0.2.2:8899", {served("{}")});
  (*backends)[0].cell->record_served(400);
  (*backends)[1].cell->record_served(40);
  for (int i = 0; i < 10; ++i) CAF_CHECK(send()->has_value());
  CAF_CHECK_EQUAL(slow.s->seen.size(), 0u);
  CAF_CHECK_EQUAL(fast.s->seen.size(), 10u);
}

CAF_TEST(healthy_backends_go_before_half_open_ones) {
  auto probing = add("tts/cpu/192.0.2.1:8899", {served("{}")});
  auto healthy = add("tts/cpu/192.0.2.2:8899", {served("{}")});
  (*backends)[0].cell->set_breaker(serving::breaker_state::half_open);
  in_flight((*backends)[1].cell, 10);  // busier, but healthy
  for (int i = 0; i < 10; ++i) CAF_CHECK(send()->has_value());
  CAF_CHECK_EQUAL(probing.s->seen.size(), 0u);
  CAF_CHECK_EQUAL(healthy.s->seen.size(), 10u);
}

CAF_TEST(a_half_open_backend_is_tried_when_the_healthy_ones_failed) {
  auto healthy = add("tts/cpu/192.0.2.1:8899", {failed("status 500")});
  auto probing = add("tts/cpu/192.0.2.2:8899", {served(R"({"ok": 1})")});
  (*backends)[1].cell->set_breaker(serving::breaker_state::half_open);
  auto out = send();
  CAF_REQUIRE(out->has_value());
  CAF_CHECK_EQUAL((*out)->status, 200u);
  CAF_CHECK_EQUAL(tried_names(**out),
                  (strings{"tts/cpu/192.0.2.1:8899", "tts/cpu/192.0.2.2:8899"}));
  CAF_CHECK_EQUAL(healthy.s->seen.size(), 1u);
  CAF_CHECK_EQUAL(probing.s->seen.size(), 1u);
}

CAF_TEST(after_a_failed_first_attempt_from_the_board_the_actor_goes_on_with_the_others) {
  auto first = failed("status 503");
  first.latency = 250ms;
  auto a = add("tts/cpu/192.0.2.1:8899", {first, served(R"({"from": "a"})")});
  auto b = add("tts/cpu/192.0.2.2:8899", {served(R"({"from": "b"})")});
  warm_board();
  in_flight((*backends)[1].cell, 9);  // the board's pick is a; only its failure rules a out
  auto out = send();
  CAF_REQUIRE(out->has_value());
  CAF_CHECK_EQUAL((*out)->status, 200u);
  CAF_CHECK_EQUAL((*out)->body, R"({"from": "b"})");
  CAF_CHECK_EQUAL(a.s->seen.size(), 1u);  // not tried again
  CAF_CHECK_EQUAL((*out)->attempts, 2u);  // the first attempt counts
  CAF_REQUIRE_EQUAL((*out)->attempt_log.size(), 2u);
  CAF_CHECK_EQUAL((*out)->attempt_log[0].backend, "tts/cpu/192.0.2.1:8899");
  CAF_CHECK_EQUAL((*out)->attempt_log[0].seconds, 0.25);
  CAF_CHECK_EQUAL((*out)->attempt_log[0].failure, "status 503");
  CAF_CHECK_EQUAL((*out)->attempt_log[1].backend, "tts/cpu/192.0.2.2:8899");
  CAF_CHECK((*out)->attempt_log[1].ok);
}

CAF_TEST(the_boards_pick_counts_against_the_limit_and_names_its_failure) {
  auto a = add("tts/cpu/192.0.2.1:8899", {failed("status 503")});
  auto b = add("tts/cpu/192.0.2.2:8899", {failed("timeout: 60 s")});
  warm_board();
  in_flight((*backends)[1].cell, 9);  // the board's pick is a
  cfg.max_attempts = 2;
  auto out = send();
  CAF_REQUIRE(out->has_value());
  CAF_CHECK_EQUAL((*out)->status, 502u);
  CAF_CHECK_EQUAL(error_code(**out), "all_failed");
  CAF_CHECK_EQUAL((*out)->attempts, 2u);
  CAF_CHECK_EQUAL(a.s->seen.size(), 1u);
  CAF_CHECK_EQUAL(b.s->seen.size(), 1u);
  CAF_CHECK_NOT_EQUAL((*out)->body.find("192.0.2.2:8899: timeout"), std::string::npos);

  // With no attempt left after the board's pick, its failure is the reason given.
  cfg.max_attempts = 1;
  auto none_left = send();
  CAF_REQUIRE(none_left->has_value());
  CAF_CHECK_EQUAL((*none_left)->status, 502u);
  CAF_CHECK_EQUAL(b.s->seen.size(), 1u);
  CAF_CHECK_NOT_EQUAL((*none_left)->body.find("192.0.2.1:8899: status 503"), std::string::npos);
}

CAF_TEST(a_busy_backend_is_retried_elsewhere_and_never_blamed) {
  auto a = add("tts/cpu/192.0.2.1:8899", {busy(2s)});
  auto b = add("tts/cpu/192.0.2.2:8899", {served(R"({"response_code": 0})")});
  in_flight((*backends)[1].cell, 5);  // a is cheaper: it is asked first
  auto out = send();
  CAF_REQUIRE(out->has_value());
  CAF_CHECK_EQUAL((*out)->status, 200u);
  CAF_CHECK_EQUAL((*out)->attempts, 2u);
  CAF_CHECK_EQUAL(a.s->seen.size(), 1u);
  CAF_CHECK(a.s->blamed.empty());
  CAF_CHECK_EQUAL((*out)->retry_after_s, 0u);
}

CAF_TEST(when_every_backend_is_busy_the_reply_is_503_busy_with_retry_after) {
  add("tts/cpu/192.0.2.1:8899", {busy(2500ms)});
  add("tts/cpu/192.0.2.2:8899", {busy(4s)});
  auto out = send();
  CAF_REQUIRE(out->has_value());
  CAF_CHECK_EQUAL((*out)->status, 503u);
  CAF_CHECK_EQUAL(error_code(**out), "busy");
  CAF_CHECK_EQUAL((*out)->retry_after_s, 3u);  // the shortest wait, rounded up
  for (const auto& b : *backends) CAF_CHECK(b.s->blamed.empty());
}

CAF_TEST(a_backend_that_asked_to_be_left_alone_is_not_chosen_until_then) {
  auto a = add("tts/cpu/192.0.2.1:8899", {served(R"({"from": "a"})")});
  auto b = add("tts/cpu/192.0.2.2:8899", {served(R"({"from": "b"})")});
  auto now = sched.clock().now().time_since_epoch();
  (*backends)[0].cell->record_busy(now + caf::timespan{5s});
  in_flight((*backends)[1].cell, 50);  // a would be cheaper by far
  for (int i = 0; i < 5; ++i) {
    auto out = send();
    CAF_REQUIRE(out->has_value());
    CAF_CHECK_EQUAL((*out)->body, R"({"from": "b"})");
  }
  CAF_CHECK_EQUAL(a.s->seen.size(), 0u);
  // Alone and busy: nothing is sent, the client learns when to come back.
  (*backends)[1].cell->record_busy(now + caf::timespan{1s});
  auto out = send();
  CAF_REQUIRE(out->has_value());
  CAF_CHECK_EQUAL((*out)->status, 503u);
  CAF_CHECK_EQUAL(error_code(**out), "busy");
  CAF_CHECK_EQUAL((*out)->retry_after_s, 1u);
  CAF_CHECK_EQUAL((*out)->attempts, 0u);
  // An attempt that found one busy and a failure elsewhere is not "busy": 502.
  sched.advance_time(5s);  // both waits are over
  (*backends)[0].s->replies = {busy(2s)};  // a, the cheaper, is asked first
  (*backends)[1].s->replies = {failed("connect_failed: refused")};
  auto mixed = send();
  CAF_REQUIRE(mixed->has_value());
  CAF_CHECK_EQUAL((*mixed)->status, 502u);
}

CAF_TEST(every_attempt_sends_the_same_body_bytes_though_none_copies_it) {
  job_body.clear();
  cfg.max_attempts = 4;  // room for all four, whatever the order
  for (int i = 0; i < 4096; ++i) job_body.push_back(static_cast<char>(i % 256));  // NULs too
  // Whatever order they are tried in, every backend is tried: a refusal is no attempt.
  auto a = add("tts/cpu/192.0.2.1:8899", {refused()});
  auto b = add("tts/cpu/192.0.2.2:8899", {failed("connect_failed: refused")});
  auto c = add("tts/cpu/192.0.2.3:8899", {busy(1s)});
  auto d = add("tts/cpu/192.0.2.4:8899", {unusable("answered 500")});
  auto out = send();
  CAF_REQUIRE(out->has_value());
  CAF_CHECK_EQUAL((*out)->status, 502u);
  CAF_CHECK_EQUAL((*out)->attempts, 3u);
  for (const auto& x : {a, b, c, d}) {
    CAF_REQUIRE_EQUAL(x.s->seen.size(), 1u);
    CAF_CHECK(x.s->seen[0].body == job_body);
  }
}

CAF_TEST(a_retry_after_a_failed_attempt_sends_the_same_body_to_the_second_backend) {
  job_body = std::string("RIFF\0\x01\xff", 7) + std::string(100000, 'x');
  auto first = failed("status 503");
  auto a = add("tts/cpu/192.0.2.1:8899", {first});
  auto b = add("tts/cpu/192.0.2.2:8899", {served(R"({"from": "b"})")});
  warm_board();
  in_flight((*backends)[1].cell, 9);  // the board's pick is a
  auto out = send();
  CAF_REQUIRE(out->has_value());
  CAF_CHECK_EQUAL((*out)->status, 200u);
  CAF_REQUIRE_EQUAL(a.s->seen.size(), 1u);
  CAF_REQUIRE_EQUAL(b.s->seen.size(), 1u);
  CAF_CHECK(a.s->seen[0].body == job_body);
  CAF_CHECK(b.s->seen[0].body == job_body);
}

CAF_TEST(a_body_that_did_not_come_back_is_not_retried_empty) {
  auto a = add("tts/cpu/192.0.2.1:8899", {failed("forwarder stopped")});
  auto b = add("tts/cpu/192.0.2.2:8899", {failed("forwarder stopped")});
  a.s->keeps_body = b.s->keeps_body = true;
  auto out = send();
  CAF_REQUIRE(out->has_value());
  CAF_CHECK_EQUAL((*out)->status, 502u);
  CAF_CHECK_EQUAL(error_code(**out), "all_failed");
  CAF_CHECK_EQUAL((*out)->attempts, 1u);
  CAF_CHECK_EQUAL(a.s->seen.size() + b.s->seen.size(), 1u);
}

CAF_TEST(a_forwarder_gone_takes_the_body_with_it_and_ends_the_request) {
  auto a = add("tts/cpu/192.0.2.1:8899", {served(R"({"from": "a"})")});
  auto b = add("tts/cpu/192.0.2.2:8899", {served(R"({"from": "b"})")});
  caf::anon_send_exit(a.fwd, caf::exit_reason::kill);
  caf::anon_send_exit(b.fwd, caf::exit_reason::kill);
  sched.run();
  auto out = send();
  CAF_REQUIRE(out->has_value());
  CAF_CHECK_EQUAL((*out)->status, 502u);
  CAF_CHECK_EQUAL((*out)->attempts, 1u);
  CAF_CHECK_NOT_EQUAL((*out)->body.find("forwarder gone"), std::string::npos);
}

CAF_TEST(a_request_from_another_node_goes_to_own_backends_only) {
  auto mine = add("tts/cpu/127.0.0.1:8899", {failed("connect_failed: refused"), served(R"({"from": "mine"})")});
  auto other = add("tts/cpu/192.0.2.2:5600", {served(R"({"from": "another node"})")});
  auto raw = add("tts/gpu/192.0.2.3:8899", {served(R"({"from": "a raw backend"})")});
  own = {mine.rec};
  own_only = true;
  in_flight((*backends)[0].cell, 9);  // the others look cheaper: no matter
  auto out = send();
  CAF_REQUIRE(out->has_value());
  // The own backend failed, and the request is not forwarded elsewhere: 502.
  CAF_CHECK_EQUAL((*out)->status, 502u);
  CAF_CHECK_EQUAL(tried_names(**out), strings{"tts/cpu/127.0.0.1:8899"});
  CAF_CHECK(other.s->seen.empty());
  CAF_CHECK(raw.s->seen.empty());
  // With the board warm, its pick is the own backend too.
  warm_board();
  auto served_here = send();
  CAF_REQUIRE(served_here->has_value());
  CAF_CHECK_EQUAL((*served_here)->status, 200u);
  CAF_CHECK_EQUAL((*served_here)->body, R"({"from": "mine"})");
  CAF_CHECK(other.s->seen.empty());
  CAF_CHECK(raw.s->seen.empty());
  // A client's request (no node in its Via) may go anywhere.
  own_only = false;
  mine.s->replies = {failed("connect_failed: refused")};
  auto entry = send();
  CAF_REQUIRE(entry->has_value());
  CAF_CHECK_EQUAL((*entry)->status, 200u);
  CAF_CHECK_EQUAL(other.s->seen.size() + raw.s->seen.size(), 1u);
}

CAF_TEST(a_request_from_another_node_without_an_own_backend_is_503_not_owner_at_once) {
  auto other = add("tts/cpu/192.0.2.2:5600", {served(R"({"from": "another node"})")});
  auto mine = add("asr/cpu/127.0.0.1:8888", {served(R"({"r": []})")});
  own = {mine.rec};  // an ASR backend only
  own_only = true;
  auto out = send("tts");
  CAF_REQUIRE(out->has_value());
  CAF_CHECK_EQUAL((*out)->status, 503u);
  CAF_CHECK_EQUAL(error_code(**out), "not_owner");
  CAF_CHECK_EQUAL((*out)->retry_after_s, 0u);  // not busy: the entry node moves on
  CAF_CHECK_EQUAL((*out)->attempts, 0u);
  CAF_CHECK(other.s->seen.empty());
  CAF_CHECK(mine.s->seen.empty());
  // The kind counts too: an own asr/cpu backend is no owner of asr/gpu.
  auto gpu = send("asr", "gpu");
  CAF_REQUIRE(gpu->has_value());
  CAF_CHECK_EQUAL(error_code(**gpu), "not_owner");
  auto cpu = send("asr", "cpu");
  CAF_REQUIRE(cpu->has_value());
  CAF_CHECK_EQUAL((*cpu)->status, 200u);
}

// -- late binding (request_config::late_binding, --announce node) ---------------------------

namespace {

actors::reservation_answer answer(actors::reservation_status st, caf::timespan retry = {}) {
  return {st, retry, st == actors::reservation_status::granted ? "" : "scripted refusal"};
}

}  // namespace

/// `b` grants its held reservation `i`.
void grant(caf::scheduler::test_coordinator& sched, const fake_backend& b, std::uint64_t i) {
  caf::anon_send(b.fwd, actors::reserved_atom::value, i,
                 answer(actors::reservation_status::granted), serving::peer_kind::node);
  sched.run();
}

namespace {

}  // namespace

CAF_TEST(late_binding_the_first_owner_to_grant_gets_the_job_and_the_others_are_cancelled) {
  cfg.late_binding = true;
  auto a = add("tts/cpu/192.0.2.1:5600", {served(R"({"response_code": 0, "from": "a"})")});
  auto b = add("tts/cpu/192.0.2.2:5600", {served(R"({"response_code": 0, "from": "b"})")});
  own_backends({*net::parse_service_record("tts/cpu/127.0.0.1:8899")},
               {served(R"({"response_code": 0, "from": "own"})")});
  auto out = send();
  CAF_CHECK(!out->has_value());
  // One round: this node's owner and both node endpoints hold a reservation of one id;
  // nothing is sent anywhere before a grant.
  CAF_REQUIRE_EQUAL(a.s->reserved.size(), 1u);
  CAF_REQUIRE_EQUAL(b.s->reserved.size(), 1u);
  CAF_REQUIRE_EQUAL(owner_script->reserved.size(), 1u);
  auto id = a.s->reserved[0].id;
  CAF_CHECK_EQUAL(b.s->reserved[0].id, id);
  CAF_CHECK_EQUAL(owner_script->reserved[0].id, id);
  CAF_CHECK_EQUAL(a.s->reserved[0].service, net::service::tts);
  CAF_CHECK(a.s->seen.empty() && b.s->seen.empty() && owner_script->seen.empty());
  grant(sched, b, 0);
  CAF_REQUIRE(out->has_value());
  CAF_CHECK_EQUAL((*out)->status, 200u);
  CAF_CHECK_EQUAL((*out)->body, R"({"response_code": 0, "from": "b"})");
  CAF_CHECK_EQUAL((*out)->attempts, 1u);
  CAF_REQUIRE_EQUAL(b.s->seen.size(), 1u);
  CAF_CHECK_EQUAL(b.s->seen[0].reservation, id);  // the job takes the slot held for it
  CAF_CHECK_EQUAL(b.s->seen[0].body, job_body);
  CAF_CHECK_EQUAL(a.s->cancelled, strings{id});
  CAF_CHECK_EQUAL(owner_script->cancelled, strings{id});
  CAF_CHECK(b.s->cancelled.empty());
  CAF_CHECK(a.s->seen.empty() && owner_script->seen.empty());
}

CAF_TEST(late_binding_this_nodes_owner_granting_first_runs_the_job_on_its_slot) {
  cfg.late_binding = true;
  auto a = add("tts/cpu/192.0.2.1:5600", {served(R"({"response_code": 0, "from": "a"})")});
  own_backends({*net::parse_service_record("tts/cpu/127.0.0.1:8899")},
               {served(R"({"response_code": 0, "from": "own"})")});
  owner_script->reservations = {answer(actors::reservation_status::granted)};  // a free slot
  auto out = send();
  auto id = owner_script->reserved.at(0).id;
  CAF_REQUIRE(out->has_value());
  CAF_CHECK_EQUAL((*out)->body, R"({"response_code": 0, "from": "own"})");
  CAF_REQUIRE_EQUAL(owner_script->seen.size(), 1u);
  CAF_CHECK_EQUAL(owner_script->seen[0].reservation, id);
  CAF_CHECK_EQUAL(a.s->cancelled, strings{id});
  CAF_CHECK_EQUAL((*out)->attempt_log.at(0).backend, "own tts backends");
}

CAF_TEST(late_binding_a_plain_backend_learnt_from_a_refused_reservation_gets_jobs_straight) {
  cfg.late_binding = true;
  auto plain = add("tts/cpu/192.0.2.1:8899", {served(R"({"response_code": 0, "from": "plain"})")});
  plain.s->reservations = {answer(actors::reservation_status::not_a_node)};
  auto full = add("tts/cpu/192.0.2.2:5600", {served(R"({"response_code": 0, "from": "node"})")});
  full.s->reservations = {answer(actors::reservation_status::full, 3s)};
  // Both refuse: the plain one takes the job as a SOVA server would, with no reservation.
  auto out = send();
  CAF_REQUIRE(out->has_value());
  CAF_CHECK_EQUAL((*out)->body, R"({"response_code": 0, "from": "plain"})");
  CAF_REQUIRE_EQUAL(plain.s->seen.size(), 1u);
  CAF_CHECK_EQUAL(plain.s->seen[0].reservation, "");
  CAF_CHECK((*backends)[0].cell->peer() == serving::peer_kind::plain);
  // Known plain and idle now: the next request goes to it at once, no reservation asked.
  auto next = send();
  CAF_REQUIRE(next->has_value());
  CAF_CHECK_EQUAL((*next)->status, 200u);
  CAF_CHECK_EQUAL(plain.s->reserved.size(), 1u);
  CAF_CHECK_EQUAL(full.s->reserved.size(), 1u);
  CAF_CHECK_EQUAL(plain.s->seen.size(), 2u);
  CAF_CHECK(full.s->seen.empty());
}

CAF_TEST(late_binding_every_owner_full_is_busy_with_the_shortest_wait) {
  cfg.late_binding = true;
  auto a = add("tts/cpu/192.0.2.1:5600", {served(R"({"response_code": 0})")});
  a.s->reservations = {answer(actors::reservation_status::full, 7s)};
  auto b = add("tts/cpu/192.0.2.2:5600", {served(R"({"response_code": 0})")});
  b.s->reservations = {answer(actors::reservation_status::full, 4s)};
  auto out = send();
  CAF_REQUIRE(out->has_value());
  CAF_CHECK_EQUAL((*out)->status, 503u);
  CAF_CHECK_EQUAL(error_code(**out), "busy");
  CAF_CHECK_EQUAL((*out)->retry_after_s, 4u);
  CAF_CHECK_EQUAL((*out)->attempts, 0u);
  CAF_CHECK(a.s->seen.empty() && b.s->seen.empty());
}

CAF_TEST(late_binding_owners_without_a_backend_up_say_why) {
  cfg.late_binding = true;
  auto a = add("tts/cpu/192.0.2.1:5600", {served(R"({"response_code": 0})")});
  a.s->reservations = {answer(actors::reservation_status::no_backend)};
  auto out = send();
  CAF_REQUIRE(out->has_value());
  CAF_CHECK_EQUAL((*out)->status, 503u);
  CAF_CHECK_EQUAL(error_code(**out), "no_backend");
  CAF_CHECK_NOT_EQUAL((*out)->body.find("192.0.2.1:5600: scripted refusal"), std::string::npos);
}

CAF_TEST(late_binding_a_failed_job_is_placed_again_in_a_new_round) {
  cfg.late_binding = true;
  cfg.max_attempts = 3;
  auto a = add("tts/cpu/192.0.2.1:5600", {failed("connect_failed: refused")});
  a.s->reservations = {answer(actors::reservation_status::granted),
                       answer(actors::reservation_status::no_backend)};
  auto b = add("tts/cpu/192.0.2.2:5600", {served(R"({"response_code": 0, "from": "b"})")});
  auto out = send();
  // Round 1: a grants at once and fails the job; b's reservation is cancelled.
  CAF_REQUIRE_EQUAL(b.s->reserved.size(), 2u);  // round 2 asked b again
  CAF_CHECK_EQUAL(b.s->cancelled, strings{b.s->reserved[0].id});
  CAF_CHECK_NOT_EQUAL(b.s->reserved[1].id, b.s->reserved[0].id);
  CAF_REQUIRE_EQUAL(b.s->held_reservations.size(), 2u);
  grant(sched, b, 1);
  CAF_REQUIRE(out->has_value());
  CAF_CHECK_EQUAL((*out)->status, 200u);
  CAF_CHECK_EQUAL((*out)->attempts, 2u);
  CAF_CHECK_EQUAL(tried_names(**out), (strings{"tts/cpu/192.0.2.1:5600", "tts/cpu/192.0.2.2:5600"}));
  CAF_CHECK_EQUAL(b.s->seen.at(0).body, job_body);  // the body came back from the failure
}

CAF_TEST(late_binding_an_own_backend_answering_unusably_is_blamed_through_the_owner) {
  cfg.late_binding = true;
  auto bad = unusable("answered 500 (text/html)");
  bad.backend = "tts/cpu/127.0.0.1:8899";
  auto good = served(R"({"response_code": 0})");
  good.backend = "tts/cpu/127.0.0.1:8900";
  own_backends({*net::parse_service_record("tts/cpu/127.0.0.1:8899"),
                *net::parse_service_record("tts/cpu/127.0.0.1:8900")},
               {bad, good});
  owner_script->reservations = {answer(actors::reservation_status::granted)};
  auto out = send();
  CAF_REQUIRE(out->has_value());
  CAF_CHECK_EQUAL((*out)->status, 200u);
  // The attempt log names the own backends the owner chose.
  CAF_CHECK_EQUAL(tried_names(**out), (strings{"tts/cpu/127.0.0.1:8899", "tts/cpu/127.0.0.1:8900"}));
  // Another backend served it: the first one's answer was its fault, told to the owner.
  CAF_CHECK_EQUAL(owner_script->blamed, strings{"tts/cpu/127.0.0.1:8899: answered 500 (text/html)"});
  // The second round asked this node's owner to keep the job off the backend that failed it.
  CAF_REQUIRE_EQUAL(owner_script->reserved.size(), 2u);
  CAF_CHECK(owner_script->reserved[0].avoid.empty());
  CAF_CHECK_EQUAL(owner_script->reserved[1].avoid, strings{"tts/cpu/127.0.0.1:8899"});
}

CAF_TEST(a_forwarded_request_goes_through_this_nodes_owner_once) {
  own_backends({*net::parse_service_record("tts/cpu/127.0.0.1:8899")},
               {served(R"({"response_code": 0, "from": "own"})")});
  own_only = true;
  // Without a reservation: queued at the owner (run), no directory, no other backend.
  auto other = add("tts/cpu/192.0.2.1:8899", {served(R"({"response_code": 0})")});
  auto out = send();
  CAF_REQUIRE(out->has_value());
  CAF_CHECK_EQUAL((*out)->body, R"({"response_code": 0, "from": "own"})");
  CAF_REQUIRE_EQUAL(owner_script->seen.size(), 1u);
  CAF_CHECK_EQUAL(owner_script->seen[0].reservation, "");
  // With the reservation this node granted: claimed on its slot.
  reservation = "0123456789abcdef";
  out = send();
  CAF_REQUIRE(out->has_value());
  CAF_REQUIRE_EQUAL(owner_script->seen.size(), 2u);
  CAF_CHECK_EQUAL(owner_script->seen[1].reservation, "0123456789abcdef");
  // The owner's failure is the answer: the entry node retries elsewhere, not this node.
  owner_script->replies = {failed("connect_failed: refused")};
  out = send();
  CAF_REQUIRE(out->has_value());
  CAF_CHECK_EQUAL((*out)->status, 502u);
  CAF_CHECK_EQUAL((*out)->attempts, 1u);
  owner_script->replies = {busy(9s)};
  out = send();
  CAF_REQUIRE(out->has_value());
  CAF_CHECK_EQUAL((*out)->status, 503u);
  CAF_CHECK_EQUAL((*out)->retry_after_s, 9u);
  owner_script->replies = {refused()};
  out = send();
  CAF_REQUIRE(out->has_value());
  CAF_CHECK_EQUAL(error_code(**out), "reservation_lapsed");
  CAF_CHECK(other.s->seen.empty());
}

CAF_TEST_FIXTURE_SCOPE_END()
