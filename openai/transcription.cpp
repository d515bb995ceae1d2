#include "openai/transcription.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include <nlohmann/json.hpp>

#include "http/multipart.hpp"
#include "http/numeric_text.hpp"
#include "http/text.hpp"
#include "openai/errors.hpp"
#include "openai/models.hpp"

namespace sova::openai {

namespace {

using json = nlohmann::json;

std::optional<transcript_format> format_named(std::string_view s) {
  if (s == "json") return transcript_format::json;
  if (s == "text") return transcript_format::text;
  if (s == "verbose_json") return transcript_format::verbose_json;
  if (s == "srt") return transcript_format::srt;
  if (s == "vtt") return transcript_format::vtt;
  return std::nullopt;
}

/// A language code worth echoing: 1 to 16 ASCII letters and hyphens.
bool plain_code(std::string_view s) {
  if (s.empty() || s.size() > 16) return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '-';
  });
}

/// The upload's name as the backend sees it: "audio" and the original's extension when
/// that is short and alphanumeric (a backend may guess the format from it); nothing of
/// the client's text that could matter in a header.
std::string backend_filename(std::string_view given) {
  auto dot = given.rfind('.');
  if (dot == std::string_view::npos) return "audio";
  auto ext = given.substr(dot + 1);
  bool plain = !ext.empty() && ext.size() <= 8 &&
               std::all_of(ext.begin(), ext.end(), [](char c) {
                 return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
               });
  return plain ? "audio." + std::string(ext) : "audio";
}

double number_or(const json& o, const char* key, double fallback) {
  auto it = o.find(key);
  if (it == o.end() || !it->is_number()) return fallback;
  double v = it->get<double>();
  return std::isfinite(v) ? v : fallback;
}

std::string string_or_empty(const json& o, const char* key) {
  auto it = o.find(key);
  return it != o.end() && it->is_string() ? it->get<std::string>() : std::string();
}

void append_text(std::string& to, const std::string& piece) {
  if (piece.empty()) return;
  if (!to.empty()) to += ' ';
  to += piece;
}

/// One SOVA response element into segments: split at pauses and after max_segment_words.
void add_segments(transcript& t, const json& element) {
  std::vector<transcript_word> words;
  if (auto w = element.find("words"); w != element.end() && w->is_array())
    for (const auto& x : *w) {
      if (!x.is_object()) continue;
      auto word = string_or_empty(x, "word");
      if (word.empty()) continue;
      double start = number_or(x, "start", 0);
      words.push_back({word, start, std::max(start, number_or(x, "end", start))});
    }
  auto text = string_or_empty(element, "text");
  if (words.empty()) {
    if (text.empty()) return;
    double start = t.segments.empty() ? 0 : t.segments.back().end;
    double end = std::max(start, number_or(element, "duration_s", start));
    t.segments.push_back({text, start, end});
    return;
  }
  transcript_segment seg;
  std::size_t in_seg = 0;
  for (const auto& w : words) {
    bool pause = in_seg > 0 && w.start - seg.end >= segment_pause_s;
    if (in_seg > 0 && (pause || in_seg >= max_segment_words)) {
      t.segments.push_back(seg);
      seg = {};
      in_seg = 0;
    }
    if (in_seg == 0) seg.start = w.start;
    append_text(seg.text, w.word);
    seg.end = w.end;
    ++in_seg;
    t.words.push_back(w);
  }
  t.segments.push_back(seg);
}

/// "HH:MM:SS,mmm" (srt) or "HH:MM:SS.mmm" (vtt).
std::string timestamp(double seconds, char separator) {
  // Clamped: times come from a backend (99999 hours is beyond any recording).
  auto ms = static_cast<long long>(std::llround(std::clamp(seconds, 0.0, 99999.0 * 3600) * 1000));
  char buf[32];
  std::snprintf(buf, sizeof buf, "%02lld:%02lld:%02lld%c%03lld", ms / 3600000, ms / 60000 % 60,
                ms / 1000 % 60, separator, ms % 1000);
  return buf;
}

/// A cue's text on one line, with nothing that would end the cue or start a timing line.
std::string cue_text(std::string_view s, bool vtt) {
  std::string out;
  for (char c : s) {
    if (c == '\r' || c == '\n') c = ' ';
    if (vtt && c == '&') out += "&amp;";
    else if (vtt && c == '<') out += "&lt;";
    else if (vtt && c == '>') out += "&gt;";
    else out += c;
  }
  for (std::size_t at; (at = out.find("-->")) != std::string::npos;) out.replace(at, 3, "->");
  return out;
}

std::string subtitles(const transcript& t, bool vtt) {
  std::string out = vtt ? "WEBVTT\n\n" : "";
  std::size_t n = 0;
  for (const auto& s : t.segments) {
    if (!vtt) out += std::to_string(++n) + "\n";
    char sep = vtt ? '.' : ',';
    out += timestamp(s.start, sep) + " --> " + timestamp(s.end, sep) + "\n";
    out += cue_text(s.text, vtt) + "\n\n";
  }
  return out;
}

std::string dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

}  // namespace

std::optional<transcription_request> parse_transcription_request(std::string_view content_type,
                                                                 std::string_view body,
                                                                 net::wanted_kind fallback_kind,
                                                                 http::response* error) {
  auto boundary = http::multipart_boundary(content_type);
  if (!boundary)
    return refuse(error, "invalid_request",
                  "expected a multipart/form-data body with a file field; got Content-Type '" +
                      http::shown(content_type) + "'",
                  "file");
  std::string reason;
  auto parts = http::parse_multipart_view(body, *boundary, &reason);
  if (!parts)
    return refuse(error, "invalid_request", "malformed multipart/form-data body: " + reason,
                  "file");
  transcription_request out;
  const http::form_part_view* file = nullptr;
  std::string model;
  std::vector<std::string_view> granularities;
  bool granularity_given = false;
  for (const auto& p : *parts) {
    if (p.name == "file") {
      if (p.filename.empty())
        return refuse(error, "invalid_value",
                      "the file field must be a file upload (a part with a filename)", "file");
      if (!file) file = &p;  // the first one, as SOVA ASR reads a field
    } else if (p.name == "model") {
      model = std::string(p.data);
    } else if (p.name == "response_format") {
      auto f = format_named(p.data);
      if (!f)
        return refuse(error, "invalid_value",
                      "response_format '" + http::shown(p.data) +
                          "' is not one of json, text, verbose_json, srt, vtt",
                      "response_format");
      out.options.format = *f;
    } else if (p.name == "timestamp_granularities[]" || p.name == "timestamp_granularities") {
      if (p.data != "word" && p.data != "segment")
        return refuse(error, "invalid_value",
                      "timestamp_granularities[] '" + http::shown(p.data) +
                          "' is not one of word, segment",
                      "timestamp_granularities[]");
      granularity_given = true;
      granularities.push_back(p.data);
    } else if (p.name == "language") {
      if (plain_code(p.data)) out.options.language = std::string(p.data);
    } else if (p.name == "temperature") {
      auto t = http::python_float(p.data);
      if (!t || !(*t >= 0 && *t <= 1))
        return refuse(error, "invalid_value",
                      "temperature '" + http::shown(p.data) + "' is not a number from 0 to 1",
                      "temperature");
    } else if (p.name == "stream") {
      if (p.data == "true")
        return refuse(error, "unsupported_value", "streaming transcriptions is not supported",
                      "stream");
    }
  }
  if (!file) return refuse(error, "missing_file", "the form has no file field", "file");
  if (file->data.empty()) return refuse(error, "invalid_value", "the file is empty", "file");
  auto kind = kind_for_model(net::service::asr, model, fallback_kind, error);
  if (!kind) return std::nullopt;
  out.kind = *kind;
  if (granularity_given) {
    auto has = [&](std::string_view g) {
      return std::find(granularities.begin(), granularities.end(), g) != granularities.end();
    };
    out.options.words = has("word");
    out.options.segments = has("segment");
  }
  std::string b;
  std::vector<http::form_part> form{{"audio_blob", backend_filename(file->filename),
                                     file->content_type, std::string(file->data)}};
  out.sova_body = http::build_multipart(form, b);
  out.sova_content_type = "multipart/form-data; boundary=" + b;
  return out;
}

std::optional<transcript> read_sova_transcript(std::string_view sova_body, std::string* why,
                                               bool* unreadable) {
  auto fail = [&](std::string reason) -> std::optional<transcript> {
    if (why) *why = std::move(reason);
    return std::nullopt;
  };
  auto body = json::parse(sova_body, nullptr, false);
  if (!body.is_object()) return fail("the ASR backend's reply is not a JSON object");
  auto r = body.find("r");
  if (r == body.end() || !r->is_array() || r->empty() || !(*r)[0].is_object())
    return fail("the ASR backend's reply has no recording in \"r\"");
  const auto& first = (*r)[0];
  auto code = first.find("response_code");
  auto response = first.find("response");
  if (code != first.end() && !(code->is_number() && code->get<double>() == 0)) {
    if (unreadable) *unreadable = true;
    auto what = response != first.end() && response->is_string() ? response->get<std::string>()
                                                                  : std::string("no reason given");
    return fail("the ASR backend could not read the file: " + http::shown(what, 300));
  }
  if (response == first.end() || !response->is_array())
    return fail("the ASR backend's reply has no \"response\" list");
  transcript t;
  for (const auto& element : *response) {
    if (!element.is_object()) continue;
    append_text(t.text, string_or_empty(element, "text"));
    t.duration = std::max(t.duration, number_or(element, "duration_s", 0));
    add_segments(t, element);
  }
  if (!t.segments.empty()) t.duration = std::max(t.duration, t.segments.back().end);
  return t;
}

http::response render_transcript(const transcript& t, const transcript_options& options) {
  http::response r;
  switch (options.format) {
    case transcript_format::json:
      r.body = dump(json{{"text", t.text}});
      break;
    case transcript_format::text:
      r.content_type = "text/plain; charset=utf-8";
      r.body = t.text + "\n";
      break;
    case transcript_format::srt:
      r.content_type = "text/plain; charset=utf-8";
      r.body = subtitles(t, false);
      break;
    case transcript_format::vtt:
      r.content_type = "text/vtt; charset=utf-8";
      r.body = subtitles(t, true);
      break;
    case transcript_format::verbose_json: {
      json j = {{"task", "transcribe"},
                {"language", options.language.empty() ? "unknown" : options.language},
                {"duration", t.duration},
                {"text", t.text}};
      if (options.segments) {
        auto segs = json::array();
        for (std::size_t i = 0; i < t.segments.size(); ++i) {
          const auto& s = t.segments[i];
          segs.push_back({{"id", i}, {"seek", 0}, {"start", s.start}, {"end", s.end},
                          {"text", s.text}, {"tokens", json::array()}, {"temperature", 0.0}});
        }
        j["segments"] = std::move(segs);
      }
      if (options.words) {
        auto words = json::array();
        for (const auto& w : t.words)
          words.push_back({{"word", w.word}, {"start", w.start}, {"end", w.end}});
        j["words"] = std::move(words);
      }
      r.body = dump(j);
      break;
    }
  }
  return r;
}

http::response translate_transcription_reply(const transcript_options& options,
                                             http::response sova) {
  if (sova.status != 200) return as_openai_error(std::move(sova));
  std::string why;
  bool unreadable = false;
  auto t = read_sova_transcript(sova.body, &why, &unreadable);
  if (!t)
    return unreadable ? error_reply(400, "invalid_audio", why, "file")
                      : error_reply(502, "bad_backend_reply", why);
  return render_transcript(*t, options);
}

}  // namespace sova::openai
