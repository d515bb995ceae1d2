#pragma once
// POST /v1/audio/transcriptions on a node: OpenAI's multipart request checked and turned
// into the SOVA ASR form a backend takes (the file as `audio_blob`), and SOVA's reply
// rendered in the asked response_format. Pure code.
//
// Accepted fields: `file` (required, a file part), `model` (openai/models.hpp),
// `response_format` (json, text, verbose_json, srt, vtt; json by default),
// `timestamp_granularities[]` (segment, word), `language` and `prompt` (accepted and not
// used: the backend decides its language), `temperature` (a number from 0 to 1, not
// used), `stream` (false only). Other fields are ignored.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "http/server.hpp"
#include "net/service_kind.hpp"

namespace sova::openai {

enum class transcript_format { json, text, verbose_json, srt, vtt };

/// What a reply is rendered from: the recognised words and segments.
struct transcript_word {
  std::string word;
  double start = 0;
  double end = 0;
};
struct transcript_segment {
  std::string text;
  double start = 0;
  double end = 0;
};
struct transcript {
  std::string text;  // every SOVA response's text, joined by a space
  double duration = 0;
  std::vector<transcript_segment> segments;
  std::vector<transcript_word> words;
};

/// How the reply is rendered (kept until the backend answers).
struct transcript_options {
  transcript_format format = transcript_format::json;
  bool words = false;    // verbose_json: timestamp_granularities[] names "word"
  bool segments = true;  // verbose_json: names "segment", or names nothing
  std::string language;  // verbose_json's `language`: as given when it is a plain code
};

struct transcription_request {
  net::wanted_kind kind = net::wanted_kind::any;  // backend kind
  transcript_options options;
  std::string sova_content_type;  // multipart/form-data; boundary=...
  std::string sova_body;          // one file part, audio_blob
};

/// The SOVA request for an OpenAI transcription request; nothing, with an OpenAI error
/// reply (400, naming the field in `param`) in `error`, when the request is malformed.
/// `fallback_kind` is the route's ?backend= (used when `model` names no kind).
std::optional<transcription_request> parse_transcription_request(std::string_view content_type,
                                                                 std::string_view body,
                                                                 net::wanted_kind fallback_kind,
                                                                 http::response* error);

/// SOVA ASR's reply (`r[0]`) as a transcript; nothing, with the reason in `why`, when it
/// is not one. A recording the backend could not read gives nothing and `unreadable`.
std::optional<transcript> read_sova_transcript(std::string_view sova_body, std::string* why,
                                               bool* unreadable);

/// Segments split a SOVA response at a pause of this many seconds or more between words,
/// or when they hold `max_segment_words` words.
inline constexpr double segment_pause_s = 1.0;
inline constexpr std::size_t max_segment_words = 12;

/// The body and Content-Type for `t` in `options.format`.
http::response render_transcript(const transcript& t, const transcript_options& options);

/// The whole reply: `sova` as the request path answered it (a backend's reply, or the
/// node's error) turned into OpenAI's reply or error.
http::response translate_transcription_reply(const transcript_options& options,
                                             http::response sova);

}  // namespace sova::openai
