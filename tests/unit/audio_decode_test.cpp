// Decoding audio files in memory: rate conversion and channel mixing keep length and pitch,
// FLAC and float WAVs decode, and bad bytes give a reason instead of a crash.
#define CAF_SUITE audio_decode
#include "caf/test/unit_test.hpp"

#include <sndfile.h>

#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "backends/audio_decode.hpp"

using namespace sova::backends;

namespace {

constexpr double pi = 3.14159265358979323846;

void put_le(std::string& out, std::uint32_t v, int bytes) {
  for (int i = 0; i < bytes; ++i) out += static_cast<char>((v >> (8 * i)) & 0xff);
}

/// A canonical 44-byte-header PCM WAV; the header fields can be made to lie.
struct wav_header {
  std::uint32_t rate = 16000;
  std::uint16_t channels = 1;
  std::uint16_t bits = 16;
  std::uint32_t data_size = 0xffffffff;  // 0xffffffff: the real size
};

std::string make_wav(const std::vector<std::int16_t>& interleaved, wav_header h = {}) {
  std::string data;
  for (auto s : interleaved) put_le(data, static_cast<std::uint16_t>(s), 2);
  std::uint32_t size = h.data_size == 0xffffffff ? static_cast<std::uint32_t>(data.size())
                                                 : h.data_size;
  std::uint32_t block = h.channels * (h.bits / 8u);
  std::string out = "RIFF";
  put_le(out, 36 + size, 4);
  out += "WAVEfmt ";
  put_le(out, 16, 4);
  put_le(out, 1, 2);  // PCM
  put_le(out, h.channels, 2);
  put_le(out, h.rate, 4);
  put_le(out, h.rate * block, 4);
  put_le(out, block, 2);
  put_le(out, h.bits, 2);
  out += "data";
  put_le(out, size, 4);
  return out + data;
}

/// `seconds` of a sine at `freq` Hz, the same in every channel, interleaved.
std::vector<std::int16_t> sine(int rate, int channels, double freq, double seconds,
                               double amplitude = 16000) {
  auto frames = static_cast<std::size_t>(rate * seconds);
  std::vector<std::int16_t> out;
  out.reserve(frames * channels);
  for (std::size_t i = 0; i < frames; ++i) {
    auto v = static_cast<std::int16_t>(std::lround(amplitude * std::sin(2 * pi * freq * i / rate)));
    for (int c = 0; c < channels; ++c) out.push_back(v);
  }
  return out;
}

/// Sign changes: two per period of a tone.
std::size_t zero_crossings(const std::vector<std::int16_t>& x) {
  std::size_t n = 0;
  for (std::size_t i = 1; i < x.size(); ++i)
    if ((x[i - 1] < 0) != (x[i] < 0)) ++n;
  return n;
}

/// The tone's frequency from its zero crossings.
double measured_freq(const std::vector<std::int16_t>& x, int rate) {
  return zero_crossings(x) / 2.0 / (static_cast<double>(x.size()) / rate);
}

bool near(double value, double expected, double relative) {
  return std::abs(value - expected) <= relative * std::abs(expected);
}

/// A growable in-memory file for libsndfile to write to.
struct memory_sink {
  std::string bytes;
  sf_count_t pos = 0;
};

sf_count_t sink_length(void* u) {
  return static_cast<sf_count_t>(static_cast<memory_sink*>(u)->bytes.size());
}
sf_count_t sink_seek(sf_count_t offset, int whence, void* u) {
  auto* s = static_cast<memory_sink*>(u);
  sf_count_t base = whence == SEEK_SET ? 0 : whence == SEEK_CUR ? s->pos : sink_length(u);
  s->pos = std::max<sf_count_t>(0, base + offset);
  return s->pos;
}
sf_count_t sink_read(void* ptr, sf_count_t count, void* u) {
  auto* s = static_cast<memory_sink*>(u);
  sf_count_t n = std::max<sf_count_t>(0, std::min(count, sink_length(u) - s->pos));
  if (n > 0) std::memcpy(ptr, s->bytes.data() + s->pos, static_cast<std::size_t>(n));
  s->pos += n;
  return n;
}
sf_count_t sink_write(const void* ptr, sf_count_t count, void* u) {
  auto* s = static_cast<memory_sink*>(u);
  auto end = static_cast<std::size_t>(s->pos + count);
  if (s->bytes.size() < end) s->bytes.resize(end);
  std::memcpy(s->bytes.data() + s->pos, ptr, static_cast<std::size_t>(count));
  s->pos += count;
  return count;
}
sf_count_t sink_tell(void* u) { return static_cast<memory_sink*>(u)->pos; }

/// Encodes with libsndfile itself: `format` such as SF_FORMAT_FLAC | SF_FORMAT_PCM_16.
template <class T>
std::string encode(const std::vector<T>& interleaved, int rate, int channels, int format) {
  memory_sink sink;
  SF_VIRTUAL_IO vio{sink_length, sink_seek, sink_read, sink_write, sink_tell};
  SF_INFO info{};
  info.samplerate = rate;
  info.channels = channels;
  info.format = format;
  SNDFILE* f = sf_open_virtual(&vio, SFM_WRITE, &info, &sink);
  if (!f) {
    CAF_FAIL("libsndfile cannot write format " << format << ": " << sf_strerror(nullptr));
  }
  sf_count_t frames = static_cast<sf_count_t>(interleaved.size()) / channels;
  sf_count_t written = 0;
  if constexpr (std::is_same_v<T, float>)
    written = sf_writef_float(f, interleaved.data(), frames);
  else
    written = sf_writef_short(f, interleaved.data(), frames);
  CAF_REQUIRE_EQUAL(written, frames);
  sf_close(f);
  return sink.bytes;
}

/// Requires a refusal with a reason, and reports it.
void check_refused(std::string_view bytes, std::string_view what) {
  auto d = decode_audio(bytes);
  CAF_MESSAGE(what << ": ok=" << d.ok << " error='" << d.error << "'");
  CAF_CHECK(!d.ok);
  CAF_CHECK(!d.error.empty());
  CAF_CHECK(d.samples.empty());
}

}  // namespace

CAF_TEST(stereo_44k_to_16k_mono) {
  auto wav = make_wav(sine(44100, 2, 440, 2.0), {44100, 2, 16});
  auto d = decode_audio(wav, 16000);
  CAF_REQUIRE(d.ok);
  CAF_CHECK_EQUAL(d.source_rate, 44100);
  CAF_CHECK_EQUAL(d.source_channels, 2);
  CAF_CHECK(near(d.duration_s, 2.0, 1e-6));
  CAF_CHECK(near(static_cast<double>(d.samples.size()), 32000, 0.01));
  double f = measured_freq(d.samples, 16000);
  CAF_MESSAGE("440 Hz at 44.1 kHz stereo -> " << d.samples.size() << " samples, " << f << " Hz");
  CAF_CHECK(near(f, 440, 0.01));
  // The amplitude survives conversion (away from the converter's start-up).
  int peak = 0;
  for (std::size_t i = 1000; i < d.samples.size(); ++i)
    peak = std::max(peak, std::abs(static_cast<int>(d.samples[i])));
  CAF_CHECK(near(peak, 16000, 0.03));
}

CAF_TEST(channels_are_averaged) {
  // Left is a tone, right its inverse: the mix is silence, not one channel.
  auto left = sine(16000, 1, 300, 0.5);
  std::vector<std::int16_t> stereo;
  for (auto s : left) {
    stereo.push_back(s);
    stereo.push_back(static_cast<std::int16_t>(-s));
  }
  auto d = decode_audio(make_wav(stereo, {16000, 2, 16}));
  CAF_REQUIRE(d.ok);
  CAF_CHECK_EQUAL(d.samples.size(), left.size());
  int peak = 0;
  for (auto s : d.samples) peak = std::max(peak, std::abs(static_cast<int>(s)));
  CAF_CHECK_LESS_OR_EQUAL(peak, 1);
  // Six channels of the same tone mix to that tone.
  auto six = decode_audio(make_wav(sine(16000, 6, 300, 0.5), {16000, 6, 16}));
  CAF_REQUIRE(six.ok);
  CAF_CHECK_EQUAL(six.source_channels, 6);
  CAF_CHECK(six.samples == left);
}

CAF_TEST(mono_8k_to_16k) {
  auto d = decode_audio(make_wav(sine(8000, 1, 1000, 1.5), {8000, 1, 16}), 16000);
  CAF_REQUIRE(d.ok);
  CAF_CHECK_EQUAL(d.source_rate, 8000);
  CAF_CHECK(near(static_cast<double>(d.samples.size()), 24000, 0.01));
  double f = measured_freq(d.samples, 16000);
  CAF_MESSAGE("1 kHz at 8 kHz -> " << d.samples.size() << " samples, " << f << " Hz");
  CAF_CHECK(near(f, 1000, 0.01));
  // Down as well: 16 kHz -> 8 kHz.
  auto down = decode_audio(make_wav(sine(16000, 1, 1000, 1.0)), 8000);
  CAF_REQUIRE(down.ok);
  CAF_CHECK(near(static_cast<double>(down.samples.size()), 8000, 0.01));
  CAF_CHECK(near(measured_freq(down.samples, 8000), 1000, 0.01));
}

CAF_TEST(same_rate_is_exact) {
  auto pcm = sine(16000, 1, 523, 0.7, 30000);
  pcm.push_back(32767);
  pcm.push_back(-32768);
  auto d = decode_audio(make_wav(pcm));
  CAF_REQUIRE(d.ok);
  CAF_CHECK(d.samples == pcm);
}

CAF_TEST(flac_decodes) {
  auto pcm = sine(22050, 1, 700, 1.0);
  auto flac = encode(pcm, 22050, 1, SF_FORMAT_FLAC | SF_FORMAT_PCM_16);
  CAF_REQUIRE(flac.rfind("fLaC", 0) == 0);
  // Lossless at the same rate.
  auto same = decode_audio(flac, 22050);
  CAF_REQUIRE(same.ok);
  CAF_CHECK(same.samples == pcm);
  auto d = decode_audio(flac, 16000);
  CAF_REQUIRE(d.ok);
  CAF_CHECK(near(static_cast<double>(d.samples.size()), 16000, 0.01));
  CAF_CHECK(near(measured_freq(d.samples, 16000), 700, 0.01));
}

CAF_TEST(ogg_vorbis_decodes) {
  std::vector<float> tone;
  for (int i = 0; i < 48000; ++i) tone.push_back(0.5f * std::sin(2 * pi * 440 * i / 48000.0));
  auto ogg = encode(tone, 48000, 1, SF_FORMAT_OGG | SF_FORMAT_VORBIS);
  auto d = decode_audio(ogg, 16000);
  CAF_REQUIRE(d.ok);
  CAF_CHECK(near(static_cast<double>(d.samples.size()), 16000, 0.01));
  CAF_CHECK(near(measured_freq(d.samples, 16000), 440, 0.01));
}

CAF_TEST(int16_clipping) {
  // A float WAV may hold anything: beyond full scale clips, NaN is silence.
  std::vector<float> values = {0.5f, 1.5f, -1.5f, 1.0f, -1.0f, std::nanf(""), 1e30f, -0.25f};
  auto d = decode_audio(encode(values, 16000, 1, SF_FORMAT_WAV | SF_FORMAT_FLOAT));
  CAF_REQUIRE(d.ok);
  std::vector<std::int16_t> expected = {16384, 32767, -32768, 32767, -32768, 0, 32767, -8192};
  CAF_CHECK_EQUAL(d.samples, expected);
  // A full-scale square wave overshoots when resampled: it must clip, not wrap around
  // (wrapping would add sign changes).
  std::vector<std::int16_t> square;
  for (int i = 0; i < 44100; ++i) square.push_back((i / 441) % 2 ? -32768 : 32767);  // 50 Hz
  auto r = decode_audio(make_wav(square, {44100, 1, 16}), 16000);
  CAF_REQUIRE(r.ok);
  auto [lo, hi] = std::minmax_element(r.samples.begin(), r.samples.end());
  CAF_CHECK_EQUAL(*hi, 32767);
  CAF_CHECK_EQUAL(*lo, -32768);
  CAF_MESSAGE("50 Hz square: " << zero_crossings(r.samples) << " sign changes");
  CAF_CHECK_LESS_OR_EQUAL(zero_crossings(r.samples), 100u);
}

CAF_TEST(bad_bytes_are_refused) {
  check_refused("", "empty");
  check_refused("RIFF", "four bytes");
  check_refused("Hello, this is a text file, not audio.\nIt has two lines.\n", "text");
  std::string text;
  for (int i = 0; i < 200; ++i) text += "The quick brown fox jumps over the lazy dog. ";
  check_refused(text, "long text");
  check_refused(R"({"text": "hello", "voice": "en"})", "json");
  std::mt19937 rng(12345);
  for (std::size_t size : {1u, 44u, 1000u, 65536u}) {
    std::string noise;
    for (std::size_t i = 0; i < size; ++i) noise += static_cast<char>(rng() & 0xff);
    check_refused(noise, "random " + std::to_string(size) + " bytes");
  }
  // A WAV cut inside its header.
  auto wav = make_wav(sine(16000, 1, 440, 0.1));
  check_refused(wav.substr(0, 30), "WAV cut at 30 bytes");
  // Bad requested rates.
  CAF_CHECK(!decode_audio(wav, 0).ok);
  CAF_CHECK(!decode_audio(wav, -16000).ok);
  CAF_CHECK(!decode_audio(wav, 100000000).ok);
}

CAF_TEST(truncated_wav_gives_what_is_there) {
  // The header promises 1 s, the upload stopped after 0.25 s: the samples that arrived.
  auto pcm = sine(16000, 1, 440, 1.0);
  auto wav = make_wav(pcm);
  auto cut = wav.substr(0, 44 + 2 * 4000);
  auto d = decode_audio(cut);
  CAF_MESSAGE("truncated: ok=" << d.ok << " samples=" << d.samples.size() << " error='"
                               << d.error << "'");
  CAF_REQUIRE(d.ok);
  CAF_CHECK_EQUAL(d.samples.size(), 4000u);
  CAF_CHECK(std::equal(d.samples.begin(), d.samples.end(), pcm.begin()));
  // Cut in the middle of a sample: the whole samples only.
  auto odd = decode_audio(wav.substr(0, 44 + 2 * 100 + 1));
  CAF_REQUIRE(odd.ok);
  CAF_CHECK_EQUAL(odd.samples.size(), 100u);
  // Header only: valid and empty.
  auto empty = decode_audio(wav.substr(0, 44));
  CAF_MESSAGE("header only: ok=" << empty.ok << " error='" << empty.error << "'");
  CAF_CHECK(empty.samples.empty());
}

CAF_TEST(lying_headers) {
  auto pcm = sine(16000, 1, 440, 0.1);
  // A data size of 4 GB over 3200 bytes: the bytes there.
  auto big = decode_audio(make_wav(pcm, {16000, 1, 16, 0xfffffff0}));
  CAF_MESSAGE("4 GB data chunk: ok=" << big.ok << " samples=" << big.samples.size());
  if (big.ok) CAF_CHECK_EQUAL(big.samples.size(), pcm.size());
  // Absurd channel counts and rates are refused with a reason.
  check_refused(make_wav(pcm, {16000, 0, 16}), "0 channels");
  check_refused(make_wav(pcm, {16000, 5000, 16}), "5000 channels");
  check_refused(make_wav(pcm, {16000, 65535, 16}), "65535 channels");
  check_refused(make_wav(pcm, {0, 1, 16}), "0 Hz");
  check_refused(make_wav(pcm, {3, 1, 16}), "3 Hz");
  check_refused(make_wav(pcm, {2000000000, 1, 16}), "2 GHz");
  // Odd sample widths must not crash; whatever libsndfile makes of them.
  for (std::uint16_t bits : {0, 1, 7, 12, 64, 65535}) {
    auto d = decode_audio(make_wav(pcm, {16000, 1, bits}));
    CAF_MESSAGE(bits << " bits: ok=" << d.ok << " error='" << d.error << "'");
    CAF_CHECK(d.ok || !d.error.empty());
  }
  // Every prefix of a small file: no crash, and a reason whenever refused.
  auto wav = make_wav(sine(8000, 2, 440, 0.01), {8000, 2, 16});
  for (std::size_t n = 0; n <= wav.size(); ++n) {
    auto d = decode_audio(wav.substr(0, n));
    CAF_CHECK(d.ok || !d.error.empty());
  }
  // Every single-byte corruption of its header: no crash.
  for (std::size_t i = 0; i < 44; ++i)
    for (int v : {0x00, 0x7f, 0x80, 0xff}) {
      auto bad = wav;
      bad[i] = static_cast<char>(v);
      auto d = decode_audio(bad);
      CAF_CHECK(d.ok || !d.error.empty());
    }
}

CAF_TEST(damaged_flac) {
  // Cut and corrupted FLAC files: no crash, and a reason whenever refused. (Not Ogg: Debian
  // 12's libsndfile 1.2.0 leaks 5784 bytes from vorbis_info_init on every Ogg/Vorbis file
  // it fails to open, which LeakSanitizer reports.)
  std::vector<std::int16_t> pcm = sine(16000, 1, 440, 1.0);
  auto flac = encode(pcm, 16000, 1, SF_FORMAT_FLAC | SF_FORMAT_PCM_16);
  for (std::size_t n : {flac.size() / 2, flac.size() / 5, std::size_t{100}, std::size_t{10}}) {
    auto d = decode_audio(flac.substr(0, n));
    CAF_MESSAGE("first " << n << " of " << flac.size() << " bytes: ok=" << d.ok
                         << " samples=" << d.samples.size() << " error='" << d.error << "'");
    CAF_CHECK(d.ok || !d.error.empty());
    CAF_CHECK_LESS_OR_EQUAL(d.samples.size(), pcm.size());
  }
  std::mt19937 rng(7);
  for (int round = 0; round < 100; ++round) {
    auto bad = flac;
    for (int k = 0; k < 10; ++k) bad[rng() % bad.size()] = static_cast<char>(rng() & 0xff);
    auto d = decode_audio(bad);
    CAF_CHECK(d.ok || !d.error.empty());
  }
}

CAF_TEST(too_long_is_refused) {
  // Just over 2 hours at 1 kHz, 8-bit: 7.2 MB of real data.
  const std::size_t frames = 2 * 3600 * 1000 + 1000;
  std::string wav = "RIFF";
  put_le(wav, static_cast<std::uint32_t>(36 + frames), 4);
  wav += "WAVEfmt ";
  put_le(wav, 16, 4);
  put_le(wav, 1, 2);
  put_le(wav, 1, 2);
  put_le(wav, 1000, 4);
  put_le(wav, 1000, 4);
  put_le(wav, 1, 2);
  put_le(wav, 8, 2);
  wav += "data";
  put_le(wav, static_cast<std::uint32_t>(frames), 4);
  wav.append(frames, static_cast<char>(0x80));
  auto t0 = std::chrono::steady_clock::now();
  check_refused(wav, "2 h + 1 s");
  auto s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  CAF_MESSAGE("refused in " << s << " s");
  CAF_CHECK_LESS(s, 5.0);
}
