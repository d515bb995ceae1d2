// multipart/form-data as a client may send it: the Content-Type's boundary, then the
// body. A form that parses must come back the same through build_multipart (up to what
// the builder documents it changes: line breaks in names and filenames percent-encoded,
// none in a part's Content-Type), and the ASR body check must agree with the parser.
//
// Input: the Content-Type value, "\n", the body.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz/check.hpp"
#include "http/multipart.hpp"
#include "http/routes.hpp"

namespace {

using namespace sova::http;

/// What a name or filename becomes in a quoted header parameter.
std::string quoted_form(std::string_view v) {
  std::string out;
  for (char c : v) {
    if (c == '\r')
      out += "%0D";
    else if (c == '\n')
      out += "%0A";
    else
      out += c;
  }
  return out;
}

/// What a part's Content-Type becomes: line breaks dropped, then trimmed as parsed.
std::string header_form(std::string_view v) {
  std::string out;
  for (char c : v)
    if (c != '\r' && c != '\n') out += c;
  auto blank = [](char c) { return c == ' ' || c == '\t'; };
  while (!out.empty() && blank(out.back())) out.pop_back();
  std::size_t lead = 0;
  while (lead < out.size() && blank(out[lead])) ++lead;
  return out.substr(lead);
}

void check_round_trip(const std::vector<form_part>& parts, std::string boundary) {
  auto body = build_multipart(parts, boundary);
  std::string why;
  auto again = parse_multipart(body, boundary, &why);
  FUZZ_CHECK(again.has_value());
  FUZZ_CHECK(again->size() == parts.size());
  for (std::size_t i = 0; i < parts.size(); ++i) {
    const auto& a = parts[i];
    const auto& b = (*again)[i];
    FUZZ_CHECK(b.name == quoted_form(a.name));
    FUZZ_CHECK(b.filename == quoted_form(a.filename));
    FUZZ_CHECK(b.content_type == header_form(a.content_type));
    FUZZ_CHECK(b.data == a.data);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  auto newline = input.find('\n');
  auto content_type = input.substr(0, newline);
  auto body = newline == std::string_view::npos ? std::string_view{} : input.substr(newline + 1);

  auto boundary = multipart_boundary(content_type);
  auto asr = check_asr_body(content_type, body);
  if (!boundary) {
    FUZZ_CHECK(asr.has_value());  // no form, no audio
    return 0;
  }
  std::string why;
  auto parts = parse_multipart(body, *boundary, &why);
  if (!parts) {
    FUZZ_CHECK(!why.empty());
    FUZZ_CHECK(asr.has_value());
    return 0;
  }
  bool has_audio = false;
  for (const auto& p : *parts)
    if (p.name.compare(0, 10, "audio_blob") == 0 && !p.filename.empty()) has_audio = true;
  FUZZ_CHECK(has_audio == !asr.has_value());
  check_round_trip(*parts, *boundary);
  return 0;
}
