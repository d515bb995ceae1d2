#pragma once
// Word error rate of a hypothesis against a reference transcript: how the tests and the
// demo say how well speech was recognised. Pure code.

#include <string>
#include <string_view>
#include <vector>

namespace sova::backends {

/// Lower-cased words of `text`: ASCII letters, digits and apostrophes are kept (other
/// bytes >= 0x80 too, so UTF-8 words survive), everything else separates words.
std::vector<std::string> normalized_words(std::string_view text);

struct wer_result {
  std::size_t substitutions = 0, deletions = 0, insertions = 0;
  std::size_t reference_words = 0;
  /// (S + D + I) / N; 0 when both are empty, 1 per inserted word when N = 0.
  double rate() const;
};

/// Levenshtein alignment of normalized_words(hypothesis) against normalized_words(reference).
wer_result word_error_rate(std::string_view reference, std::string_view hypothesis);

}  // namespace sova::backends
