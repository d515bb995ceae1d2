// The reference backends' pure parts around `response_audio_url` and numeric strings:
// the TTS request, the replies, the job/answer payloads between a backend and its engine
// workers, and the media store that serves the audio behind the urls.
#define CAF_SUITE backend_api
#include "caf/test/unit_test.hpp"

#include <atomic>
#include <cmath>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "backends/engine_worker.hpp"
#include "backends/media_store.hpp"
#include "backends/sova_api.hpp"
#include "backends/wav.hpp"
#include "http/base64.hpp"

using namespace sova::backends;
using json = nlohmann::ordered_json;

CAF_TEST(tts_request_takes_numbers_and_numeric_strings) {
  tts_params p;
  std::string error;
  CAF_REQUIRE(parse_tts_request(
      R"({"text": "hi", "voice": "Ruslan", "rate": "1.5", "pitch": " 2e-1 ", "volume": -3})", p,
      error));
  CAF_CHECK_EQUAL(p.text, "hi");
  CAF_CHECK_EQUAL(p.voice, "Ruslan");
  CAF_CHECK_EQUAL(p.rate, 1.5);
  CAF_CHECK_EQUAL(p.pitch, 0.2);
  CAF_CHECK_EQUAL(p.volume, -3.0);
  tts_params defaults;
  CAF_REQUIRE(parse_tts_request(R"({"text": "hi", "rate": null})", defaults, error));
  CAF_CHECK_EQUAL(defaults.rate, 1.0);
  for (auto bad : {R"({"text": "x", "rate": "fast"})", R"({"text": "x", "rate": true})",
                   R"({"text": "x", "rate": ""})", R"({"text": "x", "rate": [1]})"}) {
    tts_params q;
    error.clear();
    CAF_CHECK(!parse_tts_request(bad, q, error));
    CAF_CHECK_EQUAL(error, "\"rate\" must be a number");
  }
  tts_params q;
  CAF_CHECK(!parse_tts_request(R"({"text": "x", "volume": "loud"})", q, error));
  CAF_CHECK_EQUAL(error, "\"volume\" must be a number");
}

CAF_TEST(tts_reply_carries_the_audio_url_after_synthesis_time) {
  tts_result r;
  r.ok = true;
  r.samples = {0, 1000, -1000, 32767};
  r.sample_rate = 22050;
  r.duration_s = 4.0 / 22050;
  auto wav = encode_wav(r.samples, r.sample_rate);
  auto reply = tts_reply("Natasha", r, 0.1234, "/media/7-00ff00ff00ff00ff.wav", wav);
  CAF_CHECK_EQUAL(reply, R"({"response_code":0,"response":[{"voice":"Natasha","sample_rate":22050,)"
                         R"("duration_s":0.0,"synthesis_time":0.123,)"
                         R"("response_audio_url":"/media/7-00ff00ff00ff00ff.wav",)"
                         R"("response_audio":")" +
                             sova::http::base64_encode(wav) + R"("}]})");
  // The failure reply is as before: no url.
  CAF_CHECK_EQUAL(tts_error_reply("no"), R"({"response_code":1,"response":"no"})");
}

CAF_TEST(asr_elements_carry_the_audio_url_beside_response_code) {
  asr_result r;
  r.ok = true;
  r.text = "go";
  r.confidence = 0.5;
  r.duration_s = 1;
  r.words = {{"go", 0.1, 0.4, 0.9}};
  CAF_CHECK_EQUAL(asr_element(r, 0.25, "/media/1-0123456789abcdef.wav"),
                  R"({"response_audio_url":"/media/1-0123456789abcdef.wav","response_code":0,)"
                  R"("response":[{"text":"go","time":0.25,"confidence":0.5,"duration_s":1.0,)"
                  R"("words":[{"word":"go","start":0.1,"end":0.4,"confidence":0.9}]}]})");
  CAF_CHECK_EQUAL(asr_error_element("not audio"),
                  R"({"response_audio_url":null,"response_code":1,"response":"not audio"})");
  asr_result failed;
  failed.error = "engine says no";
  CAF_CHECK_EQUAL(asr_element(failed, 0, "/media/x.wav"),
                  R"({"response_audio_url":null,"response_code":1,"response":"engine says no"})");
}

CAF_TEST(engine_jobs_and_answers_round_trip) {
  std::string input("RIFF\0\n\n binary\n", 16);
  auto job = make_engine_job("/media/3-abc.wav", input);
  std::string_view url, got;
  CAF_REQUIRE(split_engine_job(job, url, got));
  CAF_CHECK_EQUAL(url, "/media/3-abc.wav");
  CAF_CHECK_EQUAL(got, input);
  CAF_CHECK(!split_engine_job("no newline", url, got));

  auto answer = split_engine_answer(make_engine_answer(R"({"r":1})", input));
  CAF_REQUIRE(answer.has_value());
  CAF_CHECK_EQUAL(answer->reply, R"({"r":1})");
  CAF_CHECK_EQUAL(answer->audio, input);
  auto no_audio = split_engine_answer(make_engine_answer("{}", ""));
  CAF_REQUIRE(no_audio.has_value());
  CAF_CHECK_EQUAL(no_audio->reply, "{}");
  CAF_CHECK(no_audio->audio.empty());
  for (auto bad : {"", "{}", "\n{}", "3{}", "5\n{}", "x\n{}", "99999999999999999999\n{}"})
    CAF_CHECK(!split_engine_answer(bad));
}

CAF_TEST(media_ids_are_unique_and_random) {
  media_store store;
  std::set<std::string> ids, random_parts;
  for (int i = 0; i < 1000; ++i) {
    auto id = store.new_id();
    auto dash = id.find('-');
    CAF_REQUIRE_NOT_EQUAL(dash, std::string::npos);
    CAF_CHECK_EQUAL(id.substr(0, dash), std::to_string(i + 1));
    auto hex = id.substr(dash + 1);
    CAF_CHECK_EQUAL(hex.size(), 16u);
    CAF_CHECK_EQUAL(hex.find_first_not_of("0123456789abcdef"), std::string::npos);
    ids.insert(id);
    random_parts.insert(hex);
  }
  CAF_CHECK_EQUAL(ids.size(), 1000u);
  CAF_CHECK_EQUAL(random_parts.size(), 1000u);  // 64 random bits: a repeat is a broken source
  // Another store (another backend process) does not start from the same ids.
  media_store other;
  CAF_CHECK_NOT_EQUAL(other.new_id().substr(2), media_store().new_id().substr(2));
}

CAF_TEST(media_store_keeps_the_latest_items_within_its_bounds) {
  media_store store({3, 100});
  CAF_CHECK(!store.get("nothing"));
  store.put("a", std::string(10, 'a'));
  store.put("b", std::string(10, 'b'));
  store.put("c", std::string(10, 'c'));
  CAF_REQUIRE(store.get("a"));
  CAF_CHECK_EQUAL(*store.get("a"), std::string(10, 'a'));
  CAF_CHECK_EQUAL(store.items(), 3u);
  CAF_CHECK_EQUAL(store.bytes(), 30u);
  // Over the count: the oldest goes, even though it was just read.
  store.put("d", std::string(10, 'd'));
  CAF_CHECK(!store.get("a"));
  CAF_CHECK(store.get("b") && store.get("c") && store.get("d"));
  // Over the bytes: as many of the oldest go as it takes (115 -> 95).
  store.put("e", std::string(85, 'e'));
  CAF_CHECK(!store.get("b") && !store.get("c"));
  CAF_CHECK(store.get("d") && store.get("e"));
  CAF_CHECK_EQUAL(store.items(), 2u);
  CAF_CHECK_EQUAL(store.bytes(), 95u);
  // A reader keeps its copy alive after eviction.
  auto held = store.get("e");
  store.put("f", std::string(100, 'f'));  // exactly the limit: kept, alone
  CAF_CHECK(!store.get("e"));
  CAF_CHECK_EQUAL(held->size(), 85u);
  CAF_CHECK_EQUAL(store.bytes(), 100u);
  // Larger than the whole store: not kept, and nothing else is lost for it.
  store.put("g", std::string(101, 'g'));
  CAF_CHECK(!store.get("g"));
  CAF_CHECK(store.get("f"));
  // The same id again replaces its bytes and counts them once.
  store.put("f", std::string(5, 'F'));
  CAF_CHECK_EQUAL(*store.get("f"), "FFFFF");
  CAF_CHECK_EQUAL(store.items(), 1u);
  CAF_CHECK_EQUAL(store.bytes(), 5u);
  CAF_CHECK_EQUAL(store.limits().max_items, 3u);
  // Default bounds.
  media_store defaults;
  CAF_CHECK_EQUAL(defaults.limits().max_items, 64u);
  CAF_CHECK_EQUAL(defaults.limits().max_bytes, 64u * 1024 * 1024);
}

CAF_TEST(media_store_is_safe_from_several_threads) {
  media_store store({16, 1 << 20});
  std::atomic<int> wrong{0};  // CAF's checks are for the test's own thread
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&store, &wrong, t] {
      auto want = std::string(static_cast<std::size_t>(100 + t), static_cast<char>('a' + t));
      for (int i = 0; i < 500; ++i) {
        auto id = store.new_id();
        store.put(id, want);
        if (auto got = store.get(id); got && *got != want) ++wrong;
      }
    });
  for (auto& th : threads) th.join();
  CAF_CHECK_EQUAL(wrong.load(), 0);
  CAF_CHECK_EQUAL(store.items(), 16u);
  CAF_CHECK_LESS_OR_EQUAL(store.bytes(), 16u * 103);
}
