#include "http/routes.hpp"

#include <array>
#include <cstddef>
#include <utility>

#include <nlohmann/json.hpp>

#include "http/json_check.hpp"
#include "http/multipart.hpp"
#include "http/numeric_text.hpp"
#include "http/reservation.hpp"
#include "http/text.hpp"
#include "web/assets.hpp"

namespace sova::http {

namespace {

using json = nlohmann::json;

// ---- routes ----

struct served_path {
  std::string_view path;
  route_kind kind;
};

constexpr std::array<served_path, 7> served_paths{{
    {"/asr", route_kind::asr},
    {"/asr/", route_kind::asr},
    {"/synthesize", route_kind::tts},
    {"/synthesize/", route_kind::tts},
    {"/healthz", route_kind::healthz},
    {"/status", route_kind::status},
    {"/metrics", route_kind::metrics},
}};

// OpenAI's audio API, in a block of its own.
constexpr std::string_view openai_prefix = "/v1/";
constexpr std::array<served_path, 3> openai_paths{{
    {"/v1/audio/transcriptions", route_kind::openai_transcriptions},
    {"/v1/audio/speech", route_kind::openai_speech},
    {"/v1/models", route_kind::openai_models},
}};

// Late binding between nodes: the collection, and one reservation by its id.
constexpr std::string_view reservation_template = "/v1/reservations/{id}";

// For clients: the reservation paths are between nodes, which read no 404's message.
constexpr std::string_view served_list =
    "POST /asr, POST /synthesize, GET /healthz, GET /status, GET /metrics, GET / (the web page), "
    "POST /v1/audio/transcriptions, POST /v1/audio/speech, GET /v1/models";

std::optional<route_kind> kind_of(std::string_view path) {
  for (const auto& p : served_paths)
    if (p.path == path) return p.kind;
  if (web::find_asset(path)) return route_kind::page;
  for (const auto& p : openai_paths)
    if (p.path == path) return p.kind;
  if (path == reservations_path) return route_kind::reserve;
  // Any id: a bad one is a 400 once the method is known to be right.
  if (is_reservation_path(path)) return route_kind::cancel_reservation;
  return std::nullopt;
}

bool takes_body(route_kind kind) {
  return kind == route_kind::asr || kind == route_kind::tts ||
         kind == route_kind::openai_transcriptions || kind == route_kind::openai_speech;
}

/// The value of the Allow header of `kind`'s paths.
std::string_view allowed_methods(route_kind kind) {
  if (kind == route_kind::reserve) return "POST";
  if (kind == route_kind::cancel_reservation) return "DELETE";
  return takes_body(kind) ? "POST" : "GET, HEAD";
}

/// Methods are case-sensitive (RFC 9110), so "post" is not POST.
bool method_allowed(route_kind kind, std::string_view method) {
  auto allowed = allowed_methods(kind);
  if (allowed == "GET, HEAD") return method == "GET" || method == "HEAD";
  return method == allowed;
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

/// Form-style decoding of one query component: `+` is a space, `%XY` a byte; a `%` not
/// followed by two hex digits stays as it is.
std::string percent_decode(std::string_view s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    int hi = i + 2 < s.size() ? hex_value(s[i + 1]) : -1;
    int lo = i + 2 < s.size() ? hex_value(s[i + 2]) : -1;
    if (s[i] == '%' && hi >= 0 && lo >= 0) {
      out += static_cast<char>(hi * 16 + lo);
      i += 2;
    } else {
      out += s[i] == '+' ? ' ' : s[i];
    }
  }
  return out;
}

/// Reads `backend=` from the query into `r`; other parameters are ignored, and when
/// backend is given more than once every value must be valid and the last one counts.
std::optional<response> read_query(std::string_view query, route& r) {
  while (!query.empty()) {
    auto amp = query.find('&');
    auto param = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view{} : query.substr(amp + 1);
    auto eq = param.find('=');
    if (percent_decode(param.substr(0, eq)) != "backend") continue;
    auto value = eq == std::string_view::npos ? "" : percent_decode(param.substr(eq + 1));
    auto wanted = net::parse_wanted_kind(value);
    if (!wanted)
      return error_response(400, "bad_request",
                            "backend '" + shown(value) + "' is not one of cpu, gpu, any");
    r.wanted = *wanted;
  }
  return std::nullopt;
}

std::optional<route> refuse(response* error, response reply) {
  if (error) *error = std::move(reply);
  return std::nullopt;
}

// ---- TTS body ----

// numeric_string: a string that Python's float() reads, which SOVA TTS takes for a number.
enum class json_kind { absent, null, boolean, number, numeric_string, string, object, array };

std::string_view kind_name(json_kind k) {
  switch (k) {
    case json_kind::absent: return "nothing";
    case json_kind::null: return "null";
    case json_kind::boolean: return "a boolean";
    case json_kind::number: return "a number";
    case json_kind::numeric_string: return "a numeric string";
    case json_kind::string: return "a string";
    case json_kind::object: return "an object";
    case json_kind::array: return "an array";
  }
  return "?";
}

json_kind kind_from(json_type t) {
  switch (t) {
    case json_type::null: return json_kind::null;
    case json_type::boolean: return json_kind::boolean;
    case json_type::number: return json_kind::number;
    case json_type::string: return json_kind::string;
    case json_type::object: return json_kind::object;
    case json_type::array: return json_kind::array;
  }
  return json_kind::absent;
}

/// The top-level fields a TTS body is checked for, and the kind each must have (a number
/// field also takes a numeric string, as SOVA TTS does). Others pass unchecked: the backend
/// decides about them. A real SOVA TTS answers a body without text or voice with HTTP 500.
struct tts_field {
  std::string_view name;
  json_kind wanted;
  bool required;
  std::string_view code;  // of the 400 reply when the field is wrong
};

constexpr std::array<tts_field, 5> tts_fields{{
    {"text", json_kind::string, true, "missing_text"},
    {"voice", json_kind::string, true, "missing_voice"},
    {"rate", json_kind::number, false, "bad_request"},
    {"pitch", json_kind::number, false, "bad_request"},
    {"volume", json_kind::number, false, "bad_request"},
}};

bool accepts(const tts_field& f, json_kind got) {
  if (got == f.wanted) return true;
  if (got == json_kind::absent) return !f.required;
  return f.wanted == json_kind::number && got == json_kind::numeric_string;
}

/// The index of the field called `name` in tts_fields; tts_fields.size() when none is.
std::size_t tts_field_index(std::string_view name) {
  for (std::size_t i = 0; i < tts_fields.size(); ++i)
    if (tts_fields[i].name == name) return i;
  return tts_fields.size();
}

/// Notes the kind of each of `tts_fields` at the top level, without building a DOM: a
/// body of 32 MiB of `[` or of small numbers costs no memory beyond the parser's bit per
/// nesting level. Stops at the first sign that the root is not an object.
class tts_scanner : public nlohmann::json_sax<json> {
public:
  std::array<json_kind, tts_fields.size()> kinds{};  // all absent
  bool root_not_object = false;
  std::string syntax_error;  // empty unless the body is not JSON

  bool null() override { return value(json_kind::null); }
  bool boolean(bool) override { return value(json_kind::boolean); }
  bool number_integer(number_integer_t) override { return value(json_kind::number); }
  bool number_unsigned(number_unsigned_t) override { return value(json_kind::number); }
  bool number_float(number_float_t, const string_t&) override { return value(json_kind::number); }
  bool string(string_t& s) override {
    bool numeric = depth_ == 1 && field_ != none && tts_fields[field_].wanted == json_kind::number &&
                   python_float(s).has_value();
    return value(numeric ? json_kind::numeric_string : json_kind::string);
  }
  bool binary(binary_t&) override { return value(json_kind::string); }  // never from JSON text
  bool start_object(std::size_t) override { return open(json_kind::object); }
  bool start_array(std::size_t) override { return open(json_kind::array); }
  bool end_object() override { return close(); }
  bool end_array() override { return close(); }

  bool key(string_t& k) override {
    if (depth_ == 1) field_ = tts_field_index(k);
    return true;
  }

  bool parse_error(std::size_t position, const std::string&, const json::exception& ex) override {
    syntax_error = "at byte " + std::to_string(position) + ": " + shown(reason(ex.what()), 200);
    return false;
  }

private:
  static constexpr std::size_t none = tts_fields.size();
  std::size_t depth_ = 0;
  std::size_t field_ = none;  // the top-level key whose value comes next, if checked

  /// nlohmann's message without its "[json.exception.parse_error.101] " prefix.
  static std::string_view reason(std::string_view what) {
    auto end = what.find("] ");
    return end == std::string_view::npos ? what : what.substr(end + 2);
  }

  /// A value at the current depth; a later duplicate key overrides, as in a DOM.
  bool value(json_kind k) {
    if (depth_ == 0 && k != json_kind::object) {
      root_not_object = true;
      return false;
    }
    if (depth_ == 1 && field_ != none) kinds[field_] = k;
    return true;
  }

  bool open(json_kind k) {
    if (!value(k)) return false;
    ++depth_;
    return true;
  }

  bool close() {
    --depth_;
    return true;
  }
};

using tts_kinds = std::array<json_kind, tts_fields.size()>;

/// The kinds of `tts_fields` in a body that is a JSON object, by is_json; nothing when it
/// is not one, a top-level key has an escape (compared only once decoded), or a number
/// field holds a string (whose text decides whether it is a number).
std::optional<tts_kinds> tts_kinds_fast(std::string_view body) {
  tts_kinds kinds{};  // all absent
  bool slow = false;
  json_type root = json_type::null;
  auto member = [&](const json_member& m) {
    if (m.raw_key.find('\\') != std::string_view::npos) {
      slow = true;
      return;
    }
    auto i = tts_field_index(m.raw_key);
    if (i >= kinds.size()) return;
    kinds[i] = kind_from(m.type);  // a later duplicate wins
    if (m.type == json_type::string && tts_fields[i].wanted == json_kind::number) slow = true;
  };
  if (!is_json(body, root, member) || root != json_type::object || slow) return std::nullopt;
  return kinds;
}

std::optional<response> field_error(const tts_field& f, json_kind got) {
  if (got == json_kind::absent)
    return error_response(400, f.code,
                          "the JSON object has no \"" + std::string(f.name) + "\" field" +
                              (f.name == "voice" ? " (SOVA TTS needs one: Natasha, Ruslan, ...)" : ""));
  auto wanted = f.wanted == json_kind::number ? std::string("a number or a numeric string")
                                              : std::string(kind_name(f.wanted));
  auto got_name = got == json_kind::string && f.wanted == json_kind::number
                      ? std::string("a string that is not a number")
                      : std::string(kind_name(got));
  return error_response(400, f.code,
                        "\"" + std::string(f.name) + "\" must be " + wanted + ", got " + got_name);
}

std::optional<response> check_tts_kinds(const tts_kinds& kinds, bool voice_required) {
  for (std::size_t i = 0; i < tts_fields.size(); ++i) {
    auto f = tts_fields[i];
    if (f.name == "voice") f.required = voice_required;
    if (!accepts(f, kinds[i])) return field_error(f, kinds[i]);
  }
  return std::nullopt;
}

response not_json(const std::string& where_and_why) {
  return error_response(400, "bad_json", "the body is not valid JSON " + where_and_why);
}


}  // namespace

bool is_openai_route(route_kind kind) {
  return kind == route_kind::openai_transcriptions || kind == route_kind::openai_speech ||
         kind == route_kind::openai_models;
}

bool is_openai_path(std::string_view target) {
  return target.substr(0, openai_prefix.size()) == openai_prefix && !is_reservation_path(target);
}

std::vector<served_route> route_table() {
  std::vector<served_route> out;
  for (const auto& p : served_paths) out.push_back({p.path, p.kind, allowed_methods(p.kind)});
  for (const auto& a : web::assets())
    out.push_back({a.path, route_kind::page, allowed_methods(route_kind::page)});
  for (const auto& p : openai_paths) out.push_back({p.path, p.kind, allowed_methods(p.kind)});
  out.push_back({reservations_path, route_kind::reserve, allowed_methods(route_kind::reserve)});
  out.push_back({reservation_template, route_kind::cancel_reservation,
                 allowed_methods(route_kind::cancel_reservation)});
  return out;
}

std::optional<route> match_route(std::string_view method, std::string_view target,
                                 response* error) {
  auto qmark = target.find('?');
  auto path = target.substr(0, qmark);
  auto kind = kind_of(path);
  if (!kind)
    return refuse(error, error_response(404, "not_found",
                                        "no such path '" + shown(path) + "'; served: " +
                                            std::string(served_list)));
  if (!method_allowed(*kind, method)) {
    auto allow = std::string(allowed_methods(*kind));
    auto reply = error_response(405, "method_not_allowed",
                                shown(method) + " is not allowed on " + std::string(path) +
                                    "; allowed: " + allow);
    reply.headers.emplace_back("Allow", allow);
    return refuse(error, std::move(reply));
  }
  if (*kind == route_kind::cancel_reservation && !reservation_id_of(path))
    return refuse(error, error_response(400, "bad_request",
                                        "'" + shown(path.substr(reservations_path.size() + 1)) +
                                            "' is not a reservation id (1-64 characters of "
                                            "0-9 A-Z a-z _ -)"));
  route r;
  r.kind = *kind;
  if (takes_body(*kind) && qmark != std::string_view::npos)
    if (auto bad = read_query(target.substr(qmark + 1), r)) return refuse(error, std::move(*bad));
  return r;
}

std::optional<response> check_asr_body(std::string_view content_type, std::string_view body) {
  auto boundary = multipart_boundary(content_type);
  if (!boundary)
    return error_response(400, "bad_request",
                          "expected a multipart/form-data form (with a boundary) holding an "
                          "audio_blob file field; got Content-Type '" +
                              shown(content_type) + "'");
  // An empty body is an empty form, which RFC 2046 cannot spell: say what it lacks.
  if (body.empty())
    return error_response(400, "no_audio", "the form is empty; it needs an audio_blob file field");
  std::string reason;
  auto parts = parse_multipart_view(body, *boundary, &reason);
  if (!parts)
    return error_response(400, "bad_request", "malformed multipart/form-data body: " + reason);
  // SOVA ASR reads only file parts (with a filename) of the audio_blob* fields.
  bool field_without_file = false;
  for (const auto& p : *parts) {
    if (std::string_view(p.name).substr(0, 10) != "audio_blob") continue;
    if (!p.filename.empty()) return std::nullopt;
    field_without_file = true;
  }
  if (field_without_file)
    return error_response(400, "no_audio",
                          "the form's audio_blob fields carry no file (a part needs a filename "
                          "to be read as a recording)");
  return error_response(400, "no_audio", "the form has no field whose name starts with audio_blob");
}

std::optional<response> check_tts_body(std::string_view body, bool voice_required) {
  // nlohmann's lexer takes a NUL for the end of input and would ignore what follows it;
  // JSON allows no NUL anywhere (strings must escape it). Bytes count from 1, as nlohmann's do.
  if (auto nul = body.find('\0'); nul != std::string_view::npos)
    return not_json("at byte " + std::to_string(nul + 1) + ": a NUL byte");
  // The common case in one cheap pass; nlohmann's (which builds strings) for the rest and
  // for its error messages. Both decide validity alike (unit_json_check).
  if (auto kinds = tts_kinds_fast(body)) return check_tts_kinds(*kinds, voice_required);
  tts_scanner scan;
  json::sax_parse(body.data(), body.data() + body.size(), &scan);
  if (scan.root_not_object)
    return error_response(400, "bad_json", "the body must be a JSON object");
  if (!scan.syntax_error.empty()) return not_json(scan.syntax_error);
  return check_tts_kinds(scan.kinds, voice_required);
}

}  // namespace sova::http
