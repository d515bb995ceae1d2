#pragma once
// RIFF/WAVE files of 16-bit PCM: what the reference TTS backend answers with. Pure code.

#include <cstdint>
#include <string>
#include <vector>

namespace sova::backends {

/// A complete WAV file (44-byte RIFF header + data) of mono 16-bit little-endian PCM.
std::string encode_wav(const std::vector<std::int16_t>& samples, int sample_rate);

}  // namespace sova::backends
