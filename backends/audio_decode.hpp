#pragma once
// Audio files in memory -> 16-bit mono PCM at the rate a recogniser wants: libsndfile
// reads the container (WAV, FLAC, OGG, ... whatever it supports) and libsamplerate
// converts the rate. Never throws, never crashes on bad bytes.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace sova::backends {

struct decoded_audio {
  bool ok = false;
  std::string error;  ///< when !ok: why the bytes are not usable audio
  std::vector<std::int16_t> samples;  ///< mono, at the requested rate
  int source_rate = 0;
  int source_channels = 0;
  double duration_s = 0;
};

/// Decodes a whole audio file held in `file` into mono (channels averaged) at `rate` Hz,
/// int16 with clipping. A WAV cut short (its header promises more data than follows)
/// gives ok with the samples really there. Refused with a reason: bytes that are not a
/// supported format, a header cut short, data libsndfile reports damaged (a FLAC cut
/// short is), 0 or more than 64 channels, a source or output rate outside 1 kHz to
/// 384 kHz, and more than 2 hours of audio.
decoded_audio decode_audio(std::string_view file, int rate = 16000);

}  // namespace sova::backends
