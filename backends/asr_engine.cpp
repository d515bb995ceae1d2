#include "backends/asr_engine.hpp"

#include <pocketsphinx.h>

#include <algorithm>
#include <exception>
#include <filesystem>
#include <stdexcept>
#include <utility>

namespace sova::backends {

namespace {

// Long audio is cut into pieces of at most max_chunk_s, at the quietest 200 ms of each
// piece's last search_window_s, and each piece is decoded as its own utterance: memory
// grows with an utterance's length (backpointer table, lattice), ~19 MB a minute, which
// for the 2 hours audio_decode allows would be gigabytes. Measured on 6 minutes of
// LibriVox speech: one utterance WER 0.296 and 237 MB; 120 s pieces 0.305, 158 MB; 60 s
// pieces 0.305, 140 MB; 30 s pieces 0.322, 133 MB; the same CPU time within noise.
constexpr double max_chunk_s = 60;
constexpr double search_window_s = 10;

using span = std::pair<std::size_t, std::size_t>;  // [begin, end) in samples

std::vector<span> split_at_pauses(const std::vector<std::int16_t>& pcm) {
  constexpr std::size_t rate = asr_engine::sample_rate;
  constexpr auto max_len = static_cast<std::size_t>(max_chunk_s * rate);
  constexpr auto window = static_cast<std::size_t>(search_window_s * rate);
  constexpr std::size_t quiet_len = rate / 5;  // the pause we look for: 200 ms
  constexpr std::size_t step = rate / 100;     // one 10 ms frame
  std::vector<span> out;
  std::size_t begin = 0;
  while (pcm.size() - begin > max_len) {
    // Slide a 200 ms window in 10 ms steps over [begin + max_len - window, begin + max_len)
    // and cut in the middle of the one with the least energy.
    std::size_t from = begin + max_len - window, to = begin + max_len - quiet_len;
    std::size_t best = begin + max_len;
    double best_energy = -1;
    for (std::size_t at = from; at <= to; at += step) {
      double energy = 0;
      for (std::size_t i = at; i < at + quiet_len; ++i)
        energy += static_cast<double>(pcm[i]) * pcm[i];
      if (best_energy < 0 || energy < best_energy) {
        best_energy = energy;
        best = at + quiet_len / 2;
      }
    }
    out.emplace_back(begin, best);
    begin = best;
  }
  out.emplace_back(begin, pcm.size());
  return out;
}

// Digital silence (a flat line, give or take the last bits): there is nothing to hear, and
// the decoder, whose features are normalised to the audio's own mean, finds a word in it.
bool is_flat(const std::vector<std::int16_t>& pcm, span range) {
  auto [lo, hi] = std::minmax_element(pcm.begin() + static_cast<std::ptrdiff_t>(range.first),
                                      pcm.begin() + static_cast<std::ptrdiff_t>(range.second));
  return *hi - *lo <= 4;
}

// Silences, sentence markers and noises ("<sil>", "</s>", "[NOISE]", "++UH++") are not words.
bool is_filler(const std::string& word) {
  return word.empty() || word[0] == '<' || word[0] == '[' || word.rfind("++", 0) == 0;
}

// "the(2)" is the dictionary's second pronunciation of "the".
std::string base_word(std::string word) {
  if (!word.empty() && word.back() == ')') {
    auto open = word.rfind('(');
    if (open != std::string::npos && open > 0) word.erase(open);
  }
  return word;
}

void require_file(const std::string& what, const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec))
    throw std::runtime_error("ASR model: " + what + " " + path + " does not exist");
}

}  // namespace

struct asr_engine::impl {
  cmd_ln_t* config = nullptr;
  ps_decoder_t* ps = nullptr;
  double frame_rate = 100;

  ~impl() {
    if (ps) ps_free(ps);
    if (config) cmd_ln_free_r(config);
  }

  /// Decodes pcm[range] as one utterance; appends its words, shifted by the range's start.
  bool decode(const std::vector<std::int16_t>& pcm, span range, asr_result& out) {
    if (range.second <= range.first || is_flat(pcm, range)) return true;
    if (ps_start_utt(ps) < 0) return fail(out, "pocketsphinx could not start an utterance");
    int searched = ps_process_raw(ps, pcm.data() + range.first, range.second - range.first,
                                  FALSE, TRUE);
    if (ps_end_utt(ps) < 0 || searched < 0) return fail(out, "pocketsphinx failed to decode");
    std::int32_t score = 0;
    if (!ps_get_hyp(ps, &score)) return true;  // nothing recognised, e.g. silence

    const double offset_s = static_cast<double>(range.first) / sample_rate;
    const double limit_s = static_cast<double>(range.second) / sample_rate;
    logmath_t* lmath = ps_get_logmath(ps);
    // ln of the hypothesis' posterior; the pieces are independent, so their logs add up.
    out.confidence += logmath_log_to_ln(lmath, ps_get_prob(ps));
    for (ps_seg_t* seg = ps_seg_iter(ps); seg; seg = ps_seg_next(seg)) {
      const char* raw = ps_seg_word(seg);
      std::string word = raw ? raw : "";
      if (is_filler(word)) continue;
      int sf = 0, ef = 0;
      ps_seg_frames(seg, &sf, &ef);
      std::int32_t ascr = 0, lscr = 0, lback = 0;
      double p = logmath_exp(lmath, ps_seg_prob(seg, &ascr, &lscr, &lback));
      asr_word w;
      w.word = base_word(std::move(word));
      w.start_s = std::min(limit_s, offset_s + sf / frame_rate);
      w.end_s = std::min(limit_s, offset_s + (ef + 1) / frame_rate);
      w.confidence = std::clamp(p, 0.0, 1.0);
      out.words.push_back(std::move(w));
    }
    return true;
  }

  static bool fail(asr_result& out, std::string why) {
    out.ok = false;
    out.error = std::move(why);
    return false;
  }
};

asr_engine::asr_engine(const asr_model& model) : impl_(std::make_unique<impl>()) {
  require_file("acoustic model", model.hmm);
  require_file("language model", model.lm);
  require_file("dictionary", model.dict);
  // -remove_silence no: pocketsphinx's voice activity detector drops non-speech frames,
  // and then frame numbers no longer match the audio (after 3 s of leading silence the
  // first word came out at 0.3 s instead of 3.2 s). Recognition is as good without it.
  impl_->config = cmd_ln_init(nullptr, ps_args(), TRUE, "-hmm", model.hmm.c_str(), "-lm",
                              model.lm.c_str(), "-dict", model.dict.c_str(), "-remove_silence",
                              "no", "-logfn", "/dev/null", nullptr);
  if (!impl_->config) throw std::runtime_error("pocketsphinx rejected its configuration");
  impl_->ps = ps_init(impl_->config);
  if (!impl_->ps)
    throw std::runtime_error("pocketsphinx could not load the model " + model.hmm + ", " +
                             model.lm + ", " + model.dict);
  if (auto frate = cmd_ln_int32_r(impl_->config, "-frate"); frate > 0) impl_->frame_rate = frate;
}

asr_engine::~asr_engine() = default;

asr_result asr_engine::recognize(const std::vector<std::int16_t>& pcm16k) {
  asr_result out;
  out.ok = true;
  out.duration_s = static_cast<double>(pcm16k.size()) / sample_rate;
  try {
    if (!pcm16k.empty())
      for (auto range : split_at_pauses(pcm16k))
        if (!impl_->decode(pcm16k, range, out)) break;
    for (const auto& w : out.words) {
      if (!out.text.empty()) out.text += ' ';
      out.text += w.word;
    }
  } catch (const std::exception& e) {  // out of memory, in practice
    impl::fail(out, std::string("recognition failed: ") + e.what());
  }
  if (!out.ok) {
    out.words.clear();
    out.text.clear();
    out.confidence = 0;
  }
  return out;
}

}  // namespace sova::backends
