// The node's HTTP front end on the reservation routes (late binding between nodes), over
// real loopback HTTP, on a node without an owner (no --services): what it answers by
// itself, in the node's error shape though under /v1/, and how an entry node reads that
// (http/reservation.hpp). What an owner answers through it is tested with the owner actor.
#define CAF_SUITE http_frontend
#include <caf/test/unit_test.hpp>

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/scoped_actor.hpp>
#include <nlohmann/json.hpp>

#include "actors/http_frontend.hpp"
#include "http/client.hpp"
#include "http/reservation.hpp"

using namespace sova;
using json = nlohmann::json;

namespace {

using headers = std::vector<std::pair<std::string, std::string>>;

struct fixture {
  caf::actor_system_config cfg;
  caf::actor_system sys{cfg};
  std::shared_ptr<http::client> client = http::client::create(http::client::options{});
  std::unique_ptr<actors::http_frontend> frontend;

  fixture() {
    actors::node_handles src;
    src.node_id = std::string(40, 'a');
    frontend = actors::http_frontend::start(sys, "127.0.0.1", 0, http::server_limits{},
                                            actors::request_config{}, src);
  }

  ~fixture() {
    frontend->stop();
    client->stop();
  }

  http::client_result call(const std::string& method, const std::string& target,
                           std::string body = {}, headers hs = {},
                           std::string content_type = "application/json") {
    http::client_request r;
    r.method = method;
    r.target = target;
    r.headers = std::move(hs);
    if (!body.empty()) r.content_type = std::move(content_type);
    r.body = std::move(body);
    r.follow_redirect = false;
    auto res = http::send_and_wait(*client, "127.0.0.1", frontend->port(), std::move(r));
    CAF_REQUIRE(res.ok);
    return res;
  }

  actors::http_counters counters() {
    caf::scoped_actor self{sys};
    actors::http_counters out;
    self->request(frontend->actor(), caf::infinite, actors::stats_atom::value)
        .receive([&](actors::http_counters& c) { out = c; },
                 [&](caf::error& e) { CAF_FAIL("stats: " << sys.render(e)); });
    return out;
  }
};

/// The code of the node's JSON error `r` carries, after checking it is that shape (and
/// not OpenAI's, which /v1/ has elsewhere).
std::string node_error_code(const http::client_result& r) {
  auto body = json::parse(r.response.body, nullptr, false);
  CAF_REQUIRE(body.is_object());
  CAF_CHECK_EQUAL(body.value("response_code", -1), 1);
  CAF_CHECK(!r.response.header("X-Request-Id").empty());
  return body["error"].value("code", "");
}

const std::string good_reservation =
    R"({"id": "0123456789abcdef", "service": "tts", "backend": "any", "timeout_ms": 30000})";

}  // namespace

CAF_TEST_FIXTURE_SCOPE(http_frontend_tests, fixture)

CAF_TEST(a_node_without_an_owner_takes_no_reservations) {
  auto r = call("POST", "/v1/reservations", good_reservation);
  CAF_CHECK_EQUAL(r.response.status, 503u);
  CAF_CHECK_EQUAL(node_error_code(r), "not_owner");
  CAF_CHECK_EQUAL(r.response.header("Retry-After"), "");  // try another owner now
  // What the entry node makes of it: that owner has no backend for it.
  auto read = http::read_reservation_reply("0123456789abcdef", r);
  CAF_CHECK_EQUAL(to_string(read.status), "no_backend");
  CAF_CHECK(read.from_a_node);
  r = call("DELETE", "/v1/reservations/0123456789abcdef");
  CAF_CHECK_EQUAL(r.response.status, 503u);
  CAF_CHECK_EQUAL(node_error_code(r), "not_owner");
}

CAF_TEST(bad_reservations_are_refused_in_the_nodes_shape) {
  auto r = call("POST", "/v1/reservations", R"({"id": "x", "service": "stt"})");
  CAF_CHECK_EQUAL(r.response.status, 400u);
  CAF_CHECK_EQUAL(node_error_code(r), "bad_request");
  r = call("POST", "/v1/reservations", "not json");
  CAF_CHECK_EQUAL(r.response.status, 400u);
  CAF_CHECK_EQUAL(node_error_code(r), "bad_json");
  r = call("DELETE", "/v1/reservations/a.b");
  CAF_CHECK_EQUAL(r.response.status, 400u);
  CAF_CHECK_EQUAL(node_error_code(r), "bad_request");
  r = call("GET", "/v1/reservations");
  CAF_CHECK_EQUAL(r.response.status, 405u);
  CAF_CHECK_EQUAL(r.response.header("Allow"), "POST");
  CAF_CHECK_EQUAL(node_error_code(r), "method_not_allowed");
  r = call("POST", "/v1/reservations/0123456789abcdef", good_reservation);
  CAF_CHECK_EQUAL(r.response.status, 405u);
  CAF_CHECK_EQUAL(r.response.header("Allow"), "DELETE");
  // The rest of /v1/ stays OpenAI's.
  r = call("GET", "/v1/nope");
  CAF_CHECK_EQUAL(r.response.status, 404u);
  auto body = json::parse(r.response.body);
  CAF_CHECK(!body.contains("response_code"));
  CAF_CHECK_EQUAL(body["error"].value("type", ""), "invalid_request_error");
  auto c = counters();
  CAF_CHECK_EQUAL(c.requests, 6u);
  CAF_CHECK_EQUAL(c.rejected, 6u);  // all answered 4xx by the node itself
  CAF_CHECK_EQUAL(c.in_flight, 0u);
}

CAF_TEST(a_job_with_a_bad_reservation_id_is_refused) {
  auto r = call("POST", "/synthesize", R"({"text": "hi", "voice": "Natasha"})",
                {{"Sova-Reservation", "not an id"}});
  CAF_CHECK_EQUAL(r.response.status, 400u);
  CAF_CHECK_EQUAL(node_error_code(r), "bad_request");
  auto message = json::parse(r.response.body)["error"].value("message", "");
  CAF_CHECK_NOT_EQUAL(message.find("Sova-Reservation 'not an id'"), std::string::npos);
  auto c = counters();
  CAF_CHECK_EQUAL(c.rejected, 1u);
  CAF_CHECK_EQUAL(c.in_flight, 0u);  // no request actor was started
}

CAF_TEST_FIXTURE_SCOPE_END()
