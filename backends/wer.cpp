#include "backends/wer.hpp"

#include <algorithm>

namespace sova::backends {

namespace {

bool is_word_byte(unsigned char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
         c == '\'' || c >= 0x80;
}

// A token made only of apostrophes is a quotation mark, not a word.
bool is_word(const std::string& token) {
  return token.find_first_not_of('\'') != std::string::npos;
}

// One cell of the alignment: total edits, and how they split, so the counts come out of
// two rolling rows without a full backtrace matrix.
struct cell {
  std::size_t cost = 0, s = 0, d = 0, i = 0;
};

}  // namespace

std::vector<std::string> normalized_words(std::string_view text) {
  std::vector<std::string> words;
  std::string current;
  auto flush = [&] {
    if (is_word(current)) words.push_back(current);
    current.clear();
  };
  for (char ch : text) {
    auto c = static_cast<unsigned char>(ch);
    if (!is_word_byte(c)) {
      flush();
      continue;
    }
    if (c >= 'A' && c <= 'Z') c = static_cast<unsigned char>(c - 'A' + 'a');
    current += static_cast<char>(c);
  }
  flush();
  return words;
}

double wer_result::rate() const {
  auto errors = static_cast<double>(substitutions + deletions + insertions);
  if (reference_words == 0) return errors;  // 0 when both are empty
  return errors / static_cast<double>(reference_words);
}

wer_result word_error_rate(std::string_view reference, std::string_view hypothesis) {
  auto ref = normalized_words(reference);
  auto hyp = normalized_words(hypothesis);
  // prev[j]: best alignment of ref[0, r) against hyp[0, j).
  std::vector<cell> prev(hyp.size() + 1), cur(hyp.size() + 1);
  for (std::size_t j = 1; j <= hyp.size(); ++j) prev[j] = {j, 0, 0, j};
  for (std::size_t r = 1; r <= ref.size(); ++r) {
    cur[0] = {r, 0, r, 0};
    for (std::size_t j = 1; j <= hyp.size(); ++j) {
      // On equal cost prefer match/substitution, then deletion, then insertion, so that
      // "a b" vs "a c" counts one substitution rather than a deletion plus an insertion.
      cell best = prev[j - 1];
      if (ref[r - 1] != hyp[j - 1]) {
        ++best.cost;
        ++best.s;
      }
      if (prev[j].cost + 1 < best.cost) {
        best = prev[j];
        ++best.cost;
        ++best.d;
      }
      if (cur[j - 1].cost + 1 < best.cost) {
        best = cur[j - 1];
        ++best.cost;
        ++best.i;
      }
      cur[j] = best;
    }
    std::swap(prev, cur);
  }
  const cell& end = prev[hyp.size()];
  wer_result out;
  out.substitutions = end.s;
  out.deletions = end.d;
  out.insertions = end.i;
  out.reference_words = ref.size();
  return out;
}

}  // namespace sova::backends
