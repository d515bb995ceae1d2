// The node's HTTP API as pure functions: which route a request names (paths, methods,
// ?backend=), and which ASR and TTS bodies may be forwarded; every refusal is the
// API.md error JSON with the right status and code.
#define CAF_SUITE routes
#include "caf/test/unit_test.hpp"

#include <chrono>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "http/multipart.hpp"
#include "http/routes.hpp"

using namespace sova::http;
using json = nlohmann::json;
using std::chrono::steady_clock;

namespace {

/// Requires `r` to be the API.md error reply with `status` and `code`; returns its message.
std::string check_error(const response& r, unsigned status, const std::string& code) {
  CAF_CHECK_EQUAL(r.status, status);
  CAF_CHECK_EQUAL(r.content_type, "application/json");
  auto body = json::parse(r.body, nullptr, false);
  if (body.is_discarded()) {
    CAF_ERROR("reply body is not JSON: " << r.body);
    return {};
  }
  CAF_CHECK_EQUAL(body.value("response_code", -1), 1);
  const auto& error = body.value("error", json::object());
  CAF_CHECK_EQUAL(error.value("code", ""), code);
  auto message = error.value("message", "");
  CAF_CHECK(!message.empty());
  return message;
}

/// Requires `text` to contain `part`.
void check_mentions(const std::string& text, const std::string& part) {
  if (text.find(part) == std::string::npos)
    CAF_ERROR("'" << text << "' does not mention '" << part << "'");
}

/// The route, which must match.
route matched(std::string_view method, std::string_view target) {
  response error;
  auto r = match_route(method, target, &error);
  if (!r) {
    CAF_ERROR(method << " " << target << " refused: " << error.body);
    return {};
  }
  return *r;
}

/// The refusal, which must happen.
response refused(std::string_view method, std::string_view target) {
  response error;
  if (match_route(method, target, &error)) CAF_ERROR(method << " " << target << " matched");
  return error;
}

/// The Allow header of `r`, or "<none>".
std::string allow_of(const response& r) {
  for (const auto& [name, value] : r.headers)
    if (name == "Allow") return value;
  return "<none>";
}

constexpr std::string_view form_type = "multipart/form-data; boundary=b";

std::string form(const std::vector<form_part>& parts) {
  std::string boundary = "b";
  auto body = build_multipart(parts, boundary);
  CAF_REQUIRE_EQUAL(boundary, "b");
  return body;
}

form_part audio(std::string name) { return {std::move(name), "a.wav", "audio/wav", "RIFF...."}; }

/// The ASR refusal, which must happen.
response asr_refused(std::string_view content_type, std::string_view body) {
  auto r = check_asr_body(content_type, body);
  if (!r) {
    CAF_ERROR("ASR body accepted");
    return {};
  }
  return *r;
}

/// The TTS refusal, which must happen.
response tts_refused(std::string_view body) {
  auto r = check_tts_body(body);
  if (!r) {
    CAF_ERROR("TTS body accepted: " << body.substr(0, 80));
    return {};
  }
  return *r;
}

/// Requires the TTS body to pass, reporting the refusal otherwise.
void tts_ok(std::string_view body) {
  if (auto r = check_tts_body(body)) CAF_ERROR("refused " << body.substr(0, 80) << ": " << r->body);
}

}  // namespace

// ---- routes ----

CAF_TEST(asr_and_tts_with_and_without_trailing_slash) {
  for (auto target : {"/asr", "/asr/"}) {
    auto r = matched("POST", target);
    CAF_CHECK(r.kind == route_kind::asr);
    CAF_CHECK_EQUAL(r.wanted, sova::net::wanted_kind::any);
  }
  for (auto target : {"/synthesize", "/synthesize/"}) {
    auto r = matched("POST", target);
    CAF_CHECK(r.kind == route_kind::tts);
    CAF_CHECK_EQUAL(r.wanted, sova::net::wanted_kind::any);
  }
}

CAF_TEST(healthz_status_and_metrics_take_get_and_head) {
  for (auto method : {"GET", "HEAD"}) {
    CAF_CHECK(matched(method, "/metrics").kind == route_kind::metrics);
    CAF_CHECK(matched(method, "/healthz").kind == route_kind::healthz);
    CAF_CHECK(matched(method, "/status").kind == route_kind::status);
    CAF_CHECK(matched(method, "/status?verbose=1").kind == route_kind::status);
  }
}

CAF_TEST(wrong_method_is_405_with_allow) {
  for (auto [method, target] : std::vector<std::pair<std::string, std::string>>{
           {"GET", "/asr"}, {"HEAD", "/asr/"}, {"PUT", "/synthesize"}, {"GET", "/synthesize/"},
           {"post", "/asr"}}) {
    auto r = refused(method, target);
    check_mentions(check_error(r, 405, "method_not_allowed"), "POST");
    CAF_CHECK_EQUAL(allow_of(r), "POST");
  }
  for (auto [method, target] : std::vector<std::pair<std::string, std::string>>{
           {"POST", "/healthz"}, {"DELETE", "/status"}, {"get", "/status"}, {"POST", "/metrics"},
           {"POST", "/"}, {"PUT", "/ui/app.js"}}) {
    auto r = refused(method, target);
    check_mentions(check_error(r, 405, "method_not_allowed"), "GET");
    CAF_CHECK_EQUAL(allow_of(r), "GET, HEAD");
  }
}

CAF_TEST(unknown_path_is_404_listing_the_served_ones) {
  for (auto target : {"/index.html", "/ui/", "", "/asrx", "/ASR", "/asr/x", "/asr//", "/synthesize//",
                      "/healthz/", "/metric?x=1", "/metrics/", "*", "http://host/asr"}) {
    auto r = refused("POST", target);
    auto message = check_error(r, 404, "not_found");
    auto path = std::string_view(target).substr(0, std::string_view(target).find('?'));
    check_mentions(message, "'" + std::string(path) + "'");
    check_mentions(message, "/asr");
    check_mentions(message, "/synthesize");
    check_mentions(message, "/healthz");
    check_mentions(message, "/metrics");
    CAF_CHECK_EQUAL(allow_of(r), "<none>");
  }
  // The path decides before the method does.
  check_error(refused("GET", "/nope"), 404, "not_found");
}

CAF_TEST(backend_query) {
  CAF_CHECK_EQUAL(matched("POST", "/asr?backend=gpu").wanted, sova::net::wanted_kind::gpu);
  CAF_CHECK_EQUAL(matched("POST", "/synthesize/?backend=cpu").wanted, sova::net::wanted_kind::cpu);
  CAF_CHECK_EQUAL(matched("POST", "/synthesize?backend=any").wanted, sova::net::wanted_kind::any);
  CAF_CHECK_EQUAL(matched("POST", "/asr?").wanted, sova::net::wanted_kind::any);
  CAF_CHECK_EQUAL(matched("POST", "/asr/?lang=ru&x&=&&").wanted, sova::net::wanted_kind::any);
  CAF_CHECK_EQUAL(matched("POST", "/asr?lang=ru&backend=gpu&x=1").wanted, sova::net::wanted_kind::gpu);
  CAF_CHECK_EQUAL(matched("POST", "/asr?backend=cpu&backend=gpu").wanted, sova::net::wanted_kind::gpu);
  CAF_CHECK_EQUAL(matched("POST", "/asr?%62ackend=%67pu").wanted, sova::net::wanted_kind::gpu);
  CAF_CHECK_EQUAL(matched("POST", "/asr?backends=bogus&xbackend=bogus").wanted, sova::net::wanted_kind::any);
}

CAF_TEST(bad_backend_is_400_naming_value_and_allowed_ones) {
  auto message = check_error(refused("POST", "/asr?backend=bogus"), 400, "bad_request");
  for (auto part : {"'bogus'", "cpu", "gpu", "any"}) check_mentions(message, part);
  check_mentions(check_error(refused("POST", "/synthesize?backend="), 400, "bad_request"), "''");
  check_mentions(check_error(refused("POST", "/asr?backend"), 400, "bad_request"), "''");
  check_mentions(check_error(refused("POST", "/asr?backend=GPU"), 400, "bad_request"), "'GPU'");
  check_mentions(check_error(refused("POST", "/asr?backend=g%20u"), 400, "bad_request"), "'g u'");
  // A bad value is refused even when a good one follows.
  check_error(refused("POST", "/asr?backend=x&backend=cpu"), 400, "bad_request");
}

CAF_TEST(hostile_backend_value_gives_a_short_valid_json_reply) {
  // Raw bytes, a NUL and a quote: the reply must still parse as JSON.
  auto message = check_error(refused("POST", "/asr?backend=%FF%00%22\x80"), 400, "bad_request");
  check_mentions(message, "%FF%00\"%80");
  auto long_value = std::string(100000, 'x');
  auto r = refused("POST", "/asr?backend=" + long_value);
  check_error(r, 400, "bad_request");
  CAF_CHECK_LESS(r.body.size(), 500u);
}

CAF_TEST(query_is_ignored_where_no_backend_is_chosen) {
  CAF_CHECK(matched("GET", "/healthz?backend=bogus").kind == route_kind::healthz);
  CAF_CHECK(matched("GET", "/status?backend=bogus").kind == route_kind::status);
}

CAF_TEST(method_is_checked_before_query) {
  auto r = refused("GET", "/asr?backend=bogus");
  check_error(r, 405, "method_not_allowed");
  CAF_CHECK_EQUAL(allow_of(r), "POST");
}

CAF_TEST(no_error_slot_is_fine) {
  CAF_CHECK(!match_route("GET", "/nope", nullptr));
  CAF_CHECK(!match_route("GET", "/asr", nullptr));
  CAF_CHECK(!match_route("POST", "/asr?backend=x", nullptr));
}

CAF_TEST(reservations_are_posted_to_the_collection_and_deleted_by_id) {
  CAF_CHECK(matched("POST", "/v1/reservations").kind == route_kind::reserve);
  // No backend is chosen here: the query is ignored, the body says the kind.
  CAF_CHECK(matched("POST", "/v1/reservations?backend=bogus").kind == route_kind::reserve);
  for (auto target : {"/v1/reservations/0123456789abcdef", "/v1/reservations/a_B-9?x=1"})
    CAF_CHECK(matched("DELETE", target).kind == route_kind::cancel_reservation);
  CAF_CHECK(matched("DELETE", "/v1/reservations/" + std::string(64, 'z')).kind ==
            route_kind::cancel_reservation);
}

CAF_TEST(reservation_paths_take_one_method_each) {
  for (auto method : {"GET", "HEAD", "PUT", "DELETE", "post"}) {
    auto r = refused(method, "/v1/reservations");
    check_error(r, 405, "method_not_allowed");
    CAF_CHECK_EQUAL(allow_of(r), "POST");
  }
  for (auto method : {"GET", "HEAD", "POST", "delete"}) {
    auto r = refused(method, "/v1/reservations/abc");
    check_error(r, 405, "method_not_allowed");
    CAF_CHECK_EQUAL(allow_of(r), "DELETE");
  }
}

CAF_TEST(a_delete_of_something_that_is_no_id_is_400) {
  for (auto id : {"", "a/b", "a%20b", "a.b", "\xd0\xbf"}) {
    auto message = check_error(refused("DELETE", "/v1/reservations/" + std::string(id)), 400,
                               "bad_request");
    check_mentions(message, "is not a reservation id");
  }
  check_error(refused("DELETE", "/v1/reservations/" + std::string(65, 'a')), 400, "bad_request");
  // The method first, as elsewhere.
  check_error(refused("GET", "/v1/reservations/a.b"), 405, "method_not_allowed");
}

CAF_TEST(reservation_paths_are_ours_and_the_rest_of_v1_openais) {
  for (auto target : {"/v1/reservations", "/v1/reservations/abc", "/v1/reservations/a/b",
                      "/v1/reservations?x=1"})
    CAF_CHECK(!is_openai_path(target));
  for (auto target : {"/v1/models", "/v1/audio/speech", "/v1/nope", "/v1/reservationsx",
                      "/v1/reservation"})
    CAF_CHECK(is_openai_path(target));
  check_error(refused("POST", "/v1/reservationsx"), 404, "not_found");
}

// ---- ASR bodies ----

CAF_TEST(asr_form_with_audio_blob_passes) {
  CAF_CHECK(!check_asr_body(form_type, form({audio("audio_blob")})));
  CAF_CHECK(!check_asr_body(form_type, form({{"lang", "", "", "ru"}, audio("audio_blob2")})));
  CAF_CHECK(!check_asr_body(form_type, form({audio("audio_blob1"), audio("audio_blob2")})));
  CAF_CHECK(!check_asr_body("Multipart/Form-Data; Boundary=\"b\"", form({audio("audio_blob")})));
}

CAF_TEST(asr_form_without_audio_blob_is_no_audio) {
  check_error(asr_refused(form_type, form({{"lang", "", "", "ru"}})), 400, "no_audio");
  check_error(asr_refused(form_type, form({audio("audio")})), 400, "no_audio");
  check_error(asr_refused(form_type, form({audio("Audio_blob")})), 400, "no_audio");
  check_error(asr_refused(form_type, form({audio("xaudio_blob")})), 400, "no_audio");
}

CAF_TEST(asr_audio_blob_fields_without_a_file_are_no_audio) {
  // SOVA ASR reads only parts with a filename: a plain field would be ignored there.
  auto plain = form_part{"audio_blob", "", "", "RIFF...."};
  check_mentions(check_error(asr_refused(form_type, form({plain})), 400, "no_audio"), "filename");
  check_error(asr_refused(form_type, form({plain, {"audio_blob2", "", "", "x"}})), 400, "no_audio");
  CAF_CHECK(!check_asr_body(form_type, form({plain, audio("audio_blob2")})));
}

CAF_TEST(asr_empty_form_is_no_audio) {
  check_mentions(check_error(asr_refused(form_type, "--b--\r\n"), 400, "no_audio"), "audio_blob");
  check_mentions(check_error(asr_refused(form_type, ""), 400, "no_audio"), "audio_blob");
}

CAF_TEST(asr_body_that_is_not_a_form_is_bad_request) {
  auto body = form({audio("audio_blob")});
  for (auto type : {"application/json", "", "multipart/form-data", "multipart/mixed; boundary=b",
                    "multipart/form-data; boundary=", "text/plain; boundary=b"}) {
    auto message = check_error(asr_refused(type, body), 400, "bad_request");
    check_mentions(message, "multipart/form-data");
    check_mentions(message, "audio_blob");
  }
}

CAF_TEST(asr_broken_form_is_bad_request_with_the_reason) {
  auto body = form({audio("audio_blob")});
  auto unclosed = body.substr(0, body.rfind("--b--"));
  check_mentions(check_error(asr_refused(form_type, unclosed), 400, "bad_request"),
                 "no closing boundary");
  check_mentions(check_error(asr_refused("multipart/form-data; boundary=other", body), 400,
                             "bad_request"),
                 "boundary not found");
  auto no_disposition = "--b\r\nContent-Type: audio/wav\r\n\r\nRIFF\r\n--b--\r\n";
  check_mentions(check_error(asr_refused(form_type, no_disposition), 400, "bad_request"),
                 "Content-Disposition");
}

// ---- TTS bodies ----

CAF_TEST(tts_valid_bodies_pass) {
  tts_ok(R"({"text": "добрый день", "voice": "Natasha", "rate": 1.0, "pitch": 1,
             "volume": -2})");
  tts_ok(R"({"text": "hi", "voice": "Ruslan"})");
  tts_ok(" \r\n{\"voice\": \"all\", \"text\": \"hi\"}\n ");
  // Fields the node does not know, and any nesting inside them, are the backend's business.
  tts_ok(R"({"text": "hi", "voice": "v", "extra": {"text": 5, "rate": "x"}, "list": [1, {"voice": 2}]})");
  // A duplicate key counts with its last value, as in a parsed DOM.
  tts_ok(R"({"text": 1, "text": "hi", "voice": "Natasha"})");
}

CAF_TEST(tts_empty_text_passes) { tts_ok(R"({"text": "", "voice": "Natasha"})"); }

CAF_TEST(tts_voice_is_required_as_sova_tts_requires_it) {
  // A real SOVA TTS answers a body without voice with HTTP 500 (it reads it unchecked).
  check_mentions(check_error(tts_refused(R"({"text": "hi"})"), 400, "missing_voice"), "\"voice\"");
  check_mentions(check_error(tts_refused(R"({"text": "hi", "voice": 5})"), 400, "missing_voice"),
                 "a number");
  check_error(tts_refused(R"({"text": "hi", "voice": null})"), 400, "missing_voice");
  check_error(tts_refused(R"({"text": "hi", "inner": {"voice": "Natasha"}})"), 400, "missing_voice");
  check_error(tts_refused(R"({"voice": "Natasha", "text": "hi", "voice": 1})"), 400, "missing_voice");
  // text is checked first.
  check_error(tts_refused("{}"), 400, "missing_text");
  // The reference TTS backend takes a missing voice for Natasha.
  CAF_CHECK(!check_tts_body(R"({"text": "hi"})", false));
  CAF_CHECK(!check_tts_body(R"({"text": "hi", "rate": "1.5"})", false));
  CAF_CHECK(check_tts_body(R"({"text": "hi", "voice": 5})", false));
}

CAF_TEST(tts_numeric_strings_pass_as_sova_tts_reads_them_with_float) {
  tts_ok(R"({"text": "hi", "voice": "Natasha", "rate": "1.2", "pitch": " 1e-1 ", "volume": "-3"})");
  tts_ok(R"({"text": "hi", "voice": "Natasha", "rate": "1_0.5", "pitch": "+.5", "volume": "inf"})");
  tts_ok(R"({"text": "hi", "voice": "Natasha", "rate": "1\u002e5"})");  // decoded first
  tts_ok(R"({"text": "hi", "voice": "Natasha", "rate": "fast", "rate": 2})");  // the last counts
  for (auto body : {R"({"text": "hi", "voice": "Natasha", "rate": "fast"})",
                    R"({"text": "hi", "voice": "Natasha", "pitch": ""})",
                    R"({"text": "hi", "voice": "Natasha", "volume": "1__0"})",
                    R"({"text": "hi", "voice": "Natasha", "rate": 2, "rate": "1,5"})"}) {
    auto message = check_error(tts_refused(body), 400, "bad_request");
    check_mentions(message, "must be a number or a numeric string, got a string that is not a number");
  }
}

CAF_TEST(tts_keys_count_once_their_escapes_are_decoded) {
  tts_ok(R"({"t\u0065xt": "hi", "v\u006fice": "Natasha"})");
  tts_ok(R"({"text": 1, "t\u0065xt": "hi", "voice": "Natasha"})");  // the same key: the last one counts
  check_error(tts_refused(R"({"text": "hi", "t\u0065xt": 1, "voice": "Natasha"})"), 400, "missing_text");
  check_error(tts_refused(R"({"te\"xt": "hi", "voice": "Natasha"})"), 400, "missing_text");
  check_mentions(check_error(tts_refused(R"({"text": "hi", "voice": "N", "r\u0061te": "x"})"), 400,
                             "bad_request"),
                 "rate");
}

CAF_TEST(tts_missing_or_non_string_text) {
  check_mentions(check_error(tts_refused(R"({"voice": "Natasha"})"), 400, "missing_text"), "text");
  check_error(tts_refused("{}"), 400, "missing_text");
  check_mentions(check_error(tts_refused(R"({"text": 5})"), 400, "missing_text"), "a number");
  check_mentions(check_error(tts_refused(R"({"text": null})"), 400, "missing_text"), "null");
  check_error(tts_refused(R"({"text": ["hi"]})"), 400, "missing_text");
  check_error(tts_refused(R"({"text": {"text": "hi"}})"), 400, "missing_text");
  check_error(tts_refused(R"({"inner": {"text": "hi"}})"), 400, "missing_text");
}

CAF_TEST(tts_not_json_is_bad_json_with_position) {
  for (auto body : {"hello", "", "{\"text\": \"hi\"", "{text: \"hi\"}", "{\"text\": \"a\x01\"}"}) {
    auto message = check_error(tts_refused(body), 400, "bad_json");
    check_mentions(message, "byte");
  }
  check_mentions(check_error(tts_refused("{\"text\": tru}"), 400, "bad_json"), "column 13");
}

CAF_TEST(tts_root_must_be_an_object) {
  for (auto body : {R"([{"text": "hi"}])", R"("text")", "null", "42", "[1, 2"}) {
    auto message = check_error(tts_refused(body), 400, "bad_json");
    check_mentions(message, "object");
  }
}

CAF_TEST(tts_trailing_garbage_is_bad_json) {
  check_error(tts_refused(R"({"text": "hi"} x)"), 400, "bad_json");
  check_error(tts_refused(R"({"text": "hi"}{})"), 400, "bad_json");
  // nlohmann alone would stop at the NUL and accept this.
  auto nul = std::string(R"({"text": "hi"})") + '\0' + "garbage";
  check_mentions(check_error(tts_refused(nul), 400, "bad_json"), "byte 15");
}

CAF_TEST(tts_invalid_utf8_gives_valid_json_reply) {
  // The parser's message quotes the bad token; the reply must stay valid UTF-8 JSON.
  check_error(tts_refused("{\"text\": \"\xff\xfe\"}"), 400, "bad_json");
  check_error(tts_refused("{\"text\": \"hi\"} \xd0"), 400, "bad_json");
}

CAF_TEST(tts_huge_token_gives_short_reply) {
  auto r = tts_refused("{\"text\": \"" + std::string(1000000, 'a') + "\x01\"}");
  check_error(r, 400, "bad_json");
  CAF_CHECK_LESS(r.body.size(), 600u);
}

CAF_TEST(tts_deeply_nested_json_does_not_crash) {
  constexpr std::size_t depth = 1000000;
  auto nested = std::string(depth, '[') + std::string(depth, ']');
  tts_ok(R"({"text": "hi", "voice": "Natasha", "deep": )" + nested + "}");
  auto unclosed = R"({"text": "hi", "deep": )" + std::string(depth, '[');
  check_error(tts_refused(unclosed), 400, "bad_json");
  check_error(tts_refused(std::string(depth, '{')), 400, "bad_json");
  check_error(tts_refused(std::string(depth, '[')), 400, "bad_json");
}

CAF_TEST(tts_wrong_typed_optional_fields_are_bad_request) {
  struct bad_case {
    std::string body;
    std::string field;
  };
  for (const auto& c : std::vector<bad_case>{
           {R"({"text": "hi", "voice": "Natasha", "rate": "fast"})", "\"rate\""},
           {R"({"text": "hi", "voice": "Natasha", "rate": null})", "\"rate\""},
           {R"({"text": "hi", "voice": "Natasha", "pitch": true})", "\"pitch\""},
           {R"({"text": "hi", "voice": "Natasha", "volume": {}})", "\"volume\""},
           {R"({"text": "hi", "voice": "Natasha", "volume": ["1"]})", "\"volume\""},
       }) {
    auto message = check_error(tts_refused(c.body), 400, "bad_request");
    check_mentions(message, c.field);
  }
}

CAF_TEST(tts_number_out_of_range_is_bad_json) {
  check_error(tts_refused(R"({"text": "hi", "rate": 1e999})"), 400, "bad_json");
}

CAF_TEST(hostile_inputs_take_linear_time) {
  // Sizes where anything quadratic would take minutes; each must answer at once.
  auto start = steady_clock::now();
  std::string query;
  for (int i = 0; i < 100000; ++i) query += "backend=cpu&%%%&x=";
  CAF_CHECK_EQUAL(matched("POST", "/asr?" + query).wanted, sova::net::wanted_kind::cpu);
  auto long_path = refused("POST", "/" + std::string(1000000, '/'));
  CAF_CHECK_LESS(check_error(long_path, 404, "not_found").size(), 300u);
  std::string keys = "{";
  for (int i = 0; i < 100000; ++i) keys += R"("text": 1, "rate": "x", )";
  tts_ok(keys + R"("text": "hi", "voice": "Natasha", "rate": 1})");
  auto many_parts = std::vector<form_part>(10000, form_part{"f", "", "", "x"});
  many_parts.push_back(audio("audio_blob"));
  CAF_CHECK(!check_asr_body(form_type, form(many_parts)));
  auto seconds = std::chrono::duration<double>(steady_clock::now() - start).count();
  CAF_CHECK_LESS(seconds, 10.0);
}
