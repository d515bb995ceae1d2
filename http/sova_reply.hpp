#pragma once
// Reading what a node (or a SOVA backend) answers, for the programs that call it: whether
// the call failed and why (our error object, or the original's response_code 1), the
// texts of an ASR reply, the audio of a TTS reply. Pure code.

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "http/client.hpp"

namespace sova::http {

/// A reply's JSON object, or why the exchange failed: a non-2xx status (with our error
/// object's code and message when the body has one), a body that is not a JSON object,
/// or a top-level response_code other than 0 (how the original reports any failure).
struct reply_view {
  nlohmann::json body;
  std::string failure;  // "" on success
  bool is_json = false;
};
reply_view interpret_reply(const client_response& r);

/// One recording's outcome in an ASR reply.
struct asr_text {
  std::string text;
  std::string failure;  // "" on success
};
/// `r[i].response[*].text` for each of `count` recordings (segments joined by a space);
/// a recording with response_code other than 0 carries its message in `response`.
std::vector<asr_text> asr_texts(const nlohmann::json& body, std::size_t count);

/// The audio of a TTS reply: `response[0].response_audio`, base64-decoded.
struct tts_audio {
  std::string bytes;
  std::optional<double> duration_s;
  std::optional<long long> sample_rate;
  std::string failure;  // "" on success
};
tts_audio tts_audio_of(const nlohmann::json& body);

/// A short one-line excerpt of a body that is not what was expected, for messages.
std::string excerpt(const std::string& body);

}  // namespace sova::http
