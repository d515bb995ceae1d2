// Deterministic tests of the backend forwarder: a fake http_send records each exchange
// and the test completes it when it wants, so attempts, the circuit breaker's pause and
// latencies all run on the test coordinator's simulated clock. No sockets.
#define CAF_SUITE backend_forwarder
#include "caf/test/dsl.hpp"

#include <memory>
#include <string>
#include <vector>

#include "actors/backend_forwarder.hpp"
#include "sim_network.hpp"

using namespace sova;
using namespace std::chrono_literals;
using serving::breaker_state;
using actors::forward_outcome;
using actors::forward_request;
using actors::forward_status;
using actors::reservation_answer;
using actors::reservation_status;
using serving::peer_kind;

namespace {

/// One exchange the forwarder handed to the HTTP client.
struct exchange {
  net::service_record backend;
  http::client_request req;
  http::client_callback done;
};
using exchanges = std::shared_ptr<std::vector<exchange>>;
/// Stands in for the pool (the forwarder ends with it); answers `readings` when asked.
/// (A spawn argument it needs: CAF 0.17 binds a null tuple to an actor spawned without.)
actors::backend_pool_actor::behavior_type idle_pool(actors::backend_pool_actor::pointer,
                                                    serving::backend_readings readings) {
  return {
      [](actors::forwarders_atom, const actors::service_records&) {
        return actors::backend_links{};
      },
      [readings](actors::health_atom) { return readings; },
      [](actors::tick_atom) {},
  };
}

http::client_result reply(unsigned status, std::string content_type, std::string body) {
  http::client_result r{true, http::client_errc::protocol, "", {}, {}};
  r.response.status = status;
  r.response.headers = {{"Connection", "keep-alive"}, {"Content-Type", std::move(content_type)}};
  r.response.body = std::move(body);
  return r;
}

/// A reply of SOVA ASR (the fixture's backend is an ASR one).
http::client_result json_reply(std::string body = R"({"r":[]})") {
  return reply(200, "application/json", std::move(body));
}

http::client_result transport_error(http::client_errc e, std::string message) {
  return {false, e, std::move(message), {}, {}};
}

http::client_result refused_connection() {
  return transport_error(http::client_errc::connect_failed, "connection refused");
}

/// The first header `name` of a request the forwarder built, or "<none>".
std::string header_of(const http::client_request& r, const std::string& name) {
  for (const auto& [n, v] : r.headers)
    if (n == name) return v;
  return "<none>";
}

/// A reservation at the node behind the fixture's address.
actors::reservation_request reservation(std::string id = "r1") {
  actors::reservation_request r;
  r.id = std::move(id);
  r.service = net::service::asr;
  r.wanted = net::wanted_kind::any;
  r.timeout = 30s;
  r.via = "1.1 sova-dc-0011223344556677";
  return r;
}

/// An owner's JSON error, as http::error_response writes it.
http::client_result node_error(unsigned status, const std::string& code,
                               std::vector<std::pair<std::string, std::string>> extra = {}) {
  auto r = reply(status, "application/json",
                 R"({"response_code": 1, "error": {"code": ")" + code + R"(", "message": "m"}})");
  for (auto& h : extra) r.response.headers.push_back(std::move(h));
  return r;
}

http::client_result granted(const std::string& id = "r1") {
  return reply(200, "application/json", R"({"reservation": ")" + id + R"(", "status": "granted"})");
}

forward_request asr_request() {
  forward_request req;
  req.service = net::service::asr;
  req.content_type = "multipart/form-data; boundary=xYz";
  req.body = "--xYz\r\nContent-Disposition: form-data; name=\"audio_blob\"\r\n\r\n"
             "RIFF\x01\x02\r\n--xYz--\r\n";
  return req;
}

struct fixture : test_coordinator_fixture<> {
  net::service_record backend = *net::parse_service_record("asr/cpu/192.0.2.7:8888");
  exchanges sent = std::make_shared<std::vector<exchange>>();
  actors::backend_pool_actor pool = sys.spawn(idle_pool, serving::backend_readings{});
  actors::backend_forwarder_actor fwd;
  std::shared_ptr<serving::backend_cell> cell;  // what everyone else reads of it

  void start(actors::forwarder_config cfg = {}) {
    auto log = sent;
    actors::http_send fake = [log](const net::service_record& b, http::client_request req,
                                   http::client_callback done) {
      log->push_back(exchange{b, std::move(req), std::move(done)});
    };
    cell = std::make_shared<serving::backend_cell>(backend, cfg.ewma_weight);
    fwd = actors::spawn_backend_forwarder(sys, cfg, cell, fake, pool);
  }

  sim::answer<forward_outcome> forward(forward_request req = asr_request()) {
    auto a = sim::ask<forward_outcome>(sys, fwd, actors::forward_atom::value, std::move(req));
    sched.run();
    return a;
  }

  sim::answer<reservation_answer> reserve(actors::reservation_request req = reservation()) {
    auto a = sim::ask<reservation_answer>(sys, fwd, actors::reserve_atom::value, std::move(req));
    sched.run();
    return a;
  }

  /// One reservation sent and answered with `r`.
  reservation_answer reserved(http::client_result r) {
    auto before = sent->size();
    auto a = reserve();
    CAF_REQUIRE_EQUAL(sent->size(), before + 1);
    CAF_CHECK(!sim::ready(a));  // it waits for the owner
    complete(before, std::move(r));
    return value(a);
  }

  /// The HTTP client finishes exchange `i` (on "its" thread: the test's).
  void complete(std::size_t i, http::client_result r) {
    CAF_REQUIRE_LESS(i, sent->size());
    (*sent)[i].done(std::move(r));
    sched.run();
  }

  template <class T>
  T value(const sim::answer<T>& a) {
    CAF_REQUIRE(sim::ready(a));
    CAF_REQUIRE(**a);
    return ***a;
  }

  /// One attempt sent and completed with `r`.
  forward_outcome attempt(http::client_result r) {
    auto a = forward();
    complete(sent->size() - 1, std::move(r));
    return value(a);
  }

  /// The backend's state as its cell holds it once every pending message is handled.
  serving::backend_reading health() {
    sched.run();
    return cell->read();
  }

  /// Fails `n` attempts in a row (the breaker may open on the last).
  void fail(int n) {
    for (int i = 0; i < n; ++i)
      CAF_CHECK_EQUAL(attempt(refused_connection()).status, forward_status::failed);
  }
};

actors::forwarder_config breaker(std::uint32_t failures, caf::timespan pause = 5s) {
  actors::forwarder_config cfg;
  cfg.breaker_failures = failures;
  cfg.breaker_pause = pause;
  return cfg;
}

}  // namespace

CAF_TEST_FIXTURE_SCOPE(backend_forwarder_tests, fixture)

CAF_TEST(a_served_reply_is_passed_on_byte_for_byte) {
  start();
  std::string body = "{\"r\": [{\"response\": [{\"text\": \"\xd0\xbf\xd1\x80\xd0\xb8\"}],\n"
                     "  \"words\": [1, 2.5e3, null]}]}\n";
  auto a = forward();
  CAF_REQUIRE_EQUAL(sent->size(), 1u);
  CAF_CHECK_EQUAL((*sent)[0].backend, backend);
  CAF_CHECK(!sim::ready(a));  // nothing answered before the backend did
  complete(0, reply(200, "text/html; charset=utf-8", body));  // as SOVA ASR labels its JSON
  auto out = value(a);
  CAF_CHECK_EQUAL(out.status, forward_status::served);
  CAF_CHECK_EQUAL(out.http_status, 200u);
  CAF_CHECK_EQUAL(out.body, body);
  CAF_CHECK_EQUAL(out.reason, "");
  CAF_CHECK_EQUAL(health().served, 1u);
}

CAF_TEST(an_asr_request_keeps_the_clients_content_type_and_body) {
  start();
  auto req = asr_request();
  req.timeout = 1500ms;
  forward(req);
  CAF_REQUIRE_EQUAL(sent->size(), 1u);
  const auto& out = (*sent)[0].req;
  CAF_CHECK_EQUAL(out.method, "POST");
  CAF_CHECK_EQUAL(out.target, "/asr");
  CAF_CHECK_EQUAL(out.content_type, "multipart/form-data; boundary=xYz");
  CAF_CHECK_EQUAL(out.body, req.body);
  CAF_CHECK(out.follow_redirect);
  CAF_CHECK_EQUAL(out.timeout.count(), 1500);
}

CAF_TEST(a_tts_request_posts_json_to_synthesize) {
  start();
  forward_request req;
  req.service = net::service::tts;
  req.content_type = "text/plain";  // whatever the client said: the backend takes JSON
  req.body = R"({"voice":"Natasha","text":"Привет"})";
  req.timeout = 20s;
  forward(req);
  CAF_REQUIRE_EQUAL(sent->size(), 1u);
  const auto& out = (*sent)[0].req;
  CAF_CHECK_EQUAL(out.method, "POST");
  CAF_CHECK_EQUAL(out.target, "/synthesize/");
  CAF_CHECK_EQUAL(out.content_type, "application/json");
  CAF_CHECK_EQUAL(out.body, req.body);
  CAF_CHECK(out.follow_redirect);
  CAF_CHECK_EQUAL(out.timeout.count(), 20000);
  // A budget under a millisecond is rounded up, not down to nothing.
  req.timeout = 250us;
  CAF_CHECK_EQUAL(actors::make_backend_request(req).timeout.count(), 1);
}

CAF_TEST(transport_failures_fail_the_attempt_and_count_at_once) {
  start(breaker(100));
  struct failure {
    http::client_result result;
    std::string reason;
  };
  std::vector<failure> failures{
      {refused_connection(), "connect_failed: connection refused"},
      {transport_error(http::client_errc::timeout, "no answer in 30000 ms"),
       "timeout: no answer in 30000 ms"},
      {transport_error(http::client_errc::protocol, "end of stream"), "protocol: end of stream"},
  };
  for (auto& f : failures) {
    auto out = attempt(f.result);
    CAF_CHECK_EQUAL(out.status, forward_status::failed);
    CAF_CHECK_EQUAL(out.reason, f.reason);
    CAF_CHECK_EQUAL(out.http_status, 0u);
  }
  auto h = health();
  CAF_CHECK_EQUAL(h.failed, failures.size());
  CAF_CHECK_EQUAL(h.consecutive_failures, failures.size());
  CAF_CHECK_EQUAL(h.served, 0u);
  CAF_CHECK_EQUAL(h.breaker, breaker_state::closed);
}

CAF_TEST(answers_that_are_not_replies_of_the_service_are_unusable_and_count_nothing) {
  start(breaker(2));
  struct answer {
    http::client_result result;
    std::string reason_start;
  };
  std::vector<answer> answers{
      {reply(500, "text/html", "<!doctype html><title>500 Internal Server Error</title>"),
       "answered 500 (text/html) \"<!doctype html>"},
      {reply(503, "application/json", R"({"error":"busy"})"), "answered 503 (application/json)"},
      {reply(400, "application/json", R"({"r":[]})"), "answered 400"},
      {reply(200, "text/html", "<html>oops</html>"), "answered 200 (text/html) \"<html>oops"},
      {reply(200, "application/json", R"({"r":{}})"), "answered 200 (application/json) JSON that is not a SOVA ASR reply"},
      {reply(200, "application/json", "[]"), "answered 200 (application/json) JSON that is not"},
      {reply(302, "text/plain", ""), "answered 302 (text/plain) with no body"},
  };
  for (auto& a : answers) {
    auto out = attempt(a.result);
    CAF_MESSAGE(out.reason);
    CAF_CHECK_EQUAL(out.status, forward_status::unusable);
    CAF_CHECK_EQUAL(out.reason.substr(0, a.reason_start.size()), a.reason_start);
    CAF_CHECK_EQUAL(out.http_status, a.result.response.status);
  }
  auto h = health();
  CAF_CHECK_EQUAL(h.failed, 0u);  // the request may have been at fault: see blame below
  CAF_CHECK_EQUAL(h.consecutive_failures, 0u);
  CAF_CHECK_EQUAL(h.served, 0u);
  CAF_CHECK_EQUAL(h.breaker, breaker_state::closed);
}

CAF_TEST(an_answer_of_the_other_service_or_a_404_suggests_the_port) {
  start();
  for (auto r : {reply(404, "text/html", "<h1>Not Found</h1>"),
                 reply(200, "application/json", R"({"response":[],"response_code":0})")}) {
    auto out = attempt(r);
    CAF_CHECK_EQUAL(out.status, forward_status::unusable);
    CAF_CHECK_NOT_EQUAL(out.reason.find("SOVA ASR serves POST /asr: is that the TTS port?"),
                        std::string::npos);
  }
  CAF_CHECK_EQUAL(attempt(reply(500, "text/html", "boom")).reason.find("port"), std::string::npos);
}

CAF_TEST(a_tts_reply_is_one_with_a_response_code_even_a_refusal_of_the_text) {
  backend = *net::parse_service_record("tts/cpu/192.0.2.7:8899");
  start();
  forward_request req;
  req.service = net::service::tts;
  req.body = R"({"text":"hi","voice":"Natasha"})";
  for (auto body : {R"({"response":[{"response_audio":"UklGRg=="}],"response_code":0})",
                    R"({"response":"unknown voice","response_code":1})"}) {
    auto a = forward(req);
    complete(sent->size() - 1, reply(200, "application/json", body));
    CAF_CHECK_EQUAL(value(a).status, forward_status::served);
  }
  auto a = forward(req);
  complete(sent->size() - 1, reply(200, "text/html", R"({"r":[]})"));  // an ASR server's reply
  auto out = value(a);
  CAF_CHECK_EQUAL(out.status, forward_status::unusable);
  CAF_CHECK_NOT_EQUAL(out.reason.find("is that the ASR port?"), std::string::npos);
}

CAF_TEST(unusable_answers_blamed_later_count_and_open_the_breaker) {
  start(breaker(2, 5s));
  auto out = attempt(reply(500, "text/html", "boom"));
  CAF_CHECK_EQUAL(health().failed, 0u);
  // Another backend served that request: the request actor blames this one.
  self->send(fwd, actors::failed_atom::value, out.reason);
  sched.run();
  CAF_CHECK_EQUAL(health().failed, 1u);
  attempt(reply(500, "text/html", "boom"));
  self->send(fwd, actors::failed_atom::value, std::string("answered 500"));
  sched.run();
  CAF_CHECK_EQUAL(health().breaker, breaker_state::open);
}

CAF_TEST(a_probe_that_ends_unusable_leaves_the_breaker_half_open_until_blamed) {
  start(breaker(2, 5s));
  fail(2);
  sched.advance_time(5s);
  sched.run();
  auto probe = forward();
  complete(2, reply(500, "text/html", "boom"));
  CAF_CHECK_EQUAL(value(probe).status, forward_status::unusable);
  CAF_CHECK_EQUAL(health().breaker, breaker_state::half_open);
  // The next request may probe it again...
  auto again = forward();
  CAF_CHECK_EQUAL(sent->size(), 4u);
  complete(3, reply(500, "text/html", "boom"));
  CAF_CHECK_EQUAL(value(again).status, forward_status::unusable);
  // ...and when another backend served that request, the blame reopens the breaker.
  self->send(fwd, actors::failed_atom::value, std::string("answered 500"));
  sched.run();
  CAF_CHECK_EQUAL(health().breaker, breaker_state::open);
  CAF_CHECK_EQUAL(value(forward()).status, forward_status::refused);
}

CAF_TEST(a_served_attempt_resets_the_failure_count) {
  start(breaker(3));
  fail(2);
  CAF_CHECK_EQUAL(health().consecutive_failures, 2u);
  CAF_CHECK_EQUAL(attempt(json_reply()).status, forward_status::served);
  CAF_CHECK_EQUAL(health().consecutive_failures, 0u);
  fail(2);
  CAF_CHECK_EQUAL(attempt(json_reply()).status, forward_status::served);
  fail(2);
  auto h = health();
  CAF_CHECK_EQUAL(h.breaker, breaker_state::closed);  // never three in a row
  CAF_CHECK_EQUAL(h.failed, 6u);
  fail(1);
  CAF_CHECK_EQUAL(health().breaker, breaker_state::open);
}

CAF_TEST(the_breaker_opens_after_consecutive_failures_and_refuses_without_sending) {
  start(breaker(3));
  fail(2);
  CAF_CHECK_EQUAL(health().breaker, breaker_state::closed);
  fail(1);
  CAF_CHECK_EQUAL(health().breaker, breaker_state::open);
  CAF_REQUIRE_EQUAL(sent->size(), 3u);
  for (int i = 0; i < 5; ++i) {
    auto a = forward();
    auto out = value(a);  // answered at once, no exchange completed
    CAF_CHECK_EQUAL(out.status, forward_status::refused);
    CAF_CHECK_EQUAL(out.reason, "circuit breaker open");
  }
  CAF_CHECK_EQUAL(sent->size(), 3u);
  auto h = health();
  CAF_CHECK_EQUAL(h.refused, 5u);
  CAF_CHECK_EQUAL(h.in_flight, 0u);
  CAF_CHECK_EQUAL(h.consecutive_failures, 3u);
}

CAF_TEST(after_the_pause_exactly_one_probe_goes_through) {
  start(breaker(2, 5s));
  fail(2);
  sched.advance_time(4s);
  sched.run();
  CAF_CHECK_EQUAL(value(forward()).status, forward_status::refused);  // still pausing
  sched.advance_time(1s);
  sched.run();
  CAF_CHECK_EQUAL(health().breaker, breaker_state::half_open);
  auto probe = forward();
  auto second = forward();
  auto third = forward();
  CAF_CHECK_EQUAL(sent->size(), 3u);  // two failures, then the probe only
  CAF_CHECK(!sim::ready(probe));
  CAF_CHECK_EQUAL(value(second).status, forward_status::refused);
  CAF_CHECK_EQUAL(value(third).status, forward_status::refused);
  auto h = health();
  CAF_CHECK_EQUAL(h.in_flight, 1u);
  CAF_CHECK_EQUAL(h.refused, 3u);
}

CAF_TEST(a_served_probe_closes_the_breaker) {
  start(breaker(2, 5s));
  fail(2);
  sched.advance_time(5s);
  sched.run();
  auto probe = forward();
  complete(2, json_reply());
  CAF_CHECK_EQUAL(value(probe).status, forward_status::served);
  auto h = health();
  CAF_CHECK_EQUAL(h.breaker, breaker_state::closed);
  CAF_CHECK_EQUAL(h.consecutive_failures, 0u);
  // Requests flow again, several at a time.
  forward();
  forward();
  CAF_CHECK_EQUAL(sent->size(), 5u);
  CAF_CHECK_EQUAL(health().in_flight, 2u);
}

CAF_TEST(a_failed_probe_reopens_the_breaker_for_a_new_pause) {
  start(breaker(2, 5s));
  fail(2);
  sched.advance_time(5s);
  sched.run();
  auto probe = forward();
  sched.advance_time(3s);  // the probe takes a while: the new pause starts when it fails
  complete(2, transport_error(http::client_errc::timeout, "no answer"));
  CAF_CHECK_EQUAL(value(probe).status, forward_status::failed);
  auto h = health();
  CAF_CHECK_EQUAL(h.breaker, breaker_state::open);
  CAF_CHECK_EQUAL(h.consecutive_failures, 3u);
  CAF_CHECK_EQUAL(value(forward()).status, forward_status::refused);
  sched.advance_time(4999ms);
  sched.run();
  CAF_CHECK_EQUAL(health().breaker, breaker_state::open);
  sched.advance_time(1ms);
  sched.run();
  CAF_CHECK_EQUAL(health().breaker, breaker_state::half_open);
  forward();
  CAF_CHECK_EQUAL(sent->size(), 4u);  // the second probe
}

CAF_TEST(late_results_count_but_do_not_move_an_open_breaker) {
  start(breaker(2, 5s));
  auto a = forward();
  auto b = forward();
  auto c = forward();
  auto d = forward();
  complete(0, refused_connection());
  complete(1, refused_connection());
  CAF_CHECK_EQUAL(health().breaker, breaker_state::open);
  complete(2, json_reply());  // sent before the breaker opened
  complete(3, refused_connection());
  CAF_CHECK_EQUAL(value(c).status, forward_status::served);
  CAF_CHECK_EQUAL(value(d).status, forward_status::failed);
  auto h = health();
  CAF_CHECK_EQUAL(h.breaker, breaker_state::open);  // only a probe decides
  CAF_CHECK_EQUAL(h.served, 1u);
  CAF_CHECK_EQUAL(h.failed, 3u);
  CAF_CHECK_EQUAL(h.consecutive_failures, 1u);
  CAF_CHECK_EQUAL(h.in_flight, 0u);
  // One pause, one half-open: the late failure scheduled no second timer.
  CAF_CHECK_EQUAL(sched.advance_time(5s), 1u);
  sched.run();
  CAF_CHECK_EQUAL(health().breaker, breaker_state::half_open);
}

CAF_TEST(latency_comes_from_the_actor_clock_and_feeds_the_average) {
  actors::forwarder_config cfg;
  cfg.ewma_weight = 0.5;
  start(cfg);
  auto a = forward();
  auto b = forward();
  auto c = forward();
  CAF_CHECK_EQUAL(health().in_flight, 3u);
  sched.advance_time(100ms);
  complete(0, json_reply());
  CAF_CHECK_EQUAL(value(a).latency, caf::timespan{100ms});
  auto h = health();
  CAF_CHECK_EQUAL(h.latency_ms, 100.0);  // the first sample sets it
  CAF_CHECK_EQUAL(h.in_flight, 2u);
  sched.advance_time(100ms);
  complete(1, json_reply());
  CAF_CHECK_EQUAL(value(b).latency, caf::timespan{200ms});
  CAF_CHECK_EQUAL(health().latency_ms, 150.0);  // 0.5 * 200 + 0.5 * 100
  sched.advance_time(700ms);
  complete(2, refused_connection());
  CAF_CHECK_EQUAL(value(c).latency, caf::timespan{900ms});  // measured for failures too
  h = health();
  CAF_CHECK_EQUAL(h.latency_ms, 150.0);  // but only served attempts are averaged
  CAF_CHECK_EQUAL(h.in_flight, 0u);
}

CAF_TEST(every_change_is_in_the_cell_at_once) {
  start(breaker(1, 5s));
  sched.run();
  auto r = cell->read();
  CAF_CHECK_EQUAL(r.backend, backend);
  CAF_CHECK_EQUAL(r.in_flight, 0u);
  auto a = forward();
  CAF_CHECK_EQUAL(cell->read().in_flight, 1u);
  complete(0, refused_connection());  // completion and breaker change
  r = cell->read();
  CAF_CHECK_EQUAL(r.in_flight, 0u);
  CAF_CHECK_EQUAL(r.failed, 1u);
  CAF_CHECK_EQUAL(r.breaker, breaker_state::open);
  forward();  // refused
  CAF_CHECK_EQUAL(cell->read().refused, 1u);
  sched.advance_time(5s);
  sched.run();
  CAF_CHECK_EQUAL(cell->read().breaker, breaker_state::half_open);
  CAF_CHECK(!cell->read().probe_in_flight);
  forward();  // the probe
  CAF_CHECK(cell->read().probe_in_flight);
  complete(1, json_reply());
  r = cell->read();
  CAF_CHECK_EQUAL(r.breaker, breaker_state::closed);
  CAF_CHECK(!r.probe_in_flight);
  CAF_CHECK_EQUAL(r.served, 1u);
}

CAF_TEST(the_forwarder_ends_with_its_pool_and_fails_what_is_in_flight) {
  start();
  auto a = forward();
  CAF_REQUIRE_EQUAL(sent->size(), 1u);
  caf::anon_send_exit(pool, caf::exit_reason::user_shutdown);
  sched.run();
  auto out = value(a);
  CAF_CHECK_EQUAL(out.status, forward_status::failed);
  CAF_CHECK_EQUAL(out.reason, "forwarder stopped");
  CAF_CHECK(sim::has_ended(fwd));
  complete(0, json_reply());  // the late callback is harmless
}

CAF_TEST(the_cell_shows_the_forwarders_live_numbers_to_the_fast_lane) {
  start(breaker(2));
  auto a = forward();
  CAF_CHECK_EQUAL(cell->in_flight(), 1u);
  sched.advance_time(40ms);
  complete(0, json_reply());
  CAF_CHECK(sim::ready(a));
  auto now = sched.clock().now().time_since_epoch();
  auto l = cell->load_at(now);
  CAF_CHECK_EQUAL(l.in_flight, 0u);
  CAF_CHECK_EQUAL(l.latency_ms, 40.0);
  CAF_CHECK_EQUAL(cell->read().served, 1u);
  CAF_CHECK(l.healthy && l.usable);
  fail(2);
  now = sched.clock().now().time_since_epoch();
  CAF_CHECK(!cell->load_at(now).usable);  // open: nobody chooses it
  sched.advance_time(5s);  // the pause ends: half-open is usable (the probe), not healthy
  sched.run();
  now = sched.clock().now().time_since_epoch();
  CAF_CHECK_EQUAL(health().breaker, breaker_state::half_open);
  CAF_CHECK(cell->load_at(now).usable);
  CAF_CHECK(!cell->load_at(now).healthy);
  auto probe = forward();
  CAF_CHECK(!cell->load_at(now).usable);  // its probe is out: nobody else goes there
  complete(sent->size() - 1, json_reply());  // the probe is served
  CAF_CHECK(sim::ready(probe));
  CAF_CHECK(cell->load_at(now).healthy);
}

CAF_TEST(fast_lane_failures_count_and_open_the_breaker_and_its_successes_end_the_run) {
  start(breaker(3));
  self->send(fwd, actors::failed_atom::value, std::string("status 502"));
  self->send(fwd, actors::failed_atom::value, std::string("timeout: no response"));
  sched.run();
  CAF_CHECK_EQUAL(health().consecutive_failures, 2u);
  CAF_CHECK_EQUAL(health().failed, 2u);
  CAF_CHECK_EQUAL(health().breaker, breaker_state::closed);
  cell->record_served(12);  // what the fast lane does with a served attempt
  CAF_CHECK_EQUAL(health().consecutive_failures, 0u);
  CAF_CHECK_EQUAL(health().served, 1u);
  CAF_CHECK_EQUAL(health().latency_ms, 12.0);
  for (int i = 0; i < 3; ++i)
    self->send(fwd, actors::failed_atom::value, std::string("connect_failed: refused"));
  sched.run();
  CAF_CHECK_EQUAL(health().breaker, breaker_state::open);
  CAF_CHECK_EQUAL(cell->breaker(), breaker_state::open);  // the fast lane stops choosing it
  CAF_CHECK_EQUAL(sent->size(), 0u);  // nothing of this went through the forwarder's client
}

CAF_TEST(a_busy_answer_is_backpressure_not_failure) {
  start(breaker(2));
  auto busy503 = reply(503, "application/json", R"({"error": {"code": "busy"}})");
  busy503.response.headers.emplace_back("Retry-After", "3");
  auto busy429 = reply(429, "text/plain", "slow down");  // no Retry-After: 1 s
  for (int i = 0; i < 5; ++i) {
    auto out = attempt(i % 2 ? busy429 : busy503);
    CAF_CHECK_EQUAL(out.status, forward_status::busy);
    CAF_CHECK_EQUAL(out.retry_after, i % 2 ? caf::timespan{1s} : caf::timespan{3s});
  }
  auto h = health();
  CAF_CHECK_EQUAL(h.busy, 5u);
  CAF_CHECK_EQUAL(h.failed, 0u);
  CAF_CHECK_EQUAL(h.consecutive_failures, 0u);
  CAF_CHECK_EQUAL(h.breaker, breaker_state::closed);  // 5 busy answers open nothing
  // Left alone for the longest wait asked, on the forwarder's clock.
  auto now = sched.clock().now().time_since_epoch();
  CAF_CHECK_EQUAL(h.busy_until, now + caf::timespan{3s});
  CAF_CHECK(!cell->usable_at(now));
  CAF_CHECK(cell->usable_at(now + caf::timespan{3s}));
  // A 503 without Retry-After is not a busy signal: unusable, as before.
  CAF_CHECK_EQUAL(attempt(reply(503, "text/html", "<h1>Service Unavailable</h1>")).status,
                  forward_status::unusable);
}

CAF_TEST(every_outcome_gives_the_request_body_back_for_a_retry) {
  start(breaker(1));
  const auto body = asr_request().body;
  // As the real client does: the result carries the request's body back.
  auto round_trip = [&](http::client_result r) {
    auto a = forward();
    auto i = sent->size() - 1;
    CAF_CHECK_EQUAL((*sent)[i].req.body, body);
    r.request_body = std::move((*sent)[i].req.body);
    complete(i, std::move(r));
    return value(a);
  };
  auto busy = reply(429, "text/plain", "slow down");
  auto served = round_trip(json_reply());
  CAF_CHECK_EQUAL(served.status, forward_status::served);
  CAF_CHECK_EQUAL(served.request_body, body);
  auto unusable = round_trip(reply(500, "text/html", "<h1>oops</h1>"));
  CAF_CHECK_EQUAL(unusable.status, forward_status::unusable);
  CAF_CHECK_EQUAL(unusable.request_body, body);
  auto busy_out = round_trip(busy);
  CAF_CHECK_EQUAL(busy_out.status, forward_status::busy);
  CAF_CHECK_EQUAL(busy_out.request_body, body);
  auto failed = round_trip(refused_connection());
  CAF_CHECK_EQUAL(failed.status, forward_status::failed);
  CAF_CHECK_EQUAL(failed.request_body, body);
  // The breaker is open now: refused without sending, the body handed straight back.
  auto before = sent->size();
  auto refused = value(forward());
  CAF_CHECK_EQUAL(refused.status, forward_status::refused);
  CAF_CHECK_EQUAL(sent->size(), before);
  CAF_CHECK_EQUAL(refused.request_body, body);
}

CAF_TEST(a_forwarder_that_ends_mid_attempt_cannot_give_the_body_back) {
  // The body is with the HTTP client then: the sender must not retry (request actor).
  start();
  auto a = forward();
  caf::anon_send_exit(pool, caf::exit_reason::user_shutdown);
  sched.run();
  auto out = value(a);
  CAF_CHECK_EQUAL(out.reason, "forwarder stopped");
  CAF_CHECK_EQUAL(out.request_body, "");
}

CAF_TEST(the_probe_request_is_built_from_a_moved_forward_request) {
  auto req = asr_request();
  const auto body = req.body;
  auto out = actors::make_backend_request(std::move(req));
  CAF_CHECK_EQUAL(out.body, body);
  CAF_CHECK_EQUAL(out.target, "/asr");
}

// -- late binding: reservations at another node's endpoint ---------------------------

CAF_TEST(a_reservation_is_posted_to_the_node_and_granted) {
  start();
  auto a = reserve();
  CAF_REQUIRE_EQUAL(sent->size(), 1u);
  const auto& out = (*sent)[0];
  CAF_CHECK_EQUAL(out.backend, backend);
  CAF_CHECK_EQUAL(out.req.method, "POST");
  CAF_CHECK_EQUAL(out.req.target, "/v1/reservations");
  CAF_CHECK_EQUAL(out.req.content_type, "application/json");
  CAF_CHECK_EQUAL(out.req.body,
                  R"({"backend":"any","id":"r1","service":"asr","timeout_ms":30000})");
  CAF_CHECK_EQUAL(header_of(out.req, "Via"), "1.1 sova-dc-0011223344556677");
  CAF_CHECK_EQUAL(out.req.timeout.count(), 35000);  // the owner answers first
  CAF_CHECK(!sim::ready(a));
  CAF_CHECK_EQUAL(health().in_flight, 0u);  // waiting in a queue loads no backend
  complete(0, granted());
  auto got = value(a);
  CAF_CHECK_EQUAL(got.status, reservation_status::granted);
  CAF_CHECK_EQUAL(got.reason, "");
  auto h = health();
  CAF_CHECK_EQUAL(h.peer, peer_kind::node);
  CAF_CHECK_EQUAL(h.served, 0u);  // a reservation serves nothing
  CAF_CHECK_EQUAL(h.latency_ms, 0.0);
  CAF_CHECK_EQUAL(h.in_flight, 0u);
}

CAF_TEST(a_grant_of_another_id_is_no_grant) {
  start();
  auto got = reserved(granted("r2"));
  CAF_CHECK_EQUAL(got.status, reservation_status::failed);
  CAF_CHECK_NOT_EQUAL(got.reason.find("r2"), std::string::npos);
  CAF_CHECK_EQUAL(health().peer, peer_kind::node);
  CAF_CHECK_EQUAL(health().failed, 0u);
}

CAF_TEST(a_full_owner_says_how_long_to_stay_away) {
  start(breaker(1));
  auto got = reserved(node_error(503, "full", {{"Retry-After", "7"}}));
  CAF_CHECK_EQUAL(got.status, reservation_status::full);
  CAF_CHECK_EQUAL(got.retry_after, caf::timespan{7s});
  CAF_CHECK_EQUAL(got.reason, "full: m");
  auto h = health();
  CAF_CHECK_EQUAL(h.peer, peer_kind::node);
  // Neither a failure nor a busy backend: the entry node places the job elsewhere.
  CAF_CHECK_EQUAL(h.failed, 0u);
  CAF_CHECK_EQUAL(h.busy, 0u);
  CAF_CHECK_EQUAL(h.breaker, breaker_state::closed);
  CAF_CHECK(cell->usable_at(sched.clock().now().time_since_epoch()));
}

CAF_TEST(an_owner_without_the_backend_or_out_of_time_says_so) {
  start();
  CAF_CHECK_EQUAL(reserved(node_error(503, "not_owner")).status, reservation_status::no_backend);
  CAF_CHECK_EQUAL(reserved(node_error(504, "deadline")).status, reservation_status::expired);
  CAF_CHECK_EQUAL(reserved(node_error(503, "draining")).status, reservation_status::failed);
  auto h = health();
  CAF_CHECK_EQUAL(h.peer, peer_kind::node);
  CAF_CHECK_EQUAL(h.failed, 0u);
}

CAF_TEST(a_plain_sova_server_is_not_a_node) {
  start(breaker(1));
  auto got = reserved(reply(404, "text/html; charset=utf-8",
                            "<!doctype html>\n<title>404 Not Found</title>\n<h1>Not Found</h1>"));
  CAF_CHECK_EQUAL(got.status, reservation_status::not_a_node);
  CAF_CHECK_NOT_EQUAL(got.reason.find("answered 404 (text/html"), std::string::npos);
  auto h = health();
  CAF_CHECK_EQUAL(h.peer, peer_kind::plain);  // requests send it jobs directly from now on
  CAF_CHECK_EQUAL(h.failed, 0u);
  CAF_CHECK_EQUAL(h.breaker, breaker_state::closed);
}

CAF_TEST(no_answer_to_a_reservation_counts_against_the_backend) {
  start(breaker(2, 5s));
  auto got = reserved(refused_connection());
  CAF_CHECK_EQUAL(got.status, reservation_status::failed);
  CAF_CHECK_EQUAL(got.reason, "connect_failed: connection refused");
  auto h = health();
  CAF_CHECK_EQUAL(h.failed, 1u);
  CAF_CHECK_EQUAL(h.consecutive_failures, 1u);
  CAF_CHECK_EQUAL(h.peer, peer_kind::unknown);  // nothing answered
  got = reserved(transport_error(http::client_errc::timeout, "no answer in 35000 ms"));
  CAF_CHECK_EQUAL(got.reason, "timeout: no answer in 35000 ms");
  CAF_CHECK_EQUAL(health().breaker, breaker_state::open);
  // Attempts are refused as after any two failures.
  CAF_CHECK_EQUAL(value(forward()).status, forward_status::refused);
}

CAF_TEST(an_open_breaker_or_its_probe_out_refuses_a_reservation_at_once) {
  start(breaker(2, 5s));
  fail(2);
  auto before = sent->size();
  auto a = reserve();
  auto got = value(a);  // answered without an exchange
  CAF_CHECK_EQUAL(got.status, reservation_status::failed);
  CAF_CHECK_EQUAL(got.reason, "circuit breaker open");
  CAF_CHECK_EQUAL(sent->size(), before);
  sched.advance_time(5s);
  sched.run();
  auto probe = forward();  // the half-open breaker's one attempt
  CAF_CHECK_EQUAL(sent->size(), before + 1);
  got = value(reserve());
  CAF_CHECK_EQUAL(got.status, reservation_status::failed);
  CAF_CHECK_EQUAL(got.reason, "circuit breaker half-open, its probe is in flight");
  CAF_CHECK_EQUAL(sent->size(), before + 1);
  CAF_CHECK_EQUAL(health().refused, 0u);  // attempts refused are counted; these were none
}

CAF_TEST(a_reservation_without_a_valid_id_is_never_sent) {
  start();
  for (const auto& id : std::vector<std::string>{"", "a b", std::string(65, 'x')}) {
    auto got = value(reserve(reservation(id)));
    CAF_CHECK_EQUAL(got.status, reservation_status::failed);
    CAF_CHECK_NOT_EQUAL(got.reason.find("is not a reservation id"), std::string::npos);
  }
  CAF_CHECK_EQUAL(sent->size(), 0u);
  CAF_CHECK_EQUAL(health().failed, 0u);
}

CAF_TEST(a_nodes_answer_closes_a_half_open_breaker_without_serving_anything) {
  start(breaker(2, 5s));
  sched.advance_time(40ms);
  auto a = forward();
  sched.advance_time(40ms);
  complete(0, json_reply());
  CAF_CHECK_EQUAL(value(a).status, forward_status::served);
  fail(2);
  sched.advance_time(5s);
  sched.run();
  CAF_REQUIRE_EQUAL(health().breaker, breaker_state::half_open);
  auto r = reserve();
  // It goes, but is not the probe: it may wait long, and attempts may still probe.
  CAF_CHECK_EQUAL(sent->size(), 4u);
  CAF_CHECK(!cell->read().probe_in_flight);
  complete(3, node_error(503, "not_owner"));
  CAF_CHECK_EQUAL(value(r).status, reservation_status::no_backend);
  auto h = health();
  CAF_CHECK_EQUAL(h.breaker, breaker_state::closed);
  CAF_CHECK_EQUAL(h.consecutive_failures, 0u);
  CAF_CHECK_EQUAL(h.served, 1u);
  CAF_CHECK_EQUAL(h.latency_ms, 40.0);
  CAF_CHECK_EQUAL(h.failed, 2u);
}

CAF_TEST(no_answer_in_a_half_open_breaker_opens_it_again) {
  start(breaker(2, 5s));
  fail(2);
  sched.advance_time(5s);
  sched.run();
  auto got = reserved(refused_connection());
  CAF_CHECK_EQUAL(got.status, reservation_status::failed);
  CAF_CHECK_EQUAL(health().breaker, breaker_state::open);
}

CAF_TEST(a_nodes_answer_ends_a_run_of_failures) {
  start(breaker(3));
  fail(2);
  CAF_CHECK_EQUAL(health().consecutive_failures, 2u);
  CAF_CHECK_EQUAL(reserved(node_error(504, "deadline")).status, reservation_status::expired);
  CAF_CHECK_EQUAL(health().consecutive_failures, 0u);
  fail(2);
  CAF_CHECK_EQUAL(health().breaker, breaker_state::closed);  // never three in a row
  // A plain server's 404 proves nothing of the kind.
  CAF_CHECK_EQUAL(reserved(reply(404, "text/html", "<h1>Not Found</h1>")).status,
                  reservation_status::not_a_node);
  CAF_CHECK_EQUAL(health().consecutive_failures, 2u);
}

CAF_TEST(a_cancel_sends_a_delete_of_the_id_and_counts_nothing) {
  start(breaker(1));
  self->send(fwd, actors::cancel_atom::value, std::string("r1"));
  sched.run();
  CAF_REQUIRE_EQUAL(sent->size(), 1u);
  const auto& out = (*sent)[0];
  CAF_CHECK_EQUAL(out.backend, backend);
  CAF_CHECK_EQUAL(out.req.method, "DELETE");
  CAF_CHECK_EQUAL(out.req.target, "/v1/reservations/r1");
  CAF_CHECK_EQUAL(out.req.body, "");
  CAF_CHECK_EQUAL(out.req.timeout.count(), 5000);
  complete(0, refused_connection());  // only logged
  auto h = health();
  CAF_CHECK_EQUAL(h.failed, 0u);
  CAF_CHECK_EQUAL(h.breaker, breaker_state::closed);
  CAF_CHECK_EQUAL(h.in_flight, 0u);
  // Something that is no id never reaches a path.
  self->send(fwd, actors::cancel_atom::value, std::string("../../asr"));
  sched.run();
  CAF_CHECK_EQUAL(sent->size(), 1u);
}

CAF_TEST(a_forwarder_that_ends_fails_its_waiting_reservations) {
  start();
  auto a = reserve();
  caf::anon_send_exit(pool, caf::exit_reason::user_shutdown);
  sched.run();
  auto got = value(a);
  CAF_CHECK_EQUAL(got.status, reservation_status::failed);
  CAF_CHECK_EQUAL(got.reason, "forwarder stopped");
  complete(0, granted());  // the late callback is harmless
}

CAF_TEST(the_job_of_a_granted_reservation_carries_its_id) {
  start();
  auto req = asr_request();
  req.reservation = "r1";
  forward(req);
  forward(asr_request());
  CAF_REQUIRE_EQUAL(sent->size(), 2u);
  CAF_CHECK_EQUAL(header_of((*sent)[0].req, "Sova-Reservation"), "r1");
  CAF_CHECK_EQUAL((*sent)[0].req.target, "/asr");
  CAF_CHECK_EQUAL(header_of((*sent)[1].req, "Sova-Reservation"), "<none>");
  // Built directly, as the owner's own forwarders and probes build it.
  req.via = "1.1 sova-dc-aa";
  auto out = actors::make_backend_request(req);
  CAF_CHECK_EQUAL(header_of(out, "Sova-Reservation"), "r1");
  CAF_CHECK_EQUAL(header_of(out, "Via"), "1.1 sova-dc-aa");
}

CAF_TEST_FIXTURE_SCOPE_END()
