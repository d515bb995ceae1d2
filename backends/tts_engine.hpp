#pragma once
// The reference TTS engine: espeak-ng turning text into 16-bit PCM. espeak-ng keeps its
// state in globals, so a process holds at most one engine; the backend runs one engine
// per worker process (backends/worker_pool). espeak-ng 1.51 cannot be shut down twice
// (the second espeak_ng_Terminate hangs on its queue thread), so once an engine has been
// destroyed no other one can start in that process either.

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace sova::backends {

struct tts_params {
  std::string text;              ///< UTF-8
  std::string voice = "Natasha"; ///< SOVA name (Natasha, Ruslan) or any espeak-ng voice name
  double rate = 1.0;             ///< speed factor; 1.0 = espeak's normal 175 words/min
  double pitch = 1.0;            ///< base-pitch factor; 1.0 = espeak's 50
  double volume = 0.0;           ///< gain in dB; 0.0 = espeak's normal volume
};

struct tts_result {
  bool ok = false;
  std::string error;  ///< when !ok: what was wrong (unknown voice names the known ones)
  std::vector<std::int16_t> samples;  ///< mono
  int sample_rate = 0;
  double duration_s = 0;  ///< samples / sample_rate
};

class tts_engine {
public:
  /// Loads espeak-ng (its data from `data_path`, or the system's when empty). Throws
  /// std::runtime_error when espeak-ng cannot start or an engine already exists here.
  explicit tts_engine(const std::string& data_path = "");
  ~tts_engine();
  tts_engine(const tts_engine&) = delete;
  tts_engine& operator=(const tts_engine&) = delete;

  /// Synthesises `p`. Never throws: bad parameters (unknown voice, empty text, rate,
  /// pitch or volume that are not finite) give !ok with a message. The text is plain
  /// UTF-8, never markup: control characters (NUL included) are read as spaces, so
  /// neither SSML nor espeak's ctrl-A commands can reach the synthesiser. Serialised:
  /// calls from several threads wait for each other.
  tts_result synthesize(const tts_params& p);

  /// The SOVA voice names this engine maps onto espeak voices ("Natasha", "Ruslan").
  static const std::vector<std::string>& sova_voices();

  struct impl;

private:
  std::unique_ptr<impl> impl_;
};

}  // namespace sova::backends
