#include "http/multipart.hpp"

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <random>
#include <utility>

namespace sova::http {

namespace {

constexpr std::string_view crlf = "\r\n";

bool is_space(char c) { return c == ' ' || c == '\t'; }

char lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

std::string to_lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = lower(c);
  return out;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return s;
}

bool fail(std::string* error, std::string reason) {
  if (error) *error = std::move(reason);
  return false;
}

std::nullopt_t refuse(std::string* error, std::string reason) {
  fail(error, std::move(reason));
  return std::nullopt;
}

// RFC 2046 asks for at most 70 characters; real clients stay far below this bound. No
// CR may occur in it: the delimiter search below relies on that to stay linear.
bool valid_boundary(std::string_view b) {
  if (b.empty() || b.size() > 200 || b.back() == ' ') return false;
  for (char c : b)
    if (c < ' ' || c > '~') return false;
  return true;
}

// ---- header values: `type; name=value; name="quoted \" value"` ----

struct header_value {
  std::string type;                                         // lowercased
  std::vector<std::pair<std::string, std::string>> params;  // names lowercased
};

/// Reads a quoted-string starting at s[i] == '"'; `\"` and `\\` are unescaped, other
/// backslashes kept, because browsers send Windows paths unescaped.
std::optional<std::string> read_quoted(std::string_view s, std::size_t& i) {
  std::string out;
  for (++i; i < s.size(); ++i) {
    char c = s[i];
    if (c == '"') {
      ++i;
      return out;
    }
    if (c == '\\' && i + 1 < s.size() && (s[i + 1] == '"' || s[i + 1] == '\\')) c = s[++i];
    out += c;
  }
  return std::nullopt;  // unterminated
}

std::string_view read_token(std::string_view s, std::size_t& i, std::string_view stops) {
  auto start = i;
  while (i < s.size() && stops.find(s[i]) == std::string_view::npos) ++i;
  return trim(s.substr(start, i - start));
}

void skip_space(std::string_view s, std::size_t& i) {
  while (i < s.size() && is_space(s[i])) ++i;
}

std::optional<header_value> parse_header_value(std::string_view s) {
  header_value out;
  std::size_t i = 0;
  out.type = to_lower(read_token(s, i, ";"));
  while (i < s.size()) {
    ++i;  // the ';'
    skip_space(s, i);
    auto name = read_token(s, i, "=;");
    std::string value;
    if (i < s.size() && s[i] == '=') {
      ++i;
      skip_space(s, i);
      if (i < s.size() && s[i] == '"') {
        auto quoted = read_quoted(s, i);
        if (!quoted) return std::nullopt;
        value = std::move(*quoted);
        skip_space(s, i);
        if (i < s.size() && s[i] != ';') return std::nullopt;  // junk after the quotes
      } else {
        value = std::string(read_token(s, i, ";"));
      }
    }
    if (!name.empty()) out.params.emplace_back(to_lower(name), std::move(value));
  }
  return out;
}

const std::string* param(const header_value& v, std::string_view name) {
  for (const auto& [n, value] : v.params)
    if (n == name) return &value;
  return nullptr;
}

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  c = lower(c);
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

/// RFC 5987 ext-value `charset'lang'percent-encoded`; the bytes are kept as sent.
std::string decode_ext_value(std::string_view v) {
  auto first = v.find('\'');
  auto second = first == std::string_view::npos ? first : v.find('\'', first + 1);
  if (second != std::string_view::npos) v.remove_prefix(second + 1);
  std::string out;
  for (std::size_t i = 0; i < v.size(); ++i) {
    int hi = 0;
    int lo = 0;
    if (v[i] == '%' && i + 2 < v.size() && (hi = hex_digit(v[i + 1])) >= 0 &&
        (lo = hex_digit(v[i + 2])) >= 0) {
      out += static_cast<char>(hi * 16 + lo);
      i += 2;
    } else {
      out += v[i];
    }
  }
  return out;
}

// ---- delimiters ----

struct delimiter {
  std::size_t at;    // first byte of the delimiter (its CRLF, or the dashes at body start)
  std::size_t next;  // first byte after the delimiter line
  bool closing;
};

/// When a delimiter `dash_boundary` (CRLF "--" boundary) starts at `at`, where it ends.
/// A match must be followed by "--" or by optional padding and CRLF; otherwise it is a
/// longer word that merely begins like the boundary.
std::optional<delimiter> delimiter_at(std::string_view body, std::size_t at,
                                      std::string_view dash_boundary) {
  if (body.size() - at < dash_boundary.size()) return std::nullopt;
  for (std::size_t k = 0; k < dash_boundary.size(); ++k)
    if (body[at + k] != dash_boundary[k]) return std::nullopt;
  auto i = at + dash_boundary.size();
  if (body.substr(i, 2) == "--") return delimiter{at, i + 2, true};
  while (i < body.size() && is_space(body[i])) ++i;
  if (body.substr(i, 2) == crlf) return delimiter{at, i + 2, false};
  return std::nullopt;
}

/// Where `needle` first occurs in `hay` at or after `from`, or npos, by glibc's memmem,
/// which is linear in the worst case; called on bounded windows because sanitizers check
/// the whole haystack on every call, which would make many calls over a long body
/// quadratic.
std::size_t find_bytes_memmem(std::string_view hay, std::size_t from, std::string_view needle,
                              std::size_t span = std::string_view::npos) {
  constexpr std::size_t window = 16 * 1024;
  const std::size_t stop = span == std::string_view::npos ? hay.size() : std::min(hay.size(), from + span);
  while (from < stop && hay.size() - from >= needle.size()) {
    auto len = std::min(hay.size() - from, window + needle.size() - 1);
    if (const void* hit = ::memmem(hay.data() + from, len, needle.data(), needle.size()))
      return static_cast<std::size_t>(static_cast<const char*>(hit) - hay.data());
    from += window;
  }
  return std::string_view::npos;
}

/// Where `needle` (not empty) first occurs in `hay` at or after `from`, or npos. memchr,
/// which is vectorised, to each byte equal to the needle's first, then a compare: several
/// times faster than memmem on the 1 MB uploads a node checks, where a delimiter's CR
/// comes once in about 256 bytes. Where such bytes come densely (a hostile body), it falls
/// back to memmem for a stretch, so that the worst case stays memmem's.
std::size_t find_bytes(std::string_view hay, std::size_t from, std::string_view needle) {
  constexpr std::size_t dense_gap = 64, dense_limit = 32, fallback_span = 64 * 1024;
  const auto rest = needle.substr(1);
  std::size_t dense = 0;
  while (from < hay.size() && hay.size() - from >= needle.size()) {
    if (dense >= dense_limit) {
      auto at = find_bytes_memmem(hay, from, needle, fallback_span);
      if (at != std::string_view::npos || from + fallback_span >= hay.size()) return at;
      from += fallback_span;
      dense = 0;
      continue;
    }
    const void* hit = std::memchr(hay.data() + from, needle.front(), hay.size() - from - rest.size());
    if (hit == nullptr) return std::string_view::npos;
    auto at = static_cast<std::size_t>(static_cast<const char*>(hit) - hay.data());
    if (std::memcmp(hay.data() + at + 1, rest.data(), rest.size()) == 0) return at;
    dense = at - from < dense_gap ? dense + 1 : 0;
    from = at + 1;
  }
  return std::string_view::npos;
}

/// The first delimiter at or after `from`. The boundary holds no CR, so full matches of
/// the delimiter never overlap and rejected candidates cost linear time in total.
std::optional<delimiter> find_delimiter(std::string_view body, std::size_t from,
                                        std::string_view delim) {
  for (;;) {
    auto at = find_bytes(body, from, delim);
    if (at == std::string_view::npos) return std::nullopt;
    if (auto d = delimiter_at(body, at, delim)) return d;
    from = at + delim.size();
  }
}

// ---- one part ----

using header_list = std::vector<std::pair<std::string, std::string>>;

/// Splits a header block (without its final blank line) into lowercased names and
/// values; folded continuation lines join the previous value.
std::optional<header_list> parse_header_lines(std::string_view block, std::string* error) {
  header_list out;
  while (!block.empty()) {
    auto end = block.find(crlf);
    auto line = block.substr(0, end);
    block = end == std::string_view::npos ? std::string_view{} : block.substr(end + 2);
    if (!line.empty() && is_space(line.front()) && !out.empty()) {
      out.back().second += ' ';
      out.back().second += trim(line);
      continue;
    }
    auto colon = line.find(':');
    if (colon == std::string_view::npos || trim(line.substr(0, colon)).empty())
      return refuse(error, "malformed part header line");
    out.emplace_back(to_lower(trim(line.substr(0, colon))),
                     std::string(trim(line.substr(colon + 1))));
  }
  return out;
}

/// Fills name, filename and content type of `part` from its headers.
bool apply_headers(const header_list& headers, form_part_view& part, std::string* error) {
  const std::string* disposition = nullptr;
  for (const auto& [name, value] : headers) {
    if (name == "content-disposition" && !disposition) disposition = &value;
    if (name == "content-type" && part.content_type.empty()) part.content_type = value;
  }
  if (!disposition) return fail(error, "no Content-Disposition header");
  auto parsed = parse_header_value(*disposition);
  if (!parsed) return fail(error, "malformed Content-Disposition header");
  if (parsed->type != "form-data") return fail(error, "Content-Disposition is not form-data");
  auto name = param(*parsed, "name");
  if (!name) return fail(error, "Content-Disposition has no name");
  part.name = *name;
  if (auto filename = param(*parsed, "filename"))
    part.filename = *filename;
  else if (auto extended = param(*parsed, "filename*"))
    part.filename = decode_ext_value(*extended);
  return true;
}

/// Parses the part occupying `raw` (the bytes between two delimiter lines).
bool parse_part(std::string_view raw, form_part_view& part, std::string* error) {
  std::size_t data_start = 0;
  std::string_view block;
  if (raw.substr(0, 2) == crlf) {
    data_start = 2;  // no headers at all
  } else {
    auto blank = raw.find("\r\n\r\n");
    if (blank == std::string_view::npos) return fail(error, "no blank line after the part headers");
    block = raw.substr(0, blank);
    data_start = blank + 4;
  }
  auto headers = parse_header_lines(block, error);
  if (!headers || !apply_headers(*headers, part, error)) return false;
  part.data = raw.substr(data_start);
  return true;
}

std::string random_boundary() {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  static constexpr char digits[] = "0123456789abcdef";
  std::string out = "----sova-";
  for (int word = 0; word < 2; ++word) {
    auto bits = rng();
    for (int i = 0; i < 16; ++i, bits >>= 4) out += digits[bits & 0xf];
  }
  return out;
}

bool occurs_in_data(const std::vector<form_part>& parts, std::string_view boundary) {
  for (const auto& p : parts)
    if (p.data.find(boundary) != std::string::npos) return true;
  return false;
}

/// A header parameter value in quotes: quotes and backslashes escaped, line breaks
/// percent-encoded as browsers do (they cannot appear in a header line).
std::string quote(std::string_view v) {
  std::string out = "\"";
  for (char c : v) {
    if (c == '"' || c == '\\') out += '\\';
    if (c == '\r') out += "%0D";
    else if (c == '\n') out += "%0A";
    else out += c;
  }
  return out + '"';
}

std::string header_safe(std::string_view v) {
  std::string out;
  for (char c : v)
    if (c != '\r' && c != '\n') out += c;
  return out;
}

}  // namespace

std::optional<std::string> multipart_boundary(std::string_view content_type) {
  auto parsed = parse_header_value(content_type);
  if (!parsed || parsed->type != "multipart/form-data") return std::nullopt;
  auto boundary = param(*parsed, "boundary");
  if (!boundary || !valid_boundary(*boundary)) return std::nullopt;
  return *boundary;
}

std::optional<std::vector<form_part_view>> parse_multipart_view(std::string_view body,
                                                                std::string_view boundary,
                                                                std::string* error) {
  if (!valid_boundary(boundary)) return refuse(error, "invalid boundary");
  const std::string delim = "\r\n--" + std::string(boundary);
  // The first delimiter may open the body without the CRLF before it.
  auto d = delimiter_at(body, 0, std::string_view(delim).substr(2));
  if (!d) d = find_delimiter(body, 0, delim);
  if (!d) return refuse(error, "boundary not found in the body");
  std::vector<form_part_view> parts;
  while (!d->closing) {
    auto next = find_delimiter(body, d->next, delim);
    if (!next) return refuse(error, "no closing boundary");
    form_part_view part;
    if (!parse_part(body.substr(d->next, next->at - d->next), part, error)) {
      if (error) *error = "part " + std::to_string(parts.size() + 1) + ": " + *error;
      return std::nullopt;
    }
    parts.push_back(std::move(part));
    d = next;
  }
  return parts;
}

std::optional<std::vector<form_part>> parse_multipart(std::string_view body,
                                                      std::string_view boundary,
                                                      std::string* error) {
  auto views = parse_multipart_view(body, boundary, error);
  if (!views) return std::nullopt;
  std::vector<form_part> parts;
  parts.reserve(views->size());
  for (auto& v : *views)
    parts.push_back({std::move(v.name), std::move(v.filename), std::move(v.content_type),
                     std::string(v.data)});
  return parts;
}

std::string build_multipart(const std::vector<form_part>& parts, std::string& boundary) {
  if (!valid_boundary(boundary) || occurs_in_data(parts, boundary)) {
    do boundary = random_boundary();
    while (occurs_in_data(parts, boundary));
  }
  std::size_t size = 0;
  for (const auto& p : parts) size += p.data.size() + p.name.size() + p.filename.size() + 160;
  std::string out;
  out.reserve(size + boundary.size() * (parts.size() + 1));
  for (const auto& p : parts) {
    out += "--" + boundary + "\r\nContent-Disposition: form-data; name=" + quote(p.name);
    if (!p.filename.empty()) out += "; filename=" + quote(p.filename);
    out += crlf;
    if (!p.content_type.empty()) out += "Content-Type: " + header_safe(p.content_type) + "\r\n";
    out += crlf;
    out += p.data;
    out += crlf;
  }
  out += "--" + boundary + "--\r\n";
  return out;
}

}  // namespace sova::http
