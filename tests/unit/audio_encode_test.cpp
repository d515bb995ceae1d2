// The speech formats of /v1/audio/speech as libsndfile writes them in memory: each one's
// header, and each decodes back (libsndfile reads all four) to the same length and pitch.
#define CAF_SUITE audio_encode
#include "caf/test/unit_test.hpp"

#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "backends/audio_decode.hpp"
#include "backends/audio_encode.hpp"
#include "backends/wav.hpp"

using namespace sova::backends;

namespace {

constexpr double pi = 3.14159265358979323846;

/// `seconds` of a 440 Hz sine at 22050 Hz, as the reference TTS backend's WAV.
std::string tone_wav(double seconds) {
  std::vector<std::int16_t> s(static_cast<std::size_t>(seconds * 22050));
  for (std::size_t i = 0; i < s.size(); ++i)
    s[i] = static_cast<std::int16_t>(12000 * std::sin(2 * pi * 440 * i / 22050.0));
  return encode_wav(s, 22050);
}

/// Zero crossings per second of mono samples at `rate`: twice the frequency of a sine.
double crossings_per_second(const std::vector<std::int16_t>& s, int rate) {
  int n = 0;
  for (std::size_t i = 1; i < s.size(); ++i) n += (s[i - 1] < 0) != (s[i] < 0);
  return n * static_cast<double>(rate) / static_cast<double>(s.size());
}

bool starts_with(const std::string& s, std::string_view prefix) {
  return s.compare(0, prefix.size(), prefix) == 0;
}

/// Decoded back: about `seconds` long (codecs pad a little) and still 440 Hz.
void check_round_trip(const std::string& file, double seconds) {
  auto back = decode_audio(file, encoded_rate);
  CAF_REQUIRE(back.ok);
  CAF_CHECK_EQUAL(back.source_rate, encoded_rate);
  CAF_CHECK_EQUAL(back.source_channels, 1);
  CAF_CHECK_LESS(std::fabs(back.duration_s - seconds), 0.1);
  CAF_CHECK_LESS(std::fabs(crossings_per_second(back.samples, encoded_rate) - 880), 30);
}

}  // namespace

CAF_TEST(pcm is headerless 16 bit little endian at 24 kHz) {
  auto out = encode_audio(tone_wav(1.0), audio_container::pcm_s16le);
  CAF_REQUIRE(out.ok);
  CAF_CHECK_EQUAL(out.bytes.size(), 2u * encoded_rate);
  std::vector<std::int16_t> s(out.bytes.size() / 2);
  for (std::size_t i = 0; i < s.size(); ++i)
    s[i] = static_cast<std::int16_t>(static_cast<unsigned char>(out.bytes[2 * i]) |
                                     (static_cast<unsigned char>(out.bytes[2 * i + 1]) << 8));
  CAF_CHECK_LESS(std::fabs(crossings_per_second(s, encoded_rate) - 880), 30);
}

CAF_TEST(flac) {
  auto out = encode_audio(tone_wav(1.5), audio_container::flac);
  CAF_REQUIRE(out.ok);
  CAF_CHECK(starts_with(out.bytes, "fLaC"));
  check_round_trip(out.bytes, 1.5);
}

CAF_TEST(ogg opus) {
  auto out = encode_audio(tone_wav(1.5), audio_container::ogg_opus);
  CAF_REQUIRE(out.ok);
  CAF_CHECK(starts_with(out.bytes, "OggS"));
  CAF_CHECK(out.bytes.find("OpusHead") != std::string::npos);
  check_round_trip(out.bytes, 1.5);
}

CAF_TEST(mp3) {
  auto out = encode_audio(tone_wav(1.5), audio_container::mp3);
  CAF_REQUIRE(out.ok);
  // An ID3 tag or straight away an MPEG frame sync (11 bits set).
  bool id3 = starts_with(out.bytes, "ID3");
  bool sync = out.bytes.size() > 1 && static_cast<unsigned char>(out.bytes[0]) == 0xFF &&
              (static_cast<unsigned char>(out.bytes[1]) & 0xE0) == 0xE0;
  CAF_CHECK(id3 || sync);
  check_round_trip(out.bytes, 1.5);
}

CAF_TEST(what is not audio is refused with a reason) {
  for (auto c : {audio_container::pcm_s16le, audio_container::flac, audio_container::ogg_opus,
                 audio_container::mp3}) {
    auto out = encode_audio("this is not a wav file at all", c);
    CAF_CHECK(!out.ok);
    CAF_CHECK(!out.error.empty());
    CAF_CHECK(out.bytes.empty());
  }
}
