// openai/: OpenAI's audio API translated to and from SOVA requests. Requests checked
// (every refusal with OpenAI's error shape, the field named), SOVA bodies built, replies
// rendered in each response_format, errors translated.
#define CAF_SUITE openai_api
#include "caf/test/unit_test.hpp"

#include <random>
#include <string>
#include <variant>

#include <nlohmann/json.hpp>

#include "backends/wav.hpp"
#include "http/base64.hpp"
#include "http/multipart.hpp"
#include "http/routes.hpp"
#include "openai/errors.hpp"
#include "openai/models.hpp"
#include "openai/speech.hpp"
#include "openai/transcription.hpp"
#include "serving/openai_requests.hpp"

using namespace sova;
using namespace sova::openai;
using json = nlohmann::json;

namespace {

const std::string form_type = "multipart/form-data; boundary=XyZ";

struct field {
  std::string name;
  std::string value;
  std::string filename = "";
};

std::string form(const std::vector<field>& fields) {
  std::string out;
  for (const auto& f : fields) {
    out += "--XyZ\r\nContent-Disposition: form-data; name=\"" + f.name + "\"";
    if (!f.filename.empty()) out += "; filename=\"" + f.filename + "\"";
    out += "\r\n\r\n" + f.value + "\r\n";
  }
  return out + "--XyZ--\r\n";
}

const field audio_file{"file", "RIFF-fake-audio\r\n--not-a-boundary", "speech.wav"};

/// The refusal's status, code and param ("" for null) as "400 code param".
std::string refusal(const http::response& r) {
  auto j = json::parse(r.body, nullptr, false);
  if (!j.is_object() || !j.contains("error")) return "not an OpenAI error: " + r.body;
  const auto& e = j["error"];
  if (!e.contains("message") || !e["message"].is_string() || e["message"].get<std::string>().empty())
    return "no message";
  if (e.value("type", "") != std::string(error_type(r.status))) return "wrong type";
  auto param = e["param"].is_null() ? std::string() : e["param"].get<std::string>();
  return std::to_string(r.status) + " " + e.value("code", "") + " " + param;
}

std::string transcription_refusal(const std::string& content_type, const std::string& body) {
  http::response error;
  auto r = parse_transcription_request(content_type, body, net::wanted_kind::any, &error);
  return r ? "accepted" : refusal(error);
}

std::string speech_refusal(const std::string& body) {
  http::response error;
  auto r = parse_speech_request(body, net::wanted_kind::any, &error);
  return r ? "accepted" : refusal(error);
}

http::response sova_reply(unsigned status, std::string body) {
  http::response r;
  r.status = status;
  r.body = std::move(body);
  return r;
}

/// A SOVA ASR reply with one response element holding `words` (word, start, end).
std::string asr_reply(const std::vector<std::tuple<std::string, double, double>>& words,
                      const std::string& text, double duration = 0) {
  json ws = json::array();
  for (const auto& [w, s, e] : words) ws.push_back({{"word", w}, {"start", s}, {"end", e}, {"confidence", 0.9}});
  json element = {{"text", text}, {"words", ws}, {"confidence", 0.9}};
  if (duration > 0) element["duration_s"] = duration;
  return json{{"r", json::array({{{"response_code", 0}, {"response_audio_url", "/media/1.wav"},
                                  {"response", json::array({element})}}})}}
      .dump();
}

}  // namespace

CAF_TEST(errors have OpenAI's shape and keep the node's status and code) {
  auto e = error_reply(400, "invalid_value", "bad", "voice");
  CAF_CHECK_EQUAL(refusal(e), "400 invalid_value voice");
  CAF_CHECK_EQUAL(error_type(429), "rate_limit_error");
  CAF_CHECK_EQUAL(error_type(503), "server_error");
  auto node = http::error_response(503, "busy", "every backend is busy");
  node.headers.emplace_back("Retry-After", "2");
  auto t = as_openai_error(node);
  CAF_CHECK_EQUAL(refusal(t), "503 busy ");
  auto body = json::parse(t.body);
  CAF_CHECK_EQUAL(body["error"]["message"], "every backend is busy");
  CAF_REQUIRE_EQUAL(t.headers.size(), 1u);
  CAF_CHECK_EQUAL(t.headers[0].second, "2");
  // Already OpenAI's: kept with its param; a success untouched; a body of no known shape.
  CAF_CHECK_EQUAL(refusal(as_openai_error(e)), "400 invalid_value voice");
  auto ok = sova_reply(200, "audio");
  CAF_CHECK_EQUAL(as_openai_error(ok).body, "audio");
  CAF_CHECK_EQUAL(refusal(as_openai_error(sova_reply(502, "<html>"))), "502 upstream_error ");
}

CAF_TEST(models map to backend kinds) {
  http::response error;
  CAF_CHECK(kind_for_model(net::service::asr, "", net::wanted_kind::any, &error) == net::wanted_kind::any);
  CAF_CHECK(kind_for_model(net::service::asr, "whisper-1", net::wanted_kind::cpu, &error) == net::wanted_kind::cpu);
  CAF_CHECK(kind_for_model(net::service::asr, "sova-asr", net::wanted_kind::gpu, &error) == net::wanted_kind::gpu);
  CAF_CHECK(kind_for_model(net::service::asr, "sova-asr-gpu", net::wanted_kind::cpu, &error) == net::wanted_kind::gpu);
  CAF_CHECK(kind_for_model(net::service::tts, "sova-tts-cpu", net::wanted_kind::any, &error) == net::wanted_kind::cpu);
  CAF_CHECK(!kind_for_model(net::service::tts, "sova-asr-cpu", net::wanted_kind::any, &error));
  CAF_CHECK_EQUAL(refusal(error), "400 model_not_found model");
  CAF_CHECK(!kind_for_model(net::service::asr, "sova-asr-tpu", net::wanted_kind::any, &error));
}

CAF_TEST(the models list names each live service and kind) {
  std::vector<net::service_record> backends{{net::service::tts, net::kind::cpu, "10.0.0.1", 8899},
                                            {net::service::asr, net::kind::gpu, "10.0.0.2", 8888},
                                            {net::service::asr, net::kind::gpu, "10.0.0.3", 8888},
                                            {net::service::asr, net::kind::cpu, "10.0.0.4", 8888}};
  auto doc = json::parse(models_document(backends, {"asr/cpu/10.0.0.4:8888"}));
  CAF_CHECK_EQUAL(doc["object"], "list");
  std::vector<std::string> ids;
  for (const auto& m : doc["data"]) {
    ids.push_back(m["id"]);
    CAF_CHECK_EQUAL(m["object"], "model");
    CAF_CHECK_EQUAL(m["owned_by"], "sova-dc");
    CAF_CHECK(m["created"].is_number_integer());
  }
  CAF_CHECK_EQUAL(json(ids).dump(), R"(["sova-asr","sova-asr-gpu","sova-tts","sova-tts-cpu"])");
  CAF_CHECK_EQUAL(models_document({}, {}), R"({"data":[],"object":"list"})");
}

CAF_TEST(a transcription request becomes a SOVA form with the file as audio_blob) {
  http::response error;
  auto body = form({{"model", "sova-asr-cpu"}, audio_file, {"response_format", "verbose_json"},
                    {"timestamp_granularities[]", "word"}, {"language", "en"},
                    {"prompt", "ignored"}, {"temperature", "0.2"}, {"stream", "false"},
                    {"unknown_field", "ignored"}});
  auto r = parse_transcription_request(form_type, body, net::wanted_kind::any, &error);
  CAF_REQUIRE(r.has_value());
  CAF_CHECK(r->kind == net::wanted_kind::cpu);
  CAF_CHECK(r->options.format == transcript_format::verbose_json);
  CAF_CHECK(r->options.words);
  CAF_CHECK(!r->options.segments);  // only word was asked for
  CAF_CHECK_EQUAL(r->options.language, "en");
  auto boundary = http::multipart_boundary(r->sova_content_type);
  CAF_REQUIRE(boundary.has_value());
  auto parts = http::parse_multipart(r->sova_body, *boundary);
  CAF_REQUIRE(parts.has_value());
  CAF_REQUIRE_EQUAL(parts->size(), 1u);
  CAF_CHECK_EQUAL((*parts)[0].name, "audio_blob");
  CAF_CHECK_EQUAL((*parts)[0].filename, "audio.wav");
  CAF_CHECK_EQUAL((*parts)[0].data, audio_file.value);
  // Defaults: json, segments, the route's kind.
  r = parse_transcription_request(form_type, form({audio_file}), net::wanted_kind::gpu, &error);
  CAF_REQUIRE(r.has_value());
  CAF_CHECK(r->kind == net::wanted_kind::gpu);
  CAF_CHECK(r->options.format == transcript_format::json);
  CAF_CHECK(r->options.segments && !r->options.words);
  CAF_CHECK_EQUAL(r->options.language, "");
  // A hostile filename does not reach the backend's form.
  r = parse_transcription_request(
      form_type, form({{"file", "x", "../../etc/passwd"}}), net::wanted_kind::any, &error);
  CAF_REQUIRE(r.has_value());
  parts = http::parse_multipart(r->sova_body, *http::multipart_boundary(r->sova_content_type));
  CAF_REQUIRE(parts.has_value());
  CAF_CHECK_EQUAL((*parts)[0].filename, "audio");
  CAF_CHECK_EQUAL((*parts)[0].name, "audio_blob");
}

CAF_TEST(transcription refusals name their field) {
  CAF_CHECK_EQUAL(transcription_refusal("application/json", "{}"), "400 invalid_request file");
  CAF_CHECK_EQUAL(transcription_refusal(form_type, "--XyZ\r\ngarbage"),
                  "400 invalid_request file");
  CAF_CHECK_EQUAL(transcription_refusal(form_type, form({{"model", "whisper-1"}})),
                  "400 missing_file file");
  CAF_CHECK_EQUAL(transcription_refusal(form_type, form({{"file", "not a file part"}})),
                  "400 invalid_value file");
  CAF_CHECK_EQUAL(transcription_refusal(form_type, form({{"file", "", "empty.wav"}})),
                  "400 invalid_value file");
  CAF_CHECK_EQUAL(transcription_refusal(form_type, form({audio_file, {"response_format", "mp3"}})),
                  "400 invalid_value response_format");
  CAF_CHECK_EQUAL(
      transcription_refusal(form_type, form({audio_file, {"timestamp_granularities[]", "char"}})),
      "400 invalid_value timestamp_granularities[]");
  for (const auto* t : {"hot", "1.5", "-0.1", "nan"})
    CAF_CHECK_EQUAL(transcription_refusal(form_type, form({audio_file, {"temperature", t}})),
                    "400 invalid_value temperature");
  CAF_CHECK_EQUAL(transcription_refusal(form_type, form({audio_file, {"stream", "true"}})),
                  "400 unsupported_value stream");
  CAF_CHECK_EQUAL(transcription_refusal(form_type, form({audio_file, {"model", "sova-tts"}})),
                  "400 model_not_found model");
  // A language that is not a plain code is not echoed.
  http::response error;
  auto r = parse_transcription_request(form_type, form({audio_file, {"language", "<b>x</b>"}}),
                                       net::wanted_kind::any, &error);
  CAF_REQUIRE(r.has_value());
  CAF_CHECK_EQUAL(r->options.language, "");
}

CAF_TEST(a SOVA transcript in each response format) {
  auto reply = asr_reply({{"hello", 0.1, 0.5}, {"big", 0.6, 0.9}, {"world", 2.5, 3.0}},
                         "hello big world", 3.2);
  transcript_options o;
  o.format = transcript_format::json;
  auto r = translate_transcription_reply(o, sova_reply(200, reply));
  CAF_CHECK_EQUAL(r.status, 200u);
  CAF_CHECK_EQUAL(r.content_type, "application/json");
  CAF_CHECK_EQUAL(r.body, R"({"text":"hello big world"})");
  o.format = transcript_format::text;
  r = translate_transcription_reply(o, sova_reply(200, reply));
  CAF_CHECK_EQUAL(r.body, "hello big world\n");
  CAF_CHECK_EQUAL(r.content_type, "text/plain; charset=utf-8");
  // A pause of a second or more starts a segment (a cue).
  o.format = transcript_format::srt;
  r = translate_transcription_reply(o, sova_reply(200, reply));
  CAF_CHECK_EQUAL(r.body,
                  "1\n00:00:00,100 --> 00:00:00,900\nhello big\n\n"
                  "2\n00:00:02,500 --> 00:00:03,000\nworld\n\n");
  o.format = transcript_format::vtt;
  r = translate_transcription_reply(o, sova_reply(200, reply));
  CAF_CHECK_EQUAL(r.content_type, "text/vtt; charset=utf-8");
  CAF_CHECK_EQUAL(r.body,
                  "WEBVTT\n\n00:00:00.100 --> 00:00:00.900\nhello big\n\n"
                  "00:00:02.500 --> 00:00:03.000\nworld\n\n");
  o.format = transcript_format::verbose_json;
  o.words = true;
  o.language = "en";
  r = translate_transcription_reply(o, sova_reply(200, reply));
  auto j = json::parse(r.body);
  CAF_CHECK_EQUAL(j["task"], "transcribe");
  CAF_CHECK_EQUAL(j["language"], "en");
  CAF_CHECK_EQUAL(j["duration"].get<double>(), 3.2);
  CAF_CHECK_EQUAL(j["text"], "hello big world");
  CAF_REQUIRE_EQUAL(j["segments"].size(), 2u);
  CAF_CHECK_EQUAL(j["segments"][1]["id"], 1);
  CAF_CHECK_EQUAL(j["segments"][1]["start"].get<double>(), 2.5);
  CAF_CHECK_EQUAL(j["segments"][0]["text"], "hello big");
  CAF_REQUIRE_EQUAL(j["words"].size(), 3u);
  CAF_CHECK_EQUAL(j["words"][2].dump(), R"({"end":3.0,"start":2.5,"word":"world"})");
  o.segments = false;
  j = json::parse(translate_transcription_reply(o, sova_reply(200, reply)).body);
  CAF_CHECK(!j.contains("segments"));
  o.words = false;
  o.segments = true;
  j = json::parse(translate_transcription_reply(o, sova_reply(200, reply)).body);
  CAF_CHECK(!j.contains("words"));
  CAF_CHECK_EQUAL(j["language"], "en");
}

CAF_TEST(long segments split after twelve words and cues stay one line) {
  std::vector<std::tuple<std::string, double, double>> words;
  for (int i = 0; i < 13; ++i) words.emplace_back("w" + std::to_string(i), i * 0.5, i * 0.5 + 0.4);
  transcript_options o;
  o.format = transcript_format::verbose_json;
  auto j = json::parse(translate_transcription_reply(o, sova_reply(200, asr_reply(words, "x"))).body);
  CAF_REQUIRE_EQUAL(j["segments"].size(), 2u);
  CAF_CHECK_EQUAL(j["segments"][1]["text"], "w12");
  CAF_CHECK_EQUAL(j["duration"].get<double>(), 6.4);  // no duration_s: the last word's end
  // Markup and cue syntax in words are text in a cue.
  o.format = transcript_format::vtt;
  auto body = translate_transcription_reply(
                  o, sova_reply(200, asr_reply({{"<b>&-->\nx", 0, 1}}, "")))
                  .body;
  CAF_CHECK_EQUAL(body, "WEBVTT\n\n00:00:00.000 --> 00:00:01.000\n&lt;b&gt;&amp;--&gt; x\n\n");
  o.format = transcript_format::srt;
  body = translate_transcription_reply(o, sova_reply(200, asr_reply({{"<b>&-->\nx", 0, 1}}, "")))
             .body;
  CAF_CHECK_EQUAL(body, "1\n00:00:00,000 --> 00:00:01,000\n<b>&-> x\n\n");
  // A response without word times is one segment.
  auto no_words = json{{"r", {{{"response_code", 0}, {"response", {{{"text", "hi there"}}}}}}}};
  o.format = transcript_format::srt;
  CAF_CHECK_EQUAL(translate_transcription_reply(o, sova_reply(200, no_words.dump())).body,
                  "1\n00:00:00,000 --> 00:00:00,000\nhi there\n\n");
}

CAF_TEST(transcription failures become OpenAI errors) {
  transcript_options o;
  auto unreadable = R"({"r":[{"response_code":1,"response":"Format not recognised","response_audio_url":null}]})";
  CAF_CHECK_EQUAL(refusal(translate_transcription_reply(o, sova_reply(200, unreadable))),
                  "400 invalid_audio file");
  CAF_CHECK_EQUAL(refusal(translate_transcription_reply(o, sova_reply(200, "<html>"))),
                  "502 bad_backend_reply ");
  CAF_CHECK_EQUAL(refusal(translate_transcription_reply(o, sova_reply(200, R"({"r":[]})"))),
                  "502 bad_backend_reply ");
  CAF_CHECK_EQUAL(
      refusal(translate_transcription_reply(o, http::error_response(504, "deadline", "late"))),
      "504 deadline ");
}

CAF_TEST(a speech request becomes a SOVA TTS request) {
  http::response error;
  auto r = parse_speech_request(
      R"({"model": "sova-tts-gpu", "input": "hello", "voice": "alloy", "speed": 1.5,
          "response_format": "flac", "instructions": "calm", "stream_format": "audio"})",
      net::wanted_kind::any, &error);
  CAF_REQUIRE(r.has_value());
  CAF_CHECK(r->kind == net::wanted_kind::gpu);
  CAF_CHECK(r->format == speech_format::flac);
  CAF_CHECK_EQUAL(json::parse(r->sova_body).dump(),
                  R"({"rate":1.5,"text":"hello","voice":"Natasha"})");
  r = parse_speech_request(R"({"input": "hi", "voice": "en-us"})", net::wanted_kind::cpu, &error);
  CAF_REQUIRE(r.has_value());
  CAF_CHECK(r->kind == net::wanted_kind::cpu);
  CAF_CHECK(r->format == speech_format::mp3);  // OpenAI's default
  CAF_CHECK_EQUAL(json::parse(r->sova_body).dump(), R"({"text":"hi","voice":"en-us"})");
  CAF_CHECK_EQUAL(openai_voice_to_sova("onyx").value_or(""), "Ruslan");
  CAF_CHECK_EQUAL(openai_voice_to_sova("shimmer").value_or(""), "Natasha");
  CAF_CHECK(!openai_voice_to_sova("Natasha"));
  CAF_CHECK(!openai_voice_to_sova("Alloy"));  // names are case-sensitive, as OpenAI's
  CAF_CHECK_EQUAL(speech_content_type(speech_format::mp3), "audio/mpeg");
  CAF_CHECK_EQUAL(speech_content_type(speech_format::opus), "audio/ogg");
  CAF_CHECK_EQUAL(speech_content_type(speech_format::pcm), "audio/pcm");
}

CAF_TEST(speech refusals name their field) {
  CAF_CHECK_EQUAL(speech_refusal("not json"), "400 invalid_json ");
  CAF_CHECK_EQUAL(speech_refusal("[1]"), "400 invalid_json ");
  CAF_CHECK_EQUAL(speech_refusal(R"({"voice": "Natasha"})"),
                  "400 missing_required_parameter input");
  CAF_CHECK_EQUAL(speech_refusal(R"({"input": "", "voice": "Natasha"})"),
                  "400 invalid_value input");
  CAF_CHECK_EQUAL(speech_refusal(R"({"input": 5, "voice": "Natasha"})"), "400 invalid_type input");
  CAF_CHECK_EQUAL(speech_refusal(R"({"input": "hi"})"), "400 missing_required_parameter voice");
  CAF_CHECK_EQUAL(speech_refusal(R"({"input": "hi", "voice": ""})"),
                  "400 missing_required_parameter voice");
  CAF_CHECK_EQUAL(speech_refusal(R"({"input": "hi", "voice": {"id": "x"}})"),
                  "400 invalid_type voice");
  CAF_CHECK_EQUAL(speech_refusal(R"({"input": "hi", "voice": "x", "speed": "fast"})"),
                  "400 invalid_type speed");
  for (const auto* s : {"0.2", "4.5", "-1", "1e999"})
    CAF_CHECK_EQUAL(speech_refusal(std::string(R"({"input": "hi", "voice": "x", "speed": )") + s + "}"),
                    std::string(s) == "1e999" ? "400 invalid_json " : "400 invalid_value speed");
  CAF_CHECK_EQUAL(speech_refusal(R"({"input": "hi", "voice": "x", "response_format": "aac"})"),
                  "400 unsupported_value response_format");
  CAF_CHECK_EQUAL(speech_refusal(R"({"input": "hi", "voice": "x", "response_format": "ogg"})"),
                  "400 invalid_value response_format");
  CAF_CHECK_EQUAL(speech_refusal(R"({"input": "hi", "voice": "x", "stream_format": "sse"})"),
                  "400 unsupported_value stream_format");
  CAF_CHECK_EQUAL(speech_refusal(R"({"input": "hi", "voice": "x", "model": "sova-asr"})"),
                  "400 model_not_found model");
  CAF_CHECK_EQUAL(speech_refusal(R"({"input": "hi", "voice": "x", "model": 3})"),
                  "400 invalid_type model");
  // input: 4096 characters (not bytes) at most.
  std::string cyrillic;
  for (int i = 0; i < 4096; ++i) cyrillic += "\xD0\x96";
  CAF_CHECK_EQUAL(speech_refusal(json{{"input", cyrillic}, {"voice", "x"}}.dump()), "accepted");
  CAF_CHECK_EQUAL(speech_refusal(json{{"input", cyrillic + "a"}, {"voice", "x"}}.dump()),
                  "400 invalid_value input");
  // Bodies past the bound are not parsed; deep nesting within it is only JSON.
  CAF_CHECK_EQUAL(speech_refusal(std::string(max_speech_body + 1, ' ')), "413 too_large ");
  CAF_CHECK_EQUAL(speech_refusal(std::string(max_speech_body, '[')), "400 invalid_json ");
}

CAF_TEST(the WAV of a SOVA TTS reply or an OpenAI error) {
  auto ok = json{{"response_code", 0},
                 {"response", {{{"voice", "Natasha"}, {"response_audio", http::base64_encode("RIFFwav")}}}}};
  auto wav = sova_speech_wav(sova_reply(200, ok.dump()));
  CAF_REQUIRE(std::holds_alternative<std::string>(wav));
  CAF_CHECK_EQUAL(std::get<std::string>(wav), "RIFFwav");
  auto refused = sova_speech_wav(sova_reply(200, R"({"response_code":1,"response":"unknown voice 'x'"})"));
  CAF_REQUIRE(std::holds_alternative<http::response>(refused));
  CAF_CHECK_EQUAL(refusal(std::get<http::response>(refused)), "400 backend_refused ");
  CAF_CHECK(json::parse(std::get<http::response>(refused).body)["error"]["message"]
                .get<std::string>()
                .find("unknown voice") != std::string::npos);
  auto garbage = sova_speech_wav(sova_reply(200, "<html>"));
  CAF_CHECK_EQUAL(refusal(std::get<http::response>(garbage)), "502 bad_backend_reply ");
  auto no_audio = sova_speech_wav(sova_reply(200, R"({"response_code":0,"response":[{}]})"));
  CAF_CHECK_EQUAL(refusal(std::get<http::response>(no_audio)), "502 bad_backend_reply ");
  auto none = sova_speech_wav(http::error_response(503, "no_backend", "no tts backend"));
  CAF_CHECK_EQUAL(refusal(std::get<http::response>(none)), "503 no_backend ");
}

CAF_TEST(mutated requests and replies get an answer and never crash) {
  // Under ASan/UBSan: every mutation of good bodies is either taken or refused 4xx with
  // OpenAI's shape; every mutation of SOVA replies is rendered or is a 4xx/5xx error.
  std::mt19937 rng(21);
  auto mutate = [&](std::string s) {
    auto n = 1 + rng() % 8;
    for (unsigned i = 0; i < n && !s.empty(); ++i) {
      auto at = rng() % s.size();
      switch (rng() % 4) {
        case 0: s[at] = static_cast<char>(rng()); break;
        case 1: s.erase(at, 1 + rng() % 16); break;
        case 2: s.insert(at, s.substr(rng() % s.size(), rng() % 32)); break;
        default: s.insert(at, 1, "\"{}[]:,\\\r\n-"[rng() % 12]); break;
      }
    }
    return s;
  };
  auto good_form = form({{"model", "sova-asr"}, audio_file, {"response_format", "srt"},
                         {"timestamp_granularities[]", "word"}, {"temperature", "0.5"}});
  auto good_speech = std::string(
      R"({"model":"tts-1","input":"hello there","voice":"alloy","speed":1.25,"response_format":"opus"})");
  auto good_reply = asr_reply({{"hello", 0.1, 0.5}, {"world", 1.9, 2.4}}, "hello world", 2.5);
  auto good_tts = json{{"response_code", 0},
                       {"response", {{{"response_audio", http::base64_encode("RIFF")}}}}}
                      .dump();
  int taken = 0, refused = 0;
  for (int i = 0; i < 1500; ++i) {
    http::response error;
    // What is taken is what the node's own SOVA checks pass: nothing a backend refuses.
    auto t = parse_transcription_request(form_type, mutate(good_form), net::wanted_kind::any, &error);
    (t ? taken : refused) += 1;
    if (!t) CAF_CHECK(refusal(error).rfind("400 ", 0) == 0);
    if (t) CAF_CHECK(!http::check_asr_body(t->sova_content_type, t->sova_body));
    auto s = parse_speech_request(mutate(good_speech), net::wanted_kind::any, &error);
    (s ? taken : refused) += 1;
    if (!s) CAF_CHECK(refusal(error).rfind("4", 0) == 0);
    if (s) CAF_CHECK(!http::check_tts_body(s->sova_body));
    for (auto f : {transcript_format::json, transcript_format::verbose_json, transcript_format::vtt}) {
      transcript_options o;
      o.format = f;
      o.words = true;
      auto r = translate_transcription_reply(o, sova_reply(200, mutate(good_reply)));
      if (r.status != 200) CAF_CHECK(refusal(r).rfind("no message", 0) != 0);
      if (r.content_type == "application/json") CAF_CHECK(json::accept(r.body));
    }
    auto w = sova_speech_wav(sova_reply(200, mutate(good_tts)));
    if (auto* e = std::get_if<http::response>(&w)) CAF_CHECK(e->status >= 400);
  }
  CAF_MESSAGE(taken << " mutated requests taken, " << refused << " refused");
  CAF_CHECK_GREATER(taken, 0);
  CAF_CHECK_GREATER(refused, 0);
}

CAF_TEST(a job carries the SOVA request and its translator turns the outcome back) {
  http::route speech_route{http::route_kind::openai_speech, net::wanted_kind::gpu};
  http::response error;
  auto job = serving::openai_job_for(speech_route, "application/json",
                                    R"({"input": "hi", "voice": "echo", "response_format": "flac"})",
                                    &error);
  CAF_REQUIRE(job.has_value());
  CAF_CHECK(job->service == net::service::tts);
  CAF_CHECK(job->wanted == net::wanted_kind::gpu);
  CAF_CHECK_EQUAL(job->content_type, "application/json");
  CAF_CHECK_EQUAL(job->body, R"({"text":"hi","voice":"Ruslan"})");
  // A real WAV in the backend's reply comes out as FLAC.
  std::vector<std::int16_t> samples(22050, 0);
  for (std::size_t i = 0; i < samples.size(); ++i) samples[i] = static_cast<std::int16_t>(i % 200 * 50);
  auto wav = backends::encode_wav(samples, 22050);
  auto reply = json{{"response_code", 0}, {"response", {{{"response_audio", http::base64_encode(wav)}}}}};
  auto out = job->translate(sova_reply(200, reply.dump()));
  CAF_CHECK_EQUAL(out.status, 200u);
  CAF_CHECK_EQUAL(out.content_type, "audio/flac");
  CAF_CHECK_EQUAL(out.body.substr(0, 4), "fLaC");
  // Audio that is not audio: 502 in OpenAI's shape; the node's own errors translated.
  auto bad = json{{"response_code", 0}, {"response", {{{"response_audio", http::base64_encode("junk")}}}}};
  CAF_CHECK_EQUAL(refusal(job->translate(sova_reply(200, bad.dump()))), "502 encoding_failed ");
  CAF_CHECK_EQUAL(refusal(job->translate(http::error_response(503, "no_backend", "none"))),
                  "503 no_backend ");
  // A transcription job: the form for /asr, json back.
  http::route asr_route{http::route_kind::openai_transcriptions, net::wanted_kind::any};
  job = serving::openai_job_for(asr_route, form_type, form({audio_file}), &error);
  CAF_REQUIRE(job.has_value());
  CAF_CHECK(job->service == net::service::asr);
  CAF_CHECK(!http::check_asr_body(job->content_type, job->body));
  out = job->translate(sova_reply(200, asr_reply({{"hi", 0, 0.4}}, "hi")));
  CAF_CHECK_EQUAL(out.body, R"({"text":"hi"})");
  // Refused requests give their OpenAI error.
  CAF_CHECK(!serving::openai_job_for(speech_route, "application/json", "{}", &error));
  CAF_CHECK_EQUAL(refusal(error), "400 missing_required_parameter input");
}
