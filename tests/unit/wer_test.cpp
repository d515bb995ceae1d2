// Word error rate: normalisation of transcripts and the S/D/I counts of the alignment.
#define CAF_SUITE wer
#include "caf/test/unit_test.hpp"

#include <string>
#include <vector>

#include "backends/wer.hpp"

using namespace sova::backends;

namespace {

using words = std::vector<std::string>;

/// Checks the counts of one alignment and the rate they give.
void check_counts(std::string_view ref, std::string_view hyp, std::size_t s, std::size_t d,
                  std::size_t i, std::size_t n) {
  auto r = word_error_rate(ref, hyp);
  CAF_MESSAGE(ref << " vs " << hyp << ": S=" << r.substitutions
                  << " D=" << r.deletions << " I=" << r.insertions
                  << " N=" << r.reference_words);
  CAF_CHECK_EQUAL(r.substitutions, s);
  CAF_CHECK_EQUAL(r.deletions, d);
  CAF_CHECK_EQUAL(r.insertions, i);
  CAF_CHECK_EQUAL(r.reference_words, n);
  if (n > 0)
    CAF_CHECK_EQUAL(r.rate(), static_cast<double>(s + d + i) / static_cast<double>(n));
}

}  // namespace

CAF_TEST(exact_match_is_zero) {
  check_counts("the cat sat on the mat", "the cat sat on the mat", 0, 0, 0, 6);
  CAF_CHECK_EQUAL(word_error_rate("the cat sat", "the cat sat").rate(), 0.0);
  // Normalisation makes these the same words.
  CAF_CHECK_EQUAL(word_error_rate("The Cat, sat!", "the cat sat").rate(), 0.0);
}

CAF_TEST(substitutions_deletions_insertions) {
  check_counts("a b c", "a x c", 1, 0, 0, 3);
  check_counts("a b c", "a c", 0, 1, 0, 3);
  check_counts("a b c", "a b x c", 0, 0, 1, 3);
  check_counts("a b c d e", "x b d e f g", 1, 1, 2, 5);
  check_counts("a b c", "", 0, 3, 0, 3);
  check_counts("a b c", "x y z", 3, 0, 0, 3);
  // Shifted by one word: a deletion and an insertion beat four substitutions.
  check_counts("a b c d", "b c d e", 0, 1, 1, 4);
  // More errors than reference words: the rate may exceed 1.
  auto r = word_error_rate("a", "x y z");
  CAF_CHECK_EQUAL(r.substitutions + r.deletions + r.insertions, 3u);
  CAF_CHECK_EQUAL(r.rate(), 3.0);
}

CAF_TEST(known_sentence) {
  // The pocketsphinx test data's first file and a typical wrong hypothesis.
  auto r = word_error_rate("he was not an ill disposed young man",
                           "he was not an illness those young man");
  CAF_CHECK_EQUAL(r.substitutions, 2u);
  CAF_CHECK_EQUAL(r.deletions, 0u);
  CAF_CHECK_EQUAL(r.insertions, 0u);
  CAF_CHECK_EQUAL(r.rate(), 0.25);
}

CAF_TEST(normalisation) {
  CAF_CHECK_EQUAL(normalized_words("Hello, World!"), (words{"hello", "world"}));
  CAF_CHECK_EQUAL(normalized_words("  many   spaces\tand\nlines  "),
                  (words{"many", "spaces", "and", "lines"}));
  CAF_CHECK_EQUAL(normalized_words("Don't STOP"), (words{"don't", "stop"}));
  CAF_CHECK_EQUAL(normalized_words("well-known (x) [y] a.b;c"),
                  (words{"well", "known", "x", "y", "a", "b", "c"}));
  CAF_CHECK_EQUAL(normalized_words("Route 66 in 2024"), (words{"route", "66", "in", "2024"}));
  // Quotation marks are not words; apostrophes inside words stay.
  CAF_CHECK_EQUAL(normalized_words("he said ' yes ' ''"), (words{"he", "said", "yes"}));
  // UTF-8 words survive unchanged (only ASCII is lower-cased).
  CAF_CHECK_EQUAL(normalized_words("Привет, мир! café"), (words{"Привет", "мир", "café"}));
  CAF_CHECK_EQUAL(normalized_words(""), words{});
  CAF_CHECK_EQUAL(normalized_words(" ,.;!? "), words{});
  CAF_CHECK_EQUAL(word_error_rate("I don't know.", "i dont know").substitutions, 1u);
  CAF_CHECK_EQUAL(word_error_rate("Привет мир", "привет мир").substitutions, 1u);
  CAF_CHECK_EQUAL(word_error_rate("Привет мир", "Привет мир").rate(), 0.0);
}

CAF_TEST(empty_edges) {
  check_counts("", "", 0, 0, 0, 0);
  CAF_CHECK_EQUAL(word_error_rate("", "").rate(), 0.0);
  CAF_CHECK_EQUAL(word_error_rate("  ...  ", "!").rate(), 0.0);
  // No reference words: each inserted word counts 1.
  check_counts("", "one two", 0, 0, 2, 0);
  CAF_CHECK_EQUAL(word_error_rate("", "one two").rate(), 2.0);
  // Empty hypothesis: everything deleted.
  CAF_CHECK_EQUAL(word_error_rate("one two three four", "").rate(), 1.0);
}

CAF_TEST(long_inputs_are_linear_in_memory) {
  // 3000 x 3000 words: two rows of the table, not nine million cells of backtrace.
  std::string ref, hyp;
  for (int i = 0; i < 3000; ++i) {
    ref += "w" + std::to_string(i) + " ";
    hyp += (i % 10 == 0 ? "x" : "w") + std::to_string(i) + " ";
  }
  auto r = word_error_rate(ref, hyp);
  CAF_CHECK_EQUAL(r.reference_words, 3000u);
  CAF_CHECK_EQUAL(r.substitutions, 300u);
  CAF_CHECK_EQUAL(r.deletions + r.insertions, 0u);
}
