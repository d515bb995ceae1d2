#include "backends/audio_decode.hpp"

#include <samplerate.h>
#include <sndfile.h>

#include <cmath>
#include <memory>

#include "backends/sndfile_memory.hpp"

// A file is usable when libsndfile opens it and reads it without reporting an error. A
// cut-off upload is accepted with what arrived, as players do: libsndfile clamps the
// length to the bytes present. The limits keep a small compressed file from making us
// produce gigabytes.

namespace sova::backends {

namespace {

constexpr double max_duration_s = 2 * 3600;
constexpr int max_channels = 64;
constexpr int min_rate = 1000;
constexpr int max_rate = 384000;
// SINC_MEDIUM passes 90% of the output's Nyquist band: at 16 kHz up to 7.2 kHz, which
// covers the en-us model's filterbank (130-6800 Hz); SINC_FASTEST (80%, 6.4 kHz) would
// not. Measured 44.1 -> 16 kHz: FASTEST 9 ms, MEDIUM 19 ms, BEST 106 ms per second of
// audio, against ~350 ms for recognising it; same WER on the LibriVox recordings.
constexpr int converter = SRC_SINC_MEDIUM_QUALITY;
constexpr sf_count_t block_frames = 4096;

struct src_deleter {
  void operator()(SRC_STATE* s) const { src_delete(s); }
};

std::int16_t to_int16(float x) {
  if (std::isnan(x)) return 0;  // float files can hold anything
  float scaled = x * 32768.0f;  // libsndfile reads 16-bit PCM as n / 32768
  if (scaled >= 32767.0f) return 32767;
  if (scaled <= -32768.0f) return -32768;
  return static_cast<std::int16_t>(std::lrint(scaled));
}

decoded_audio failure(decoded_audio out, std::string why) {
  out.ok = false;
  out.error = std::move(why);
  out.samples.clear();
  out.samples.shrink_to_fit();
  return out;
}

}  // namespace

decoded_audio decode_audio(std::string_view file, int rate) {
  decoded_audio out;
  if (rate < min_rate || rate > max_rate)
    return failure(std::move(out), "unsupported output rate " + std::to_string(rate));
  if (file.empty()) return failure(std::move(out), "empty audio file");

  sndfile_memory mem(file);
  SF_INFO info{};
  auto snd = mem.open(SFM_READ, info);
  if (!snd)
    return failure(std::move(out),
                   std::string("not a readable audio file: ") + sf_strerror(nullptr));

  out.source_rate = info.samplerate;
  out.source_channels = info.channels;
  if (info.channels < 1 || info.channels > max_channels)
    return failure(std::move(out), "unsupported channel count " + std::to_string(info.channels));
  if (info.samplerate < min_rate || info.samplerate > max_rate)
    return failure(std::move(out),
                   "unsupported sample rate " + std::to_string(info.samplerate) + " Hz");
  const double ratio = static_cast<double>(rate) / info.samplerate;
  if (!src_is_valid_ratio(ratio))
    return failure(std::move(out), "cannot convert " + std::to_string(info.samplerate) +
                                       " Hz to " + std::to_string(rate) + " Hz");

  const auto max_frames = static_cast<sf_count_t>(max_duration_s * info.samplerate);
  const std::string too_long =
      "audio longer than " + std::to_string(static_cast<int>(max_duration_s)) + " s";
  if (info.frames > max_frames && info.frames != SF_COUNT_MAX)
    return failure(std::move(out), too_long);
  if (info.frames > 0 && info.frames <= max_frames)
    out.samples.reserve(static_cast<std::size_t>(std::ceil(info.frames * ratio)) + 16);

  std::unique_ptr<SRC_STATE, src_deleter> src;
  if (info.samplerate != rate) {
    int err = 0;
    src.reset(src_new(converter, 1, &err));
    if (!src) return failure(std::move(out), std::string("resampler: ") + src_strerror(err));
  }

  const auto channels = static_cast<std::size_t>(info.channels);
  std::vector<float> interleaved(static_cast<std::size_t>(block_frames) * channels);
  std::vector<float> mono(static_cast<std::size_t>(block_frames));
  std::vector<float> converted(static_cast<std::size_t>(std::ceil(block_frames * ratio)) + 64);
  sf_count_t total = 0;
  for (bool end = false; !end;) {
    sf_count_t got = sf_readf_float(snd.get(), interleaved.data(), block_frames);
    if (got < 0) got = 0;
    end = got == 0;
    total += got;
    if (total > max_frames) return failure(std::move(out), too_long);

    for (sf_count_t i = 0; i < got; ++i) {
      const float* frame = interleaved.data() + static_cast<std::size_t>(i) * channels;
      float sum = 0;
      for (std::size_t c = 0; c < channels; ++c) sum += frame[c];
      mono[static_cast<std::size_t>(i)] = sum / static_cast<float>(channels);
    }

    if (!src) {
      for (sf_count_t i = 0; i < got; ++i)
        out.samples.push_back(to_int16(mono[static_cast<std::size_t>(i)]));
      continue;
    }
    // Feed the block; at the end keep calling until the converter has flushed its tail.
    SRC_DATA data{};
    data.data_in = mono.data();
    data.input_frames = static_cast<long>(got);
    data.src_ratio = ratio;
    data.end_of_input = end ? 1 : 0;
    for (;;) {
      data.data_out = converted.data();
      data.output_frames = static_cast<long>(converted.size());
      if (int err = src_process(src.get(), &data))
        return failure(std::move(out), std::string("resampler: ") + src_strerror(err));
      for (long i = 0; i < data.output_frames_gen; ++i)
        out.samples.push_back(to_int16(converted[static_cast<std::size_t>(i)]));
      data.data_in += data.input_frames_used;
      data.input_frames -= data.input_frames_used;
      if (data.input_frames == 0 && (!end || data.output_frames_gen == 0)) break;
      // No progress with input left would loop forever; libsamplerate should never.
      if (data.input_frames_used == 0 && data.output_frames_gen == 0) break;
    }
  }
  if (int err = sf_error(snd.get()))
    return failure(std::move(out), std::string("decoding failed: ") + sf_error_number(err));

  out.duration_s = static_cast<double>(total) / info.samplerate;
  out.ok = true;
  return out;
}

}  // namespace sova::backends
