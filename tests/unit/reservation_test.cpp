// Late binding on the wire (http/reservation.hpp): ids, the reservation request as the
// entry node builds it and the owner reads it, the owner's answers as it builds them and
// the entry node reads them (and what a plain SOVA server or an older node answers), and
// the cancel's target. Pure functions: no sockets.
#define CAF_SUITE reservation
#include "caf/test/unit_test.hpp"

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "http/reservation.hpp"

using namespace sova;
using namespace sova::http;
using namespace std::chrono_literals;
using json = nlohmann::json;

namespace {

std::string header_of(const std::vector<std::pair<std::string, std::string>>& hs,
                      const std::string& name) {
  for (const auto& [n, v] : hs)
    if (n == name) return v;
  return "<none>";
}

/// The body of one of our JSON errors: its code, after checking the shape.
std::string error_code(const response& r) {
  CAF_CHECK_EQUAL(r.content_type, "application/json");
  auto body = json::parse(r.body, nullptr, false);
  CAF_REQUIRE(body.is_object());
  CAF_CHECK_EQUAL(body.value("response_code", -1), 1);
  CAF_CHECK(!body["error"].value("message", "").empty());
  return body["error"].value("code", "");
}

/// A refused reservation body: its status and code.
std::string refusal(std::string_view body) {
  response error;
  auto ask = parse_reservation_post(body, &error);
  if (ask) {
    CAF_ERROR("accepted: " << body);
    return "accepted";
  }
  return std::to_string(error.status) + " " + error_code(error);
}

reservation_ask sample_ask() {
  reservation_ask a;
  a.id = "0123456789abcdef";
  a.service = net::service::tts;
  a.wanted = net::wanted_kind::gpu;
  a.timeout = 45s;
  return a;
}

/// An exchange that ended with an HTTP answer.
client_result answered(unsigned status, std::string content_type, std::string body,
                       std::vector<std::pair<std::string, std::string>> extra = {}) {
  client_result r{true, client_errc::protocol, "", {}, {}};
  r.response.status = status;
  r.response.headers = {{"Content-Type", std::move(content_type)}};
  for (auto& h : extra) r.response.headers.push_back(std::move(h));
  r.response.body = std::move(body);
  return r;
}

/// What the entry node reads when the owner answered with `reply`.
reservation_reading read_back(const std::string& id, const response& reply) {
  return read_reservation_reply(id, answered(reply.status, reply.content_type, reply.body,
                                             reply.headers));
}

const std::string flask_404 =
    "<!doctype html>\n<html lang=en>\n<title>404 Not Found</title>\n<h1>Not Found</h1>\n"
    "<p>The requested URL was not found on the server.</p>\n";

}  // namespace

CAF_TEST(ids_are_1_to_64_safe_characters) {
  for (std::string id : {"a", "Z", "0", "_", "-", "0123456789abcdef", "res_01-AbZ"})
    CAF_CHECK(valid_reservation_id(id));
  CAF_CHECK(valid_reservation_id(std::string(64, 'x')));
  CAF_CHECK(!valid_reservation_id(std::string(65, 'x')));
  for (std::string id : std::vector<std::string>{"", " ", "a b", "a/b", "a.b", "a%41", "a?b",
                                                 "\xd0\xbf", "a\nb", std::string("a\0b", 3)})
    CAF_CHECK(!valid_reservation_id(id));
}

CAF_TEST(fresh_ids_are_the_16_hex_digits_of_the_random_value) {
  CAF_CHECK_EQUAL(make_reservation_id(0), "0000000000000000");
  CAF_CHECK_EQUAL(make_reservation_id(0x0123456789abcdefULL), "0123456789abcdef");
  CAF_CHECK_EQUAL(make_reservation_id(UINT64_MAX), "ffffffffffffffff");
  CAF_CHECK_EQUAL(make_reservation_id(42), "000000000000002a");
  CAF_CHECK(valid_reservation_id(make_reservation_id(0xfeedfacecafebeefULL)));
}

CAF_TEST(the_entry_node_posts_the_reservation_as_json) {
  auto req = reservation_post(sample_ask(), "1.1 sova-dc-00112233aabbccdd");
  CAF_CHECK_EQUAL(req.method, "POST");
  CAF_CHECK_EQUAL(req.target, "/v1/reservations");
  CAF_CHECK_EQUAL(req.content_type, "application/json");
  CAF_CHECK_EQUAL(header_of(req.headers, "Via"), "1.1 sova-dc-00112233aabbccdd");
  CAF_CHECK(!req.follow_redirect);
  CAF_CHECK_EQUAL(req.timeout.count(), 50000);  // the owner's 45 s and the margin
  auto body = json::parse(req.body);
  CAF_CHECK_EQUAL(body, (json{{"id", "0123456789abcdef"}, {"service", "tts"}, {"backend", "gpu"},
                              {"timeout_ms", 45000}}));
  CAF_CHECK_EQUAL(header_of(reservation_post(sample_ask(), "").headers, "Via"), "<none>");
}

CAF_TEST(the_owner_reads_back_what_the_entry_node_sent) {
  for (auto s : {net::service::asr, net::service::tts})
    for (auto w : {net::wanted_kind::cpu, net::wanted_kind::gpu, net::wanted_kind::any})
      for (auto t : {1ms, 60000ms, 600000ms}) {
        auto ask = sample_ask();
        ask.service = s;
        ask.wanted = w;
        ask.timeout = t;
        response error;
        auto got = parse_reservation_post(reservation_post(ask, "").body, &error);
        CAF_REQUIRE(got.has_value());
        CAF_CHECK_EQUAL(got->id, ask.id);
        CAF_CHECK(got->service == s);
        CAF_CHECK(got->wanted == w);
        CAF_CHECK_EQUAL(got->timeout.count(), t.count());
      }
  // Members it does not know are left for later versions.
  CAF_CHECK(parse_reservation_post(
      R"({"id": "x", "service": "asr", "backend": "any", "timeout_ms": 5, "priority": 3})", nullptr));
}

CAF_TEST(bad_reservation_bodies_are_refused_saying_why) {
  CAF_CHECK_EQUAL(refusal(""), "400 bad_json");
  CAF_CHECK_EQUAL(refusal("nope"), "400 bad_json");
  CAF_CHECK_EQUAL(refusal("[1, 2]"), "400 bad_json");
  CAF_CHECK_EQUAL(refusal(R"("id")"), "400 bad_json");
  CAF_CHECK_EQUAL(refusal(R"({"id": "x", "service": "asr", "backend": "any", "timeout_ms": 5)"),
                  "400 bad_json");
  // A NUL would end nlohmann's reading early: what follows must not go unread.
  CAF_CHECK_EQUAL(
      refusal(std::string(R"({"id": "x", "service": "asr", "backend": "any", "timeout_ms": 5})") +
              std::string("\0garbage", 8)),
      "400 bad_json");
  CAF_CHECK_EQUAL(refusal(std::string(max_reservation_body + 1, ' ')), "413 too_large");
  const json good{{"id", "abc"}, {"service", "asr"}, {"backend", "cpu"}, {"timeout_ms", 1000}};
  for (auto field : {"id", "service", "backend", "timeout_ms"}) {
    auto j = good;
    j.erase(field);
    CAF_CHECK_EQUAL(refusal(j.dump()), "400 bad_request");
  }
  struct bad {
    const char* field;
    json value;
    const char* mentioned;
  };
  std::vector<bad> bads{
      {"id", "", "\"id\""},
      {"id", "a b", "\"id\""},
      {"id", std::string(65, 'a'), "\"id\""},
      {"id", 42, "\"id\""},
      {"service", "stt", "asr, tts"},
      {"service", "ASR", "asr, tts"},
      {"service", nullptr, "\"service\""},
      {"backend", "tpu", "cpu, gpu, any"},
      {"backend", json::array(), "\"backend\""},
      {"timeout_ms", 0, "1 to 600000"},
      {"timeout_ms", -5, "1 to 600000"},
      {"timeout_ms", 600001, "1 to 600000"},
      {"timeout_ms", 1.5, "1 to 600000"},
      {"timeout_ms", 1000.0, "1 to 600000"},
      {"timeout_ms", "1000", "1 to 600000"},
      {"timeout_ms", UINT64_MAX, "1 to 600000"},
      {"timeout_ms", true, "1 to 600000"},
  };
  for (const auto& b : bads) {
    auto j = good;
    j[b.field] = b.value;
    response error;
    CAF_CHECK(!parse_reservation_post(j.dump(), &error));
    CAF_CHECK_EQUAL(error.status, 400u);
    CAF_CHECK_EQUAL(error_code(error), "bad_request");
    auto message = json::parse(error.body)["error"].value("message", "");
    if (message.find(b.mentioned) == std::string::npos)
      CAF_ERROR(j.dump() << ": '" << message << "' does not mention " << b.mentioned);
  }
  // JSON's exponent form is a float too, even when whole.
  CAF_CHECK_EQUAL(refusal(R"({"id": "x", "service": "asr", "backend": "any", "timeout_ms": 1e3})"),
                  "400 bad_request");
}

CAF_TEST(a_grant_is_200_with_the_id) {
  auto r = reservation_reply("abc-1", reservation_status::granted, 0s, "");
  CAF_CHECK_EQUAL(r.status, 200u);
  CAF_CHECK_EQUAL(r.content_type, "application/json");
  CAF_CHECK_EQUAL(json::parse(r.body), (json{{"reservation", "abc-1"}, {"status", "granted"}}));
  auto back = read_back("abc-1", r);
  CAF_CHECK_EQUAL(to_string(back.status), "granted");
  CAF_CHECK(back.answered && back.from_a_node);
  // A grant of another id is no grant of ours.
  back = read_back("abc-2", r);
  CAF_CHECK_EQUAL(to_string(back.status), "failed");
  CAF_CHECK(back.from_a_node);
  CAF_CHECK_NOT_EQUAL(back.reason.find("abc-1"), std::string::npos);
}

CAF_TEST(a_full_queue_is_503_full_with_retry_after_rounded_up) {
  struct wait {
    std::chrono::nanoseconds estimate;
    const char* header;
  };
  for (auto w : {wait{0ns, "1"}, wait{1ns, "1"}, wait{1s, "1"}, wait{1500ms, "2"},
                 wait{3s, "3"}, wait{-2s, "1"}}) {
    auto r = reservation_reply("x", reservation_status::full, w.estimate, "queue of tts full");
    CAF_CHECK_EQUAL(r.status, 503u);
    CAF_CHECK_EQUAL(error_code(r), "full");
    CAF_CHECK_EQUAL(header_of(r.headers, "Retry-After"), w.header);
    auto back = read_back("x", r);
    CAF_CHECK_EQUAL(to_string(back.status), "full");
    CAF_CHECK_EQUAL(back.retry_after.count(), std::stol(w.header) * 1000);
    CAF_CHECK_NOT_EQUAL(back.reason.find("queue of tts full"), std::string::npos);
    CAF_CHECK(back.from_a_node);
  }
  // Without a readable Retry-After the entry node waits 1 s; never more than 10 min.
  auto full = reservation_reply("x", reservation_status::full, 2s, "");
  full.headers.clear();
  CAF_CHECK_EQUAL(read_back("x", full).retry_after.count(), 1000);
  full.headers = {{"Retry-After", "Wed, 21 Oct 2026 07:28:00 GMT"}};
  CAF_CHECK_EQUAL(read_back("x", full).retry_after.count(), 1000);
  full.headers = {{"Retry-After", " 86400 "}};
  CAF_CHECK_EQUAL(read_back("x", full).retry_after.count(), 600000);
}

CAF_TEST(no_backend_expired_and_failure_have_their_statuses) {
  auto r = reservation_reply("x", reservation_status::no_backend, 0s, "");
  CAF_CHECK_EQUAL(r.status, 503u);
  CAF_CHECK_EQUAL(error_code(r), "not_owner");
  CAF_CHECK_EQUAL(header_of(r.headers, "Retry-After"), "<none>");  // try another owner now
  CAF_CHECK_EQUAL(to_string(read_back("x", r).status), "no_backend");
  r = reservation_reply("x", reservation_status::expired, 0s, "waited 60 s");
  CAF_CHECK_EQUAL(r.status, 504u);
  CAF_CHECK_EQUAL(error_code(r), "deadline");
  CAF_CHECK_EQUAL(json::parse(r.body)["error"].value("message", ""), "waited 60 s");
  CAF_CHECK_EQUAL(to_string(read_back("x", r).status), "expired");
  // Cancelled: a normal end (not a 5xx in the owner's log); read back, it is no grant.
  r = reservation_reply("x", reservation_status::cancelled, 0s, "");
  CAF_CHECK_EQUAL(r.status, 409u);
  CAF_CHECK_EQUAL(error_code(r), "cancelled");
  CAF_CHECK_EQUAL(to_string(read_back("x", r).status), "failed");
  r = reservation_reply("x", reservation_status::failed, 0s, "id already here");
  CAF_CHECK_EQUAL(r.status, 500u);
  CAF_CHECK_EQUAL(error_code(r), "internal");
  auto back = read_back("x", r);
  CAF_CHECK_EQUAL(to_string(back.status), "failed");
  CAF_CHECK(back.from_a_node);
  CAF_CHECK_NOT_EQUAL(back.reason.find("id already here"), std::string::npos);
  // The node's other code for "nothing of that kind here" reads the same.
  auto no_backend = error_response(503, "no_backend", "no tts backend is known");
  CAF_CHECK_EQUAL(to_string(read_back("x", no_backend).status), "no_backend");
}

CAF_TEST(a_nodes_other_errors_are_failures_from_a_node) {
  for (const auto& r : {error_response(503, "draining", "this node is draining"),
                        error_response(400, "bad_request", "bad id"),
                        error_response(413, "too_large", "body"),
                        error_response(508, "loop", "loop"),
                        error_response(503, "busy", "budget")}) {
    auto back = read_back("x", r);
    CAF_CHECK_EQUAL(to_string(back.status), "failed");
    CAF_CHECK(back.answered && back.from_a_node);
    CAF_CHECK_NOT_EQUAL(back.reason.find(std::to_string(r.status)), std::string::npos);
  }
}

CAF_TEST(what_is_not_a_node_says_so) {
  struct answer {
    client_result result;
    const char* shown;
  };
  std::vector<answer> answers{
      // A real SOVA server (Flask) has no such route.
      {answered(404, "text/html; charset=utf-8", flask_404), "answered 404 (text/html"},
      {answered(405, "text/html; charset=utf-8", "<title>405 Method Not Allowed</title>"),
       "answered 405"},
      // An older node: /v1/ is OpenAI's there, and so is its 404.
      {answered(404, "application/json",
                R"({"error": {"message": "no such path", "type": "invalid_request_error", "param": null, "code": "not_found"}})"),
       "answered 404 (application/json)"},
      // Our shape, but a path the node does not serve.
      {answered(404, "application/json", error_response(404, "not_found", "no").body), "answered 404"},
      {answered(503, "text/html", "<h1>Service Unavailable</h1>"), "answered 503 (text/html)"},
      {answered(500, "text/html", "<h1>Internal Server Error</h1>"), "answered 500"},
      {answered(504, "text/html", "gateway timeout"), "answered 504"},
      {answered(200, "application/json", R"({"r": []})"), "answered 200"},
      {answered(200, "text/plain", ""), "with no body"},
      {answered(503, "application/json", R"({"error": {"code": "full"}})"), "answered 503"},
  };
  for (const auto& a : answers) {
    auto back = read_reservation_reply("x", a.result);
    CAF_MESSAGE(back.reason);
    CAF_CHECK_EQUAL(to_string(back.status), "not_a_node");
    CAF_CHECK(back.answered);
    CAF_CHECK(!back.from_a_node);
    CAF_CHECK_NOT_EQUAL(back.reason.find(a.shown), std::string::npos);
  }
  // A page of megabytes is not parsed, only named.
  auto big = read_reservation_reply("x", answered(200, "text/html", std::string(1 << 20, '[')));
  CAF_CHECK_EQUAL(to_string(big.status), "not_a_node");
  CAF_CHECK_LESS(big.reason.size(), 200u);
}

CAF_TEST(transport_failures_are_failures_without_an_answer) {
  client_result r{false, client_errc::timeout, "no answer in 65000 ms", {}, {}};
  auto back = read_reservation_reply("x", r);
  CAF_CHECK_EQUAL(to_string(back.status), "failed");
  CAF_CHECK(!back.answered);
  CAF_CHECK(!back.from_a_node);
  CAF_CHECK_EQUAL(back.reason, "timeout: no answer in 65000 ms");
}

CAF_TEST(a_cancel_is_a_delete_of_the_reservations_path) {
  CAF_CHECK_EQUAL(reservation_target("abc_1"), "/v1/reservations/abc_1");
  auto req = reservation_delete("abc_1");
  CAF_CHECK_EQUAL(req.method, "DELETE");
  CAF_CHECK_EQUAL(req.target, "/v1/reservations/abc_1");
  CAF_CHECK_EQUAL(req.body, "");
  CAF_CHECK_EQUAL(req.content_type, "");
  CAF_CHECK_EQUAL(req.timeout.count(), 5000);
  CAF_CHECK(!req.follow_redirect);
}

CAF_TEST(the_owner_reads_the_id_out_of_the_target) {
  CAF_CHECK_EQUAL(reservation_id_of("/v1/reservations/abc_1").value_or("-"), "abc_1");
  CAF_CHECK_EQUAL(reservation_id_of("/v1/reservations/abc_1?x=1").value_or("-"), "abc_1");
  CAF_CHECK_EQUAL(reservation_id_of(reservation_target(make_reservation_id(7))).value_or("-"),
                  "0000000000000007");
  for (auto t : {"/v1/reservations", "/v1/reservations/", "/v1/reservations/a/b",
                 "/v1/reservations/a%20b", "/v1/reservationsabc", "/v1/models", "/reservations/a",
                 "/v1/reservations/a.b"})
    CAF_CHECK(!reservation_id_of(t));
  CAF_CHECK(!reservation_id_of("/v1/reservations/" + std::string(65, 'a')));
}

CAF_TEST(reservation_paths_are_the_collection_and_what_is_under_it) {
  for (auto t : {"/v1/reservations", "/v1/reservations?x", "/v1/reservations/", "/v1/reservations/x",
                 "/v1/reservations/a/b"})
    CAF_CHECK(is_reservation_path(t));
  for (auto t : {"/v1/reservationsx", "/v1/models", "/v1/", "/reservations", "/v1/reservation",
                 "/v1/audio/speech?/v1/reservations"})
    CAF_CHECK(!is_reservation_path(t));
}
