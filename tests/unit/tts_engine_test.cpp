// The reference TTS backend: WAV encoding, and espeak-ng speech whose duration, loudness
// and pitch follow the request, with bad requests refused and no state carried over.
#define CAF_SUITE tts_engine
#include "caf/test/unit_test.hpp"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "backends/tts_engine.hpp"
#include "backends/wav.hpp"

using namespace sova::backends;

namespace {

std::uint32_t u32_at(const std::string& s, std::size_t i) {
  std::uint32_t v = 0;
  for (int k = 3; k >= 0; --k) v = (v << 8) | static_cast<unsigned char>(s[i + k]);
  return v;
}

std::uint16_t u16_at(const std::string& s, std::size_t i) {
  return static_cast<std::uint16_t>(static_cast<unsigned char>(s[i]) |
                                    static_cast<unsigned char>(s[i + 1]) << 8);
}

/// Checks every field of the 44-byte header of a mono 16-bit file.
void check_header(const std::string& wav, std::uint32_t rate, std::uint32_t n_samples) {
  CAF_REQUIRE_EQUAL(wav.size(), 44u + 2 * n_samples);
  CAF_CHECK_EQUAL(wav.substr(0, 4), "RIFF");
  CAF_CHECK_EQUAL(u32_at(wav, 4), 36u + 2 * n_samples);
  CAF_CHECK_EQUAL(wav.substr(8, 4), "WAVE");
  CAF_CHECK_EQUAL(wav.substr(12, 4), "fmt ");
  CAF_CHECK_EQUAL(u32_at(wav, 16), 16u);  // fmt chunk size
  CAF_CHECK_EQUAL(u16_at(wav, 20), 1u);   // PCM
  CAF_CHECK_EQUAL(u16_at(wav, 22), 1u);   // channels
  CAF_CHECK_EQUAL(u32_at(wav, 24), rate);
  CAF_CHECK_EQUAL(u32_at(wav, 28), rate * 2);  // byte rate
  CAF_CHECK_EQUAL(u16_at(wav, 32), 2u);        // block align
  CAF_CHECK_EQUAL(u16_at(wav, 34), 16u);       // bits per sample
  CAF_CHECK_EQUAL(wav.substr(36, 4), "data");
  CAF_CHECK_EQUAL(u32_at(wav, 40), 2 * n_samples);
}

/// The one engine of this process: espeak-ng cannot run two.
tts_engine& engine() {
  static tts_engine e;
  return e;
}

tts_params request(std::string text, std::string voice = "Natasha") {
  tts_params p;
  p.text = std::move(text);
  p.voice = std::move(voice);
  return p;
}

/// Synthesises and requires success, reporting the error otherwise.
tts_result speak(const tts_params& p) {
  auto r = engine().synthesize(p);
  if (!r.ok) CAF_FAIL("synthesis of \"" << p.text << "\" failed: " << r.error);
  CAF_REQUIRE_EQUAL(r.sample_rate, 22050);
  CAF_REQUIRE(!r.samples.empty());
  CAF_CHECK_EQUAL(r.duration_s, static_cast<double>(r.samples.size()) / r.sample_rate);
  return r;
}

/// Synthesises and requires a refusal whose message contains `expected`.
void refused(const tts_params& p, const std::string& expected) {
  auto r = engine().synthesize(p);
  CAF_CHECK(!r.ok);
  CAF_CHECK(r.samples.empty());
  if (r.error.find(expected) == std::string::npos)
    CAF_ERROR("error '" << r.error << "' does not mention '" << expected << "'");
}

int peak(const std::vector<std::int16_t>& s) {
  int out = 0;
  for (auto x : s) out = std::max(out, std::abs(int{x}));
  return out;
}

/// Median fundamental frequency of the voiced 46 ms frames, by autocorrelation over
/// 60..400 Hz; 0 when nothing is voiced.
double median_f0(const std::vector<std::int16_t>& s, int rate) {
  constexpr std::size_t frame = 1024;
  const int min_lag = rate / 400, max_lag = rate / 60;
  std::vector<double> f0s;
  for (std::size_t start = 0; start + frame + max_lag < s.size(); start += frame / 2) {
    auto at = [&](std::size_t i) { return static_cast<double>(s[start + i]); };
    double energy = 0;
    for (std::size_t i = 0; i < frame; ++i) energy += at(i) * at(i);
    if (std::sqrt(energy / frame) < 1000) continue;  // silence or unvoiced
    double best = 0;
    int best_lag = 0;
    for (int lag = min_lag; lag <= max_lag; ++lag) {
      double corr = 0, lagged = 0;
      for (std::size_t i = 0; i < frame; ++i) {
        corr += at(i) * at(i + lag);
        lagged += at(i + lag) * at(i + lag);
      }
      double r = corr / std::sqrt(energy * lagged + 1);
      if (r > best) {
        best = r;
        best_lag = lag;
      }
    }
    if (best > 0.6) f0s.push_back(static_cast<double>(rate) / best_lag);
  }
  if (f0s.empty()) return 0;
  std::sort(f0s.begin(), f0s.end());
  return f0s[f0s.size() / 2];
}

std::string error_of_construction(const std::string& data_path) {
  try {
    tts_engine e(data_path);
  } catch (const std::runtime_error& e) {
    return e.what();
  }
  return "";
}

const std::string dobryi_den = "Добрый день";

}  // namespace

// ---- WAV ----

CAF_TEST(wav_header_fields) {
  std::vector<std::int16_t> samples{0, 1, -1, 0x1234, -32768, 32767};
  check_header(encode_wav(samples, 22050), 22050, 6);
  check_header(encode_wav(samples, 16000), 16000, 6);
}

CAF_TEST(wav_samples_are_little_endian) {
  auto wav = encode_wav({0, 1, -1, 0x1234, -32768, 32767}, 22050);
  CAF_REQUIRE_EQUAL(wav.size(), 56u);
  const unsigned char expected[] = {0x00, 0x00, 0x01, 0x00, 0xff, 0xff,
                                    0x34, 0x12, 0x00, 0x80, 0xff, 0x7f};
  for (std::size_t i = 0; i < sizeof expected; ++i)
    CAF_CHECK_EQUAL(static_cast<unsigned char>(wav[44 + i]), expected[i]);
}

CAF_TEST(wav_of_no_samples_is_a_valid_empty_file) {
  auto wav = encode_wav({}, 22050);
  CAF_CHECK_EQUAL(wav.size(), 44u);
  check_header(wav, 22050, 0);
}

CAF_TEST(wav_refuses_a_rate_that_is_not_positive) {
  for (int rate : {0, -1}) {
    bool thrown = false;
    try {
      encode_wav({1, 2}, rate);
    } catch (const std::invalid_argument&) {
      thrown = true;
    }
    CAF_CHECK(thrown);
  }
}

// ---- engine construction ----

// First on purpose: a wrong data path is refused before espeak-ng runs, so the engine
// below can still start.
CAF_TEST(wrong_data_path_throws) {
  auto error = error_of_construction("/nonexistent/espeak-ng-data");
  CAF_CHECK(!error.empty());
  CAF_MESSAGE("wrong data path: " << error);
}

CAF_TEST(second_engine_throws) {
  engine();
  auto error = error_of_construction("");
  CAF_CHECK(error.find("already exists") != std::string::npos);
  CAF_MESSAGE("second engine: " << error);
  // The first one is unharmed.
  CAF_CHECK_GREATER(speak(request("still here", "en-us")).duration_s, 0.3);
}

CAF_TEST(sova_voice_names) {
  CAF_CHECK_EQUAL(tts_engine::sova_voices(), (std::vector<std::string>{"Natasha", "Ruslan"}));
}

// ---- speech ----

CAF_TEST(english_sentence_has_a_plausible_duration) {
  auto r = speak(request("hello world, this is a test", "en-us"));
  CAF_MESSAGE("en-us: " << r.duration_s << " s, peak " << peak(r.samples) << ", f0 "
                        << median_f0(r.samples, r.sample_rate) << " Hz");
  CAF_CHECK_GREATER(r.duration_s, 1.0);
  CAF_CHECK_LESS(r.duration_s, 4.0);
  CAF_CHECK_GREATER(peak(r.samples), 5000);  // speech, not near-silence
}

CAF_TEST(natasha_and_ruslan_speak_russian_in_different_voices) {
  auto natasha = speak(request(dobryi_den, "Natasha"));
  auto ruslan = speak(request(dobryi_den, "Ruslan"));
  auto f0_n = median_f0(natasha.samples, natasha.sample_rate);
  auto f0_r = median_f0(ruslan.samples, ruslan.sample_rate);
  CAF_MESSAGE("Natasha: " << natasha.duration_s << " s, f0 " << f0_n << " Hz; Ruslan: "
                          << ruslan.duration_s << " s, f0 " << f0_r << " Hz");
  for (auto d : {natasha.duration_s, ruslan.duration_s}) {
    CAF_CHECK_GREATER(d, 0.3);
    CAF_CHECK_LESS(d, 2.0);
  }
  // A female voice: clearly higher pitch than the male one, each in its usual range.
  CAF_CHECK_GREATER(f0_n, 1.4 * f0_r);
  CAF_CHECK_GREATER(f0_r, 70);
  CAF_CHECK_LESS(f0_r, 160);
  CAF_CHECK_GREATER(f0_n, 150);
  CAF_CHECK_LESS(f0_n, 320);
  CAF_CHECK_NOT_EQUAL(natasha.samples, ruslan.samples);
  // SOVA names are not case-sensitive.
  CAF_CHECK_GREATER(median_f0(speak(request(dobryi_den, "natasha")).samples, 22050),
                    1.4 * f0_r);
}

CAF_TEST(espeak_voice_names_work) {
  for (std::string voice : {"en-us", "EN-US", "ru", "de", "ru+f2", "en-us+klatt", "zle/ru"}) {
    auto r = engine().synthesize(request("one two three", voice));
    if (!r.ok) CAF_ERROR("voice " << voice << ": " << r.error);
    CAF_CHECK_GREATER(r.duration_s, 0.4);
  }
}

CAF_TEST(rate_changes_duration) {
  auto p = request("hello world, this is a test", "en-us");
  p.rate = 2.0;
  auto fast = speak(p);
  p.rate = 0.5;
  auto slow = speak(p);
  CAF_MESSAGE("rate 2.0: " << fast.duration_s << " s, rate 0.5: " << slow.duration_s << " s");
  CAF_CHECK_LESS(fast.duration_s, 0.5 * slow.duration_s);
  // Beyond espeak's range the rate is clamped, not refused.
  p.rate = 1e300;
  auto fastest = speak(p);
  CAF_CHECK_LESS_OR_EQUAL(fastest.duration_s, fast.duration_s);
  p.rate = 1e-300;
  auto slowest = speak(p);
  CAF_CHECK_GREATER_OR_EQUAL(slowest.duration_s, slow.duration_s);
}

CAF_TEST(volume_changes_amplitude) {
  auto p = request(dobryi_den, "Ruslan");
  p.volume = 6;
  auto loud = speak(p);
  p.volume = -12;
  auto quiet = speak(p);
  CAF_MESSAGE("peak at +6 dB: " << peak(loud.samples) << ", at -12 dB: " << peak(quiet.samples));
  CAF_CHECK_GREATER(peak(loud.samples), 3 * peak(quiet.samples));
  p.volume = -200;  // espeak volume 0: silence of the same length
  auto silent = speak(p);
  CAF_CHECK_EQUAL(peak(silent.samples), 0);
  p.volume = 1e9;  // clamped
  CAF_CHECK_GREATER(peak(speak(p).samples), peak(quiet.samples));
}

CAF_TEST(pitch_changes_fundamental_frequency) {
  auto p = request(dobryi_den, "Ruslan");
  p.pitch = 1.5;
  auto high = median_f0(speak(p).samples, 22050);
  p.pitch = 0.5;
  auto low = median_f0(speak(p).samples, 22050);
  CAF_MESSAGE("f0 at pitch 1.5: " << high << " Hz, at 0.5: " << low << " Hz");
  CAF_CHECK_GREATER(high, 1.3 * low);
  p.pitch = 0;  // the lowest espeak pitch, still speech
  CAF_CHECK_GREATER(speak(p).duration_s, 0.3);
}

// ---- refusals ----

CAF_TEST(unknown_voice_is_refused_naming_the_known_ones) {
  auto r = engine().synthesize(request("hello", "Xyz"));
  CAF_CHECK(!r.ok);
  CAF_MESSAGE("unknown voice: " << r.error);
  for (auto word : {"\"Xyz\"", "Natasha", "Ruslan", "en-us"})
    CAF_CHECK(r.error.find(word) != std::string::npos);
  // Names espeak_ng_SetVoiceByName itself would half-accept: a directory of voices, a
  // variant alone, an unknown variant, an MBROLA voice, a path, a number variant.
  for (std::string voice : {"zle", "f3", "ru+nosuch", "ru+F3", "ru+", "mb-en1", "mb",
                            "../../../etc/passwd", "ru+../../phontab", "ru+3", "", "+f3"})
    refused(request("hello", voice), "unknown voice");
  // A huge or binary name is quoted short and printable.
  r = engine().synthesize(request("hello", std::string(5000, 'x') + "\n\xff"));
  CAF_CHECK(!r.ok);
  CAF_CHECK_LESS(r.error.size(), 300u);
  CAF_CHECK(r.error.find('\n') == std::string::npos);
}

CAF_TEST(empty_text_is_refused) {
  refused(request(""), "text is empty");
  refused(request("  \t\r\n "), "text is empty");
  refused(request(std::string("\0\0 \x01", 4)), "text is empty");
}

CAF_TEST(bad_numbers_are_refused) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const double inf = std::numeric_limits<double>::infinity();
  for (double rate : {nan, inf, -inf, 0.0, -1.0}) {
    auto p = request("hello");
    p.rate = rate;
    refused(p, "rate");
  }
  for (double pitch : {nan, inf, -0.5}) {
    auto p = request("hello");
    p.pitch = pitch;
    refused(p, "pitch");
  }
  for (double volume : {nan, inf, -inf}) {
    auto p = request("hello");
    p.volume = volume;
    refused(p, "volume");
  }
}

// ---- no leaks between requests, text as data ----

CAF_TEST(nothing_carries_over_between_requests) {
  auto baseline = speak(request(dobryi_den));
  auto base_f0 = median_f0(baseline.samples, 22050);
  // An odd request in every respect, then refused ones.
  auto odd = request("something else entirely", "en-us+klatt");
  odd.rate = 3, odd.pitch = 2, odd.volume = -20;
  speak(odd);
  refused(request("hello", "Xyz"), "unknown voice");
  auto nan_rate = request("hello", "de");
  nan_rate.rate = std::numeric_limits<double>::quiet_NaN();
  refused(nan_rate, "rate");
  auto again = speak(request(dobryi_den));
  auto again_f0 = median_f0(again.samples, 22050);
  CAF_MESSAGE("default before: " << baseline.duration_s << " s, f0 " << base_f0
                                 << " Hz, peak " << peak(baseline.samples) << "; after: "
                                 << again.duration_s << " s, f0 " << again_f0 << " Hz, peak "
                                 << peak(again.samples));
  // Speech identical; only the trailing silence may differ by some 50 ms: espeak-ng keeps
  // end-of-utterance state that some texts change ("something else entirely" does) and
  // that no API call resets. A leaked rate would change the length several-fold.
  CAF_CHECK_LESS(std::abs(again.duration_s - baseline.duration_s), 0.1);
  CAF_CHECK_LESS(std::abs(again_f0 - base_f0), 0.1 * base_f0);
  CAF_CHECK_GREATER(peak(again.samples), peak(baseline.samples) / 2);
  CAF_CHECK_LESS(peak(again.samples), 2 * peak(baseline.samples));
}

CAF_TEST(text_cannot_carry_commands) {
  // ctrl-A starts an espeak embedded command: "\x01" "200A" would set the amplitude to 200.
  auto p = request(std::string("one \x01" "200A two three"), "en-us");
  p.volume = -12;
  auto injected = speak(p);
  p.text = "one two three";
  auto plain = speak(p);
  CAF_MESSAGE("peak with ctrl-A command: " << peak(injected.samples) << ", without: "
                                           << peak(plain.samples));
  CAF_CHECK_LESS(peak(injected.samples), 2 * peak(plain.samples));
  // SSML is not interpreted: the break is read out, not waited for.
  auto ssml = speak(request("a <break time=\"10s\"/> b", "en-us"));
  CAF_CHECK_LESS(ssml.duration_s, 8.0);
}

CAF_TEST(embedded_nul_is_read_as_a_space) {
  auto hello = speak(request("hello", "en-us"));
  auto both = speak(request(std::string("hello\0world, and more words", 27), "en-us"));
  CAF_MESSAGE("hello: " << hello.duration_s << " s, hello\\0world...: " << both.duration_s
                        << " s");
  CAF_CHECK_GREATER(both.duration_s, 2 * hello.duration_s);
}

CAF_TEST(malformed_utf8_is_spoken_not_fatal) {
  auto r = engine().synthesize(request("\xff\xfe hello \xc3", "en-us"));
  CAF_CHECK(r.ok);
  CAF_CHECK_GREATER(r.duration_s, 0.2);
  auto truncated = engine().synthesize(request("привет \xd0", "ru"));
  CAF_CHECK(truncated.ok);
}

CAF_TEST(long_text_scales) {
  const std::string sentence = "This is a sentence of moderate length. ";
  auto one = speak(request(sentence, "en-us"));
  std::string text;
  for (int i = 0; i < 30; ++i) text += sentence;
  auto many = speak(request(text, "en-us"));
  CAF_MESSAGE("1 sentence: " << one.duration_s << " s, 30 sentences (" << text.size()
                             << " bytes): " << many.duration_s << " s");
  CAF_CHECK_GREATER(many.duration_s, 20 * one.duration_s);
  CAF_CHECK_LESS(many.duration_s, 40 * one.duration_s);
}

CAF_TEST(concurrent_calls_are_serialised) {
  std::vector<tts_result> results(4);
  std::vector<std::thread> threads;
  for (std::size_t i = 0; i < results.size(); ++i)
    threads.emplace_back([&results, i] {
      results[i] = engine().synthesize(request(dobryi_den, i % 2 ? "Ruslan" : "Natasha"));
    });
  for (auto& t : threads) t.join();
  for (std::size_t i = 0; i < results.size(); ++i) {
    CAF_CHECK(results[i].ok);
    CAF_CHECK_GREATER(results[i].duration_s, 0.3);
    CAF_CHECK_LESS(results[i].duration_s, 2.0);
  }
  CAF_CHECK_GREATER(median_f0(results[0].samples, 22050),
                    1.4 * median_f0(results[1].samples, 22050));
}
