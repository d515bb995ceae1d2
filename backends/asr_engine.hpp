#pragma once
// The reference ASR engine: pocketsphinx with the US English model. A decoder is not
// thread-safe; the backend runs one engine per worker process (backends/worker_pool).

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace sova::backends {

struct asr_word {
  std::string word;
  double start_s = 0;
  double end_s = 0;
  double confidence = 0;  ///< posterior probability, 0..1
};

struct asr_result {
  bool ok = false;
  std::string error;
  std::string text;            ///< recognised words separated by single spaces, no fillers
  std::vector<asr_word> words; ///< without silences and fillers (<s>, </s>, <sil>, [NOISE])
  double confidence = 0;       ///< log-scale score of the hypothesis (pocketsphinx's prob)
  double duration_s = 0;       ///< of the audio
};

struct asr_model {
  /// Defaults are the paths of Debian's pocketsphinx-en-us.
  std::string hmm = "/usr/share/pocketsphinx/model/en-us/en-us";
  std::string lm = "/usr/share/pocketsphinx/model/en-us/en-us.lm.bin";
  std::string dict = "/usr/share/pocketsphinx/model/en-us/cmudict-en-us.dict";
};

class asr_engine {
public:
  /// Loads the model (seconds). Throws std::runtime_error naming the missing file.
  explicit asr_engine(const asr_model& model = {});
  ~asr_engine();
  asr_engine(const asr_engine&) = delete;
  asr_engine& operator=(const asr_engine&) = delete;

  static constexpr int sample_rate = 16000;

  /// Recognises 16 kHz mono PCM. Never throws; empty audio gives ok with empty text.
  asr_result recognize(const std::vector<std::int16_t>& pcm16k);

  struct impl;

private:
  std::unique_ptr<impl> impl_;
};

}  // namespace sova::backends
