#pragma once
// Sphinx transcription files ("<s> words </s> (fileid)" per line), as shipped with
// pocketsphinx-testdata: the reference texts the tests and the demo compare against.

#include <map>
#include <string>
#include <string_view>

namespace sova::backends {

/// fileid -> transcript (without <s>, </s> and the parenthesised id). Lines that do not
/// end in "(fileid)" are skipped.
std::map<std::string, std::string> parse_transcription(std::string_view text);

}  // namespace sova::backends
