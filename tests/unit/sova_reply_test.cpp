#define CAF_SUITE sova_reply
#include <caf/test/unit_test.hpp>

#include "http/backend_reply.hpp"
#include "http/sova_reply.hpp"

using namespace sova::http;
using nlohmann::json;

namespace {

client_response reply(unsigned status, std::string body) {
  client_response r;
  r.status = status;
  r.body = std::move(body);
  return r;
}

}  // namespace

CAF_TEST(interpret_reply_tells_success_from_each_kind_of_failure) {
  auto ok = interpret_reply(reply(200, R"({"response_code":0,"response":[]})"));
  CAF_CHECK(ok.failure.empty());
  CAF_CHECK(ok.is_json);
  auto ours = interpret_reply(reply(
      503, R"({"response_code":1,"error":{"code":"no_backend","message":"no tts backend"}})"));
  CAF_CHECK_EQUAL(ours.failure, "HTTP 503: no_backend: no tts backend");
  auto original = interpret_reply(reply(200, R"({"response_code":1,"response":"unknown voice"})"));
  CAF_CHECK_EQUAL(original.failure, "the service failed: unknown voice");
  auto garbage = interpret_reply(reply(200, "<html>\nnope</html>"));
  CAF_CHECK_EQUAL(garbage.failure, "the reply is not a JSON object: <html> nope</html>");
  auto plain_500 = interpret_reply(reply(500, "boom"));
  CAF_CHECK_EQUAL(plain_500.failure, "HTTP 500: boom");
  // An ASR reply has no top-level response_code: a success.
  CAF_CHECK(interpret_reply(reply(200, R"({"r":[]})")).failure.empty());
}

CAF_TEST(asr_texts_reads_each_recording) {
  auto body = json::parse(R"({"r":[
    {"response_code":0,"response":[{"text":"hello"},{"text":""},{"text":"world"}]},
    {"response_code":1,"response":"not a readable audio file"}]})");
  auto texts = asr_texts(body, 2);
  CAF_REQUIRE_EQUAL(texts.size(), 2u);
  CAF_CHECK_EQUAL(texts[0].text, "hello world");
  CAF_CHECK(texts[0].failure.empty());
  CAF_CHECK_EQUAL(texts[1].failure, "the service failed: not a readable audio file");
  auto wrong_count = asr_texts(body, 3);
  CAF_REQUIRE_EQUAL(wrong_count.size(), 1u);
  CAF_CHECK_NOT_EQUAL(wrong_count[0].failure.find("expected \"r\" to list 3"), std::string::npos);
  auto no_text = asr_texts(json::parse(R"({"r":[{"response_code":0,"response":[{"t":1}]}]})"), 1);
  CAF_CHECK_NOT_EQUAL(no_text[0].failure.find("without \"text\""), std::string::npos);
}

CAF_TEST(tts_audio_of_decodes_the_wav) {
  auto ok = tts_audio_of(json::parse(
      R"({"response_code":0,"response":[{"response_audio":"UklGRg==","sample_rate":22050,"duration_s":1.5}]})"));
  CAF_CHECK(ok.failure.empty());
  CAF_CHECK_EQUAL(ok.bytes, "RIFF");
  CAF_CHECK_EQUAL(ok.sample_rate.value_or(0), 22050);
  CAF_CHECK_EQUAL(ok.duration_s.value_or(0), 1.5);
  auto bad = tts_audio_of(json::parse(R"({"response":[{"response_audio":"not base64!"}]})"));
  CAF_CHECK_NOT_EQUAL(bad.failure.find("not base64"), std::string::npos);
  auto missing = tts_audio_of(json::parse(R"({"response":"oops"})"));
  CAF_CHECK_NOT_EQUAL(missing.failure.find("no \"response\" list"), std::string::npos);
}

// -- backpressure: which answers mean "busy, come back later" -------------------------

CAF_TEST(busy_answers_and_how_long_they_ask_to_wait) {
  using sova::http::busy_reply;
  using std::chrono::milliseconds;
  CAF_CHECK(!busy_reply(200, ""));
  CAF_CHECK(!busy_reply(500, "5"));
  CAF_CHECK(!busy_reply(503, ""));  // a plain 503: broken or busy, nobody knows
  CAF_CHECK(busy_reply(503, "7") == milliseconds(7000));
  CAF_CHECK(busy_reply(503, " 2 ") == milliseconds(2000));
  CAF_CHECK(busy_reply(429, "") == milliseconds(1000));
  CAF_CHECK(busy_reply(429, "0") == milliseconds(0));
  // An HTTP date, junk or a huge number: one second, or the cap.
  CAF_CHECK(busy_reply(503, "Wed, 21 Oct 2015 07:28:00 GMT") == milliseconds(1000));
  CAF_CHECK(busy_reply(503, "-5") == milliseconds(1000));
  CAF_CHECK(busy_reply(503, "999999999") == milliseconds(60000));
  CAF_CHECK(busy_reply(503, "99999999999999999999") == milliseconds(1000));
  CAF_CHECK(busy_reply(503, "120", milliseconds(5000)) == milliseconds(5000));
}

// -- capacity: what a reference backend's Sova-Workers header tells -------------------

CAF_TEST(the_workers_a_backend_tells_in_its_header) {
  CAF_CHECK(told_workers("4", 64) == 4u);
  CAF_CHECK(told_workers(" 2 ", 64) == 2u);
  CAF_CHECK(told_workers("100", 64) == 64u);  // capped
  // A real SOVA server sends none; anything that is not a count of at least 1 says nothing.
  for (const char* v : {"", "0", "-2", "2.5", "two", "999999999999"})
    CAF_CHECK(!told_workers(v, 64));
}
