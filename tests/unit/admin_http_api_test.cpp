// The admin port's protocol: what the node accepts as a command, what it refuses (web
// pages, rebound names, other media types, malformed calls), and how the console reads
// the node's replies.
#define CAF_SUITE admin_http_api
#include <caf/test/unit_test.hpp>

#include <variant>

#include <nlohmann/json.hpp>

#include "admin/http_api.hpp"

using namespace sova;
using namespace sova::admin;

namespace {

http::request command_request(std::string body, std::string host = "127.0.0.1:5700") {
  http::request r;
  r.method = "POST";
  r.target = std::string(command_path);
  r.headers = {{"Host", std::move(host)}, {"Content-Type", "application/json"}};
  r.body = std::move(body);
  return r;
}

/// The status of the reply that refuses `r`; 0 when `r` is a call.
unsigned refusal_status(const http::request& r) {
  auto out = read_call(r);
  auto* refused = std::get_if<http::response>(&out);
  return refused ? refused->status : 0;
}

std::string error_code(const http::response& r) {
  auto doc = nlohmann::json::parse(r.body);
  return doc["error"]["code"].get<std::string>();
}

}  // namespace

CAF_TEST(a_call_round_trips_through_its_body) {
  auto out = read_call(command_request(encode_call({"get", {"asr/cpu"}})));
  CAF_REQUIRE(std::holds_alternative<call>(out));
  auto c = std::get<call>(out);
  CAF_CHECK_EQUAL(c.command, "get");
  CAF_REQUIRE_EQUAL(c.args.size(), 1u);
  CAF_CHECK_EQUAL(c.args[0], "asr/cpu");
  // args may be left out; a charset parameter is fine.
  auto r = command_request(R"({"command": "info"})", "[::1]:5700");
  r.headers[1].second = "application/json; charset=utf-8";
  CAF_CHECK_EQUAL(refusal_status(r), 0u);
  CAF_CHECK_EQUAL(refusal_status(command_request(R"({"command": "info"})", "localhost:5700")), 0u);
}

CAF_TEST(the_hello_tells_a_console_it_reached_a_node) {
  http::request r;
  r.method = "GET";
  r.target = "/";
  auto out = read_call(r);
  CAF_REQUIRE(std::holds_alternative<http::response>(out));
  auto hello = std::get<http::response>(out);
  CAF_CHECK(is_hello(hello.status, hello.body));
  CAF_CHECK(!is_hello(200, R"({"services": {}})"));
  CAF_CHECK(!is_hello(404, hello.body));
}

CAF_TEST(requests_a_browser_could_send_are_refused) {
  auto from_page = command_request(R"({"command": "drain"})");
  from_page.headers.emplace_back("Origin", "http://example.org");
  CAF_CHECK_EQUAL(refusal_status(from_page), 403u);
  CAF_CHECK_EQUAL(refusal_status(command_request(R"({"command": "drain"})", "evil.example:5700")),
                  403u);
  CAF_CHECK_EQUAL(refusal_status(command_request(R"({"command": "drain"})", "")), 403u);
  auto form = command_request(R"({"command": "drain"})");
  form.headers[1].second = "text/plain";
  CAF_CHECK_EQUAL(refusal_status(form), 415u);
  auto no_type = command_request(R"({"command": "drain"})");
  no_type.headers.pop_back();
  CAF_CHECK_EQUAL(refusal_status(no_type), 415u);
}

CAF_TEST(other_paths_methods_and_malformed_calls_are_refused_clearly) {
  auto elsewhere = command_request("{}");
  elsewhere.target = "/status";
  CAF_CHECK_EQUAL(refusal_status(elsewhere), 404u);
  auto get = command_request("");
  get.method = "GET";
  CAF_CHECK_EQUAL(refusal_status(get), 405u);
  for (auto body : {"", "not json", "[]", R"({"args": []})", R"({"command": 7})",
                    R"({"command": "get", "args": "asr/cpu"})",
                    R"({"command": "get", "args": [1]})"}) {
    auto out = read_call(command_request(body));
    CAF_REQUIRE(std::holds_alternative<http::response>(out));
    CAF_CHECK_EQUAL(std::get<http::response>(out).status, 400u);
    CAF_CHECK_EQUAL(error_code(std::get<http::response>(out)), "bad_request");
  }
}

CAF_TEST(errors_carry_their_code_and_a_status_that_fits) {
  CAF_CHECK_EQUAL(error_response("bad_arguments", "x").status, 400u);
  CAF_CHECK_EQUAL(error_response("unknown_command", "x").status, 400u);
  CAF_CHECK_EQUAL(error_response("failed", "x").status, 500u);
  CAF_CHECK_EQUAL(error_response("unavailable", "x").status, 503u);
  CAF_CHECK_EQUAL(error_response("timeout", "x").status, 504u);
  auto e = error_response("bad_arguments", "bad KEY ''");
  auto back = read_reply(e.status, e.body);
  CAF_CHECK(!back.ok);
  CAF_CHECK_EQUAL(back.code, "bad_arguments");
  CAF_CHECK_EQUAL(back.message, "bad KEY ''");
}

CAF_TEST(the_console_reads_results_and_anything_else_clearly) {
  auto ok = read_reply(200, R"({"id": "ab"})");
  CAF_CHECK(ok.ok);
  CAF_CHECK_EQUAL(ok.result, R"({"id": "ab"})");
  auto garbled = read_reply(200, "<html>");
  CAF_CHECK(!garbled.ok);
  CAF_CHECK_EQUAL(garbled.code, "failed");
  auto stranger = read_reply(404, "<html>not found</html>");
  CAF_CHECK(!stranger.ok);
  CAF_CHECK_EQUAL(stranger.code, "connection");
  auto odd = read_reply(500, R"({"error": {"code": 5, "message": []}})");
  CAF_CHECK_EQUAL(odd.code, "connection");
}
