#include "backends/wav.hpp"

#include <cstddef>
#include <limits>
#include <stdexcept>

namespace sova::backends {

namespace {

// RIFF is little-endian whatever the host is, so bytes are written one by one.
void put_u16(std::string& out, std::uint16_t v) {
  out += static_cast<char>(v & 0xff);
  out += static_cast<char>(v >> 8);
}

void put_u32(std::string& out, std::uint32_t v) {
  for (int shift = 0; shift < 32; shift += 8) out += static_cast<char>((v >> shift) & 0xff);
}

}  // namespace

// Throws std::invalid_argument for a sample rate <= 0 and std::length_error when the data
// does not fit the 32-bit RIFF sizes (over ~2^31 samples): neither can make a valid file.
std::string encode_wav(const std::vector<std::int16_t>& samples, int sample_rate) {
  constexpr std::uint16_t channels = 1, bits = 16, block_align = channels * bits / 8;
  constexpr std::uint32_t header_after_riff_size = 36;  // "WAVE" + fmt chunk + data header
  if (sample_rate <= 0) throw std::invalid_argument("encode_wav: sample rate must be positive");
  const auto rate = static_cast<std::uint32_t>(sample_rate);
  if (samples.size() >
      (std::numeric_limits<std::uint32_t>::max() - header_after_riff_size) / block_align)
    throw std::length_error("encode_wav: too many samples for a RIFF file");
  const auto data_size = static_cast<std::uint32_t>(samples.size() * block_align);
  if (rate > std::numeric_limits<std::uint32_t>::max() / block_align)
    throw std::invalid_argument("encode_wav: sample rate too large");

  std::string out;
  out.reserve(44 + std::size_t{data_size});
  out += "RIFF";
  put_u32(out, header_after_riff_size + data_size);
  out += "WAVE";
  out += "fmt ";
  put_u32(out, 16);  // size of the PCM fmt chunk
  put_u16(out, 1);   // WAVE_FORMAT_PCM
  put_u16(out, channels);
  put_u32(out, rate);
  put_u32(out, rate * block_align);  // byte rate
  put_u16(out, block_align);
  put_u16(out, bits);
  out += "data";
  put_u32(out, data_size);
  for (auto s : samples) put_u16(out, static_cast<std::uint16_t>(s));
  return out;
}

}  // namespace sova::backends
