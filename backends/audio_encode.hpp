#pragma once
// A WAV file (what SOVA TTS answers with) into the formats OpenAI's speech endpoint
// offers, in memory: raw PCM, and FLAC, Ogg/Opus and MP3 as Debian's libsndfile 1.2
// writes them (with libFLAC, libopus and LAME). Never throws.

#include <string>
#include <string_view>

namespace sova::backends {

enum class audio_container { pcm_s16le, flac, ogg_opus, mp3 };

/// Every encoding is mono at this rate, OpenAI's (Opus takes 8, 12, 16, 24 or 48 kHz).
inline constexpr int encoded_rate = 24000;

struct encoded_audio {
  bool ok = false;
  std::string bytes;
  std::string error;  // when !ok
};

/// `wav` (any file libsndfile reads) resampled to encoded_rate mono and written as
/// `container`; pcm_s16le is headerless 16-bit little-endian samples.
encoded_audio encode_audio(std::string_view wav, audio_container container);

}  // namespace sova::backends
