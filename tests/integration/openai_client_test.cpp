// The official `openai` npm package as a real client of a node's OpenAI routes: a node and
// the reference TTS and ASR backends on loopback; the test installs the package with npm
// into the build directory (failing, with npm's output, when it cannot), runs
// openai_client.mjs with Node.js, and checks what the client got: speech in each format
// (headers, lengths, decodable), transcriptions of a LibriVox recording in each
// response_format (word error rate as the demo's) and of synthesised speech, the model
// list, each backend's capacity from its Sova-Workers header, and errors arriving as the
// client's APIError with OpenAI's status, type and code.
#define CAF_SUITE integration_openai_client
#include "caf/test/unit_test.hpp"

#include <cmath>
#include <string>

#include <nlohmann/json.hpp>

#include "backends/audio_decode.hpp"
#include "backends/transcription.hpp"
#include "backends/wer.hpp"
#include "process.hpp"
#include "serving_fixture.hpp"

using namespace sova::testing;
using namespace std::chrono_literals;
using json = nlohmann::json;

namespace {

const std::string testdata = "/usr/share/pocketsphinx/test/data/librivox";
const std::string recording = "sense_and_sensibility_01_austen_64kb-0880";
const std::string sentence = "speech recognition is working through the network";

bool starts_with(const std::string& s, const std::string& prefix) {
  return s.compare(0, prefix.size(), prefix) == 0;
}

/// Seconds of a mono 16-bit WAV with a 44-byte header at `rate`.
double wav_seconds(const std::string& wav, int rate) {
  return wav.size() < 44 ? 0 : static_cast<double>(wav.size() - 44) / 2 / rate;
}

/// Words of `sentence` heard in `text` (the demo's round-trip measure).
std::size_t words_heard(const std::string& text) {
  auto w = sova::backends::word_error_rate(sentence, text);
  return w.reference_words - w.substitutions - w.deletions;
}

void check_error(const json& e, unsigned status, const std::string& type, const std::string& code,
                 const std::string& param) {
  CAF_CHECK_EQUAL(e.value("thrown", false), true);
  CAF_CHECK_EQUAL(e.value("cls", ""), status == 400 ? "BadRequestError" : "InternalServerError");
  CAF_CHECK_EQUAL(e.value("status", 0u), status);
  CAF_CHECK_EQUAL(e.value("type", ""), type);
  CAF_CHECK_EQUAL(e.value("code", ""), code);
  CAF_CHECK_EQUAL(e["param"].is_null() ? "" : e.value("param", ""), param);
  // The node's X-Request-Id reaches the client's error.
  CAF_CHECK(e["request_id"].is_string() && !e["request_id"].get<std::string>().empty());
}

}  // namespace

CAF_TEST(the_official_openai_client_speaks_to_a_node) {
  // The package, installed by npm into the build directory (a second run finds it there
  // and npm only checks it).
  const std::string npm_dir = SOVA_NPM_DIR;
  run_result npm;
  try {  // through env, which finds npm on the PATH
    npm = run({"/usr/bin/env", "npm", "install", "--prefix", npm_dir, "--no-audit", "--no-fund",
               "--loglevel=error", "openai@6"},
              120s);
  } catch (const std::exception& e) {
    CAF_FAIL("cannot start npm (Node.js and npm are needed): " << e.what());
  }
  if (npm.status != 0)
    CAF_FAIL("npm could not install the openai package into " << npm_dir << " (status "
             << npm.status << "): " << npm.err << npm.out);

  auto dir = temp_dir();
  reference_backend tts{"tts", "127.0.0.1", dir + "/tts.log", {"--workers", "2"}};
  reference_backend asr{"asr", "127.0.0.1", dir + "/asr.log", {"--workers", "2"}};
  node_process node{"127.0.0.7", static_cast<std::uint16_t>(free_udp_port({"127.0.0.7"})),
                    dir + "/node.log",
                    {"--services", "tts/cpu/" + tts.address() + ",asr/cpu/" + asr.address()}};
  CAF_REQUIRE(knows_backends(node, 1, 30s));
  // Given without `*N`, each reference backend gets the two workers it tells (Sova-Workers).
  CAF_CHECK(eventually(
      [&] {
        auto own = status_of(node).value("own_services", json::array());
        return own.size() == 2 && own[0].value("capacity", 0) == 2 && own[1].value("capacity", 0) == 2;
      },
      20s));

  auto client = run({"/usr/bin/env", "NPM_DIR=" + npm_dir, "OUT_DIR=" + dir,
                     "BASE_URL=http://" + node.host + ":" + std::to_string(node.http_port) + "/v1",
                     "RECORDING=" + testdata + "/" + recording + ".wav", "SENTENCE=" + sentence,
                     "node", SOVA_SOURCE_DIR "/tests/integration/openai_client.mjs"},
                    150s);
  if (client.status != 0)
    CAF_FAIL("the openai client script failed (status " << client.status << "): " << client.err
             << client.out);
  auto results = json::parse(sova::apps::read_file(dir + "/results.json"), nullptr, false);
  CAF_REQUIRE(results.is_object());
  CAF_MESSAGE("openai package " << results["version"].dump());

  // Speech: each format's header and content type; every one decodes to the WAV's length.
  auto wav = sova::apps::read_file(dir + "/speech.wav");
  CAF_REQUIRE(starts_with(wav, "RIFF") && wav.substr(8, 4) == "WAVE");
  auto seconds = wav_seconds(wav, 22050);
  CAF_CHECK_GREATER(seconds, 1.5);
  CAF_CHECK_EQUAL(results["speech"]["wav"]["content_type"], "audio/wav");
  auto pcm = sova::apps::read_file(dir + "/speech.pcm");
  CAF_CHECK_EQUAL(pcm.size() % 2, 0u);
  CAF_CHECK_LESS(std::fabs(static_cast<double>(pcm.size()) / 2 / 24000 - seconds), 0.01);
  CAF_CHECK_EQUAL(results["speech"]["pcm"]["content_type"], "audio/pcm");
  // speed 2 reaches the backend as rate 2: much shorter speech.
  auto fast = sova::apps::read_file(dir + "/speech.fast.pcm");
  CAF_CHECK_LESS(fast.size(), pcm.size() * 3 / 4);
  CAF_CHECK_GREATER(fast.size(), 0u);
  auto mp3 = sova::apps::read_file(dir + "/speech.mp3");
  CAF_CHECK(starts_with(mp3, "ID3") ||
            (mp3.size() > 1 && static_cast<unsigned char>(mp3[0]) == 0xFF &&
             (static_cast<unsigned char>(mp3[1]) & 0xE0) == 0xE0));
  CAF_CHECK_EQUAL(results["speech"]["mp3"]["content_type"], "audio/mpeg");
  auto opus = sova::apps::read_file(dir + "/speech.opus");
  CAF_CHECK(starts_with(opus, "OggS") && opus.find("OpusHead") != std::string::npos);
  CAF_CHECK_EQUAL(results["speech"]["opus"]["content_type"], "audio/ogg");
  auto flac = sova::apps::read_file(dir + "/speech.flac");
  CAF_CHECK(starts_with(flac, "fLaC"));
  CAF_CHECK_EQUAL(results["speech"]["flac"]["content_type"], "audio/flac");
  for (const auto* f : {"mp3", "opus", "flac"}) {
    auto decoded = sova::backends::decode_audio(sova::apps::read_file(dir + "/speech." + f), 24000);
    CAF_CHECK(decoded.ok);
    CAF_CHECK_EQUAL(decoded.source_rate, 24000);
    CAF_CHECK_LESS(std::fabs(decoded.duration_s - seconds), 0.15);
  }

  // A real recording in each response_format.
  auto refs = sova::backends::parse_transcription(sova::apps::read_file(testdata + "/transcription"));
  const auto& t = results["transcriptions"];
  CAF_REQUIRE(t["json"].is_object());
  auto text = t["json"].value("text", "");
  auto wer = sova::backends::word_error_rate(refs[recording], text).rate();
  CAF_MESSAGE("LibriVox through the openai client: '" << text << "', WER " << wer);
  CAF_CHECK_LESS_OR_EQUAL(wer, 0.5);  // as the demo's bound (measured 38% there)
  CAF_CHECK_EQUAL(t["text"].get<std::string>(), text + "\n");
  const auto& verbose = t["verbose_json"];
  CAF_CHECK_EQUAL(verbose.value("text", ""), text);
  CAF_CHECK_EQUAL(verbose.value("language", ""), "en");
  CAF_CHECK_GREATER(verbose.value("duration", 0.0), 1.0);
  CAF_REQUIRE(verbose["words"].is_array() && verbose["segments"].is_array());
  CAF_CHECK_GREATER(verbose["words"].size(), 3u);
  CAF_CHECK_GREATER(verbose["segments"].size(), 0u);
  double last = 0;
  for (const auto& w : verbose["words"]) {
    CAF_CHECK_GREATER_OR_EQUAL(w.value("start", -1.0), last);
    CAF_CHECK_GREATER_OR_EQUAL(w.value("end", -1.0), w.value("start", 0.0));
    last = w.value("start", 0.0);
  }
  auto srt = t["srt"].get<std::string>();
  CAF_CHECK(starts_with(srt, "1\n00:00:"));
  CAF_CHECK(srt.find(" --> ") != std::string::npos);
  auto vtt = t["vtt"].get<std::string>();
  CAF_CHECK(starts_with(vtt, "WEBVTT\n\n00:00:"));

  // Synthesised speech, as WAV and as FLAC (the backend decodes either).
  for (const auto* f : {"wav", "flac"}) {
    auto heard = results["synthesised"].value(f, "");
    CAF_MESSAGE("synthesised " << f << " heard as '" << heard << "'");
    CAF_CHECK_GREATER_OR_EQUAL(words_heard(heard), 2u);  // as the demo's round trip
  }

  // Errors reach the client as APIError with OpenAI's fields.
  const auto& e = results["errors"];
  check_error(e["bad_voice"], 400, "invalid_request_error", "backend_refused", "");
  check_error(e["empty_input"], 400, "invalid_request_error", "invalid_value", "input");
  check_error(e["aac"], 400, "invalid_request_error", "unsupported_value", "response_format");
  check_error(e["missing_file"], 400, "invalid_request_error", "missing_file", "file");
  check_error(e["not_audio"], 400, "invalid_request_error", "invalid_audio", "file");
  check_error(e["gpu_model"], 503, "server_error", "no_backend", "");

  auto models = results["models"].dump();
  CAF_CHECK_EQUAL(models, R"(["sova-asr","sova-asr-cpu","sova-tts","sova-tts-cpu"])");

  // Served as the node serves /asr and /synthesize: logged with the OpenAI path.
  CAF_CHECK(contains(node.proc->log(), "/v1/audio/speech"));
  CAF_CHECK(contains(node.proc->log(), "/v1/audio/transcriptions"));
}
