// The node's log lines (serving/logging) and request ids (http/request_id): the JSON
// formatter writes one parseable object per line whatever the message holds, the
// request logger's fields become members, the text line says what happened; a client's
// X-Request-Id is kept only when it is safe to log and echo.
#define CAF_SUITE request_log
#include "caf/test/unit_test.hpp"

#include <set>
#include <sstream>

#include <nlohmann/json.hpp>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include "http/request_id.hpp"
#include "serving/logging.hpp"

using namespace sova;
using json = nlohmann::json;

namespace {

/// The lines `log` writes through a logger named `name` with the JSON formatter.
std::vector<std::string> json_lines(const std::string& name,
                                    const std::function<void(spdlog::logger&)>& log) {
  std::ostringstream out;
  auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(out);
  spdlog::logger logger(name, sink);
  logger.set_formatter(serving::make_json_formatter());
  logger.set_level(spdlog::level::trace);
  log(logger);
  std::vector<std::string> lines;
  std::istringstream in(out.str());
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

serving::request_log_entry served_entry() {
  serving::request_log_entry e;
  e.id = "abc-1";
  e.method = "POST";
  e.target = "/synthesize?backend=cpu";
  e.remote = "127.0.0.1:5123";
  e.service = "tts";
  e.status = 200;
  e.attempts = 2;
  e.backends = {"tts/cpu/10.0.0.5:8899", "tts/cpu/10.0.0.6:8899"};
  e.seconds = 0.01234;
  e.bytes_in = 40;
  e.bytes_out = 9000;
  return e;
}

}  // namespace

CAF_TEST(json_lines_parse_whatever_the_message_holds) {
  auto lines = json_lines("sova-dc", [](spdlog::logger& l) {
    l.info("plain");
    l.warn("quotes \" and \\ and\nnewline\ttab");
    l.error(std::string("bytes \xff\xfe not utf-8"));
  });
  CAF_REQUIRE_EQUAL(lines.size(), 3u);
  std::vector<std::string> levels;
  for (const auto& line : lines) {
    auto j = json::parse(line, nullptr, false);
    CAF_REQUIRE(!j.is_discarded());
    CAF_CHECK_EQUAL(j.size(), 3u);
    auto time = j.value("time", "");
    // 2026-11-24T10:00:00.123Z
    CAF_CHECK_EQUAL(time.size(), 24u);
    CAF_CHECK_EQUAL(time[10], 'T');
    CAF_CHECK_EQUAL(time.back(), 'Z');
    levels.push_back(j.value("level", ""));
  }
  CAF_CHECK_EQUAL(levels, (std::vector<std::string>{"info", "warning", "error"}));
  CAF_CHECK(json::parse(lines[0])["msg"] == "plain");
  CAF_CHECK(json::parse(lines[1])["msg"] == "quotes \" and \\ and\nnewline\ttab");
  CAF_CHECK(json::parse(lines[2])["msg"].get<std::string>().find("not utf-8") !=
            std::string::npos);
}

CAF_TEST(request_lines_carry_their_fields_as_members) {
  auto e = served_entry();
  auto fields = json::parse(serving::request_log_json(e));
  CAF_CHECK(fields["request_id"] == "abc-1");
  CAF_CHECK(fields["method"] == "POST");
  CAF_CHECK(fields["path"] == "/synthesize?backend=cpu");
  CAF_CHECK(fields["remote"] == "127.0.0.1:5123");
  CAF_CHECK(fields["service"] == "tts");
  CAF_CHECK(fields["status"] == 200);
  CAF_CHECK(fields["error"] == "");
  CAF_CHECK(fields["attempts"] == 2);
  CAF_CHECK(fields["backends"] == json(e.backends));
  CAF_CHECK(fields["duration_ms"] == 12.3);
  CAF_CHECK(fields["bytes_in"] == 40);
  CAF_CHECK(fields["bytes_out"] == 9000);
  auto lines = json_lines("request", [&](spdlog::logger& l) { l.info(serving::request_log_json(e)); });
  CAF_REQUIRE_EQUAL(lines.size(), 1u);
  auto j = json::parse(lines[0], nullptr, false);
  CAF_REQUIRE(!j.is_discarded());
  CAF_CHECK(j["msg"] == "request");
  CAF_CHECK(j["level"] == "info");
  CAF_CHECK(j["request_id"] == "abc-1");
  CAF_CHECK(j["status"] == 200);
  // Another logger's message that looks like JSON stays a message.
  auto other = json_lines("sova-dc", [](spdlog::logger& l) { l.info(R"({"status": 1})"); });
  CAF_CHECK(json::parse(other.at(0))["msg"] == R"({"status": 1})");
}

CAF_TEST(text_lines_say_what_happened) {
  auto e = served_entry();
  CAF_CHECK_EQUAL(serving::request_log_text(e),
                  "request abc-1 POST /synthesize?backend=cpu from 127.0.0.1:5123: 200 via "
                  "tts/cpu/10.0.0.5:8899,tts/cpu/10.0.0.6:8899 in 12.3 ms, 2 attempts");
  e.status = 503;
  e.error_code = "no_backend";
  e.attempts = 0;
  e.backends.clear();
  CAF_CHECK_EQUAL(serving::request_log_text(e),
                  "request abc-1 POST /synthesize?backend=cpu from 127.0.0.1:5123: 503 "
                  "no_backend in 12.3 ms, 0 attempts");
  e.service = "healthz";
  e.method = "GET";
  e.target = "/healthz";
  e.status = 200;
  e.error_code.clear();
  CAF_CHECK_EQUAL(serving::request_log_text(e),
                  "request abc-1 GET /healthz from 127.0.0.1:5123: 200 in 12.3 ms");
}

CAF_TEST(a_safe_client_request_id_is_kept) {
  for (const std::string& id : std::vector<std::string>{"abc-123", "f81d4fae-7dec-11d0-a765-00a0c91e6bf6", "trace:1/2+3=4@x_y.z",
                         std::string(128, 'a')})
    CAF_CHECK_EQUAL(http::accept_or_make_request_id(id), id);
}

CAF_TEST(an_unsafe_or_missing_request_id_is_replaced_by_a_new_one) {
  std::set<std::string> made;
  for (const std::string& id : std::vector<std::string>{"", "has space", "quote\"", "new\nline", "caf\xc3\xa9", "semi;colon",
                         std::string(129, 'a')}) {
    auto got = http::accept_or_make_request_id(id);
    CAF_CHECK_NOT_EQUAL(got, id);
    CAF_CHECK_EQUAL(got.size(), 32u);
    CAF_CHECK_EQUAL(got.find_first_not_of("0123456789abcdef"), std::string::npos);
    made.insert(got);
  }
  for (int i = 0; i < 1000; ++i) made.insert(http::accept_or_make_request_id(""));
  CAF_CHECK_EQUAL(made.size(), 1007u);  // none repeats
}
