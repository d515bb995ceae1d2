// What a node or backend answers, as the programs that call it read it (sova_reply.hpp):
// any status and body must give a verdict without crashing, a success only for a 2xx
// JSON object without a failing response_code, and the ASR/TTS readers must cope with
// any such object. Base64, which carries TTS audio, must round-trip.
//
// Input: [status choice][recordings expected][body...].

#include <cstddef>
#include <cstdint>
#include <iterator>
#include <string>

#include "fuzz/byte_reader.hpp"
#include "fuzz/check.hpp"
#include "http/base64.hpp"
#include "http/sova_reply.hpp"

namespace {

using namespace sova::http;

constexpr unsigned statuses[] = {200, 201, 204, 299, 300, 400, 404, 413, 500, 502, 503, 504};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  sova::fuzz::byte_reader in(data, size);
  client_response r;
  r.status = statuses[in.u8() % std::size(statuses)];
  std::size_t recordings = in.u8() % 4;
  r.body = std::string(in.rest());

  auto view = interpret_reply(r);
  FUZZ_CHECK(!view.is_json || view.body.is_object());
  if (view.failure.empty()) {
    FUZZ_CHECK(r.status >= 200 && r.status < 300 && view.is_json);
    auto code = view.body.find("response_code");
    FUZZ_CHECK(code == view.body.end() || (code->is_number_integer() && *code == 0));
  }
  if (view.is_json) {
    auto texts = asr_texts(view.body, recordings);
    // One entry per recording, or a single failure when "r" does not list that many.
    // (Not "never empty": no recordings and an empty "r" rightly give no entries.)
    FUZZ_CHECK(texts.size() == recordings || (texts.size() == 1 && !texts[0].failure.empty()));
    auto audio = tts_audio_of(view.body);
    FUZZ_CHECK(audio.failure.empty() || audio.bytes.empty());
  }
  FUZZ_CHECK(excerpt(r.body).size() <= 203);  // 200 bytes and "..."

  // Decoding is lenient about the unused bits of the last group, so only this way round.
  if (auto decoded = base64_decode(r.body)) FUZZ_CHECK(decoded->size() <= r.body.size() / 4 * 3);
  FUZZ_CHECK(base64_decode(base64_encode(r.body)) == r.body);
  return 0;
}
