#pragma once
// multipart/form-data (RFC 7578 over RFC 2046): the body SOVA ASR takes, one file field
// `audio_blob*` per recording. Pure code: parsing never throws and runs in time linear
// in the body, whatever the body holds.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sova::http {

/// One part of a form; its data held (`form_part`) or seen in the body (`form_part_view`,
/// valid while the body is).
template <class Data>
struct basic_form_part {
  std::string name;          // form field name
  std::string filename;      // empty when not a file
  std::string content_type;  // empty when not given
  Data data;
};
using form_part = basic_form_part<std::string>;
using form_part_view = basic_form_part<std::string_view>;

/// The boundary parameter of a multipart/form-data Content-Type, or nothing (another
/// media type, no boundary, or a boundary that RFC 2046 would not allow).
std::optional<std::string> multipart_boundary(std::string_view content_type);

/// Parses a multipart/form-data body (RFC 7578 / 2046): CRLF line ends, quoted and unquoted
/// name/filename parameters, preamble/epilogue ignored. Nothing on malformed input, with a
/// reason in `error`.
std::optional<std::vector<form_part>> parse_multipart(std::string_view body,
                                                      std::string_view boundary,
                                                      std::string* error = nullptr);
/// The same parse, without copying any part's data out of `body` (checking a form).
std::optional<std::vector<form_part_view>> parse_multipart_view(std::string_view body,
                                                                std::string_view boundary,
                                                                std::string* error = nullptr);

/// Builds a body and returns it. `boundary` is the one to use; when it is empty or occurs
/// in some part's data, a fresh random one is chosen and stored back into `boundary`.
std::string build_multipart(const std::vector<form_part>& parts, std::string& boundary);

}  // namespace sova::http
