// docs/openapi.json against the node's real routes (http/routes.cpp): every served path is
// documented with exactly the methods the node takes there and nothing else is; the
// backend= parameter, the error statuses and the error schema are the ones the routes
// give; every $ref resolves and every example fits its schema.
#define CAF_SUITE openapi
#include "caf/test/unit_test.hpp"

#include <algorithm>
#include <cctype>
#include <fstream>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "http/reservation.hpp"
#include "http/routes.hpp"
#include "openai/errors.hpp"
#include "openai/speech.hpp"
#include "openai/transcription.hpp"

using namespace sova::http;
using json = nlohmann::json;

namespace {

/// The operation keys of an OpenAPI path item.
const std::vector<std::string> all_methods{"get",     "put",  "post",  "delete",
                                           "options", "head", "patch", "trace"};

std::string upper(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::string joined(const std::set<std::string>& items) {
  std::string out;
  for (const auto& i : items) out += (out.empty() ? "" : ",") + i;
  return out;
}

/// "GET, HEAD" -> {get, head}.
std::set<std::string> allow_to_methods(std::string_view allow) {
  std::set<std::string> out;
  while (!allow.empty()) {
    auto comma = allow.find(',');
    auto item = allow.substr(0, comma);
    while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
    out.insert(lower(std::string(item)));
    allow = comma == std::string_view::npos ? std::string_view{} : allow.substr(comma + 1);
  }
  return out;
}

/// j[key] when j is an object that has it, else null (which iterates as empty); a
/// reference into the document, never a copy, so that pointers into it stay valid.
const json& member(const json& j, const std::string& key) {
  static const json none;
  return j.is_object() && j.contains(key) ? j.at(key) : none;
}

bool is_speech(route_kind k) { return k == route_kind::asr || k == route_kind::tts; }
bool is_openai_post(route_kind k) {
  return k == route_kind::openai_transcriptions || k == route_kind::openai_speech;
}
/// The routes that take ?backend=: SOVA's and OpenAI's POST routes.
bool takes_backend(route_kind k) { return is_speech(k) || is_openai_post(k); }

/// A path the node serves with its template filled in: /v1/reservations/{id} with an id.
std::string concrete(const std::string& path) {
  auto at = path.find("{id}");
  return at == std::string::npos ? path : path.substr(0, at) + "0123456789abcdef" + path.substr(at + 4);
}

std::string header_of(const response& r, const std::string& name) {
  for (const auto& [n, v] : r.headers)
    if (lower(n) == lower(name)) return v;
  return "";
}

struct fixture {
  json doc;

  fixture() {
    std::ifstream in(SOVA_SOURCE_DIR "/docs/openapi.json");
    doc = json::parse(in, nullptr, false);
    if (!doc.is_object()) CAF_FAIL("docs/openapi.json is missing or not a JSON object");
  }

  /// The node `ref` ("#/components/...") points to, or nullptr.
  const json* resolve(const std::string& ref) const {
    if (ref.rfind("#/", 0) != 0) return nullptr;
    try {
      json::json_pointer ptr(ref.substr(1));
      return doc.contains(ptr) ? &doc.at(ptr) : nullptr;
    } catch (const json::exception&) {
      return nullptr;
    }
  }

  /// `node`, or what its $ref chain ends at (an unresolvable one gives an empty object).
  const json& deref(const json& node) const {
    static const json nothing = json::object();
    const json* at = &node;
    for (int hops = 0; at->is_object() && at->contains("$ref"); ++hops) {
      const json* next = hops < 16 ? resolve(at->at("$ref").get<std::string>()) : nullptr;
      if (!next) return nothing;
      at = next;
    }
    return *at;
  }

  /// The served route of `path`; nothing for a path the node does not serve (which the
  /// test of the paths reports).
  std::optional<served_route> route_of(const std::string& path) const {
    for (const auto& r : route_table())
      if (r.path == path) return r;
    return std::nullopt;
  }

  /// Every (path, method, operation) of the document.
  struct operation {
    std::string path;
    std::string method;
    const json* op;
  };
  std::vector<operation> operations() const {
    std::vector<operation> out;
    for (const auto& [path, item] : doc.at("paths").items())
      for (const auto& m : all_methods)
        if (item.contains(m)) out.push_back({path, m, &item.at(m)});
    return out;
  }

  /// Checks `value` against the subset of OpenAPI schemas the document uses ($ref, type,
  /// enum, required, properties, additionalProperties, items, oneOf); notes each misfit.
  void validate(const json& schema_in, const json& value, const std::string& where,
                std::vector<std::string>& errors) const {
    const auto& s = deref(schema_in);
    if (!s.is_object()) return errors.push_back(where + ": the schema is not an object");
    if (value.is_null() && s.value("nullable", false)) return;
    if (s.contains("oneOf")) {
      int fits = 0;
      for (const auto& alt : s.at("oneOf")) {
        std::vector<std::string> e;
        validate(alt, value, where, e);
        fits += e.empty() ? 1 : 0;
      }
      if (fits != 1) errors.push_back(where + ": fits " + std::to_string(fits) + " of oneOf");
      return;
    }
    if (s.contains("enum") &&
        std::find(s.at("enum").begin(), s.at("enum").end(), value) == s.at("enum").end())
      errors.push_back(where + ": " + value.dump() + " is not in the enum");
    auto type = s.value("type", "");
    bool fits = type.empty() || (type == "object" && value.is_object()) ||
                (type == "array" && value.is_array()) ||
                (type == "string" && value.is_string()) ||
                (type == "integer" && value.is_number_integer()) ||
                (type == "number" && value.is_number()) ||
                (type == "boolean" && value.is_boolean());
    if (!fits) return errors.push_back(where + ": " + value.dump() + " is not " + type);
    if (value.is_object()) {
      for (const auto& r : member(s, "required"))
        if (!value.contains(r.get<std::string>()))
          errors.push_back(where + ": lacks " + r.get<std::string>());
      const auto& props = member(s, "properties");
      const auto extra = s.value("additionalProperties", json(true));
      for (const auto& [k, v] : value.items()) {
        if (props.contains(k))
          validate(props.at(k), v, where + "." + k, errors);
        else if (extra == json(false))
          errors.push_back(where + ": unexpected " + k);
        else if (extra.is_object())
          validate(extra, v, where + "." + k, errors);
      }
    }
    if (value.is_array() && s.contains("items"))
      for (std::size_t i = 0; i < value.size(); ++i)
        validate(s.at("items"), value[i], where + "[" + std::to_string(i) + "]", errors);
  }

  void check_fits(const json& schema, const json& value, const std::string& where) const {
    std::vector<std::string> errors;
    validate(schema, value, where, errors);
    for (const auto& e : errors) CAF_ERROR(e);
    CAF_CHECK(errors.empty());
  }

  const json& error_schema() const { return doc.at("components").at("schemas").at("Error"); }

  /// A node reply body must be the documented error with `code`.
  void check_error_body(const response& r, const std::string& code) const {
    auto body = json::parse(r.body, nullptr, false);
    check_fits(error_schema(), body, "reply " + std::to_string(r.status));
    bool shaped = body.is_object() && body.contains("error") && body.at("error").is_object();
    CAF_CHECK_EQUAL(shaped ? body.at("error").value("code", "") : "", code);
  }

  /// A body check must refuse, with a documented 400.
  void check_refusal(const std::optional<response>& r, const std::string& code) const {
    CAF_REQUIRE(r.has_value());
    CAF_CHECK_EQUAL(r->status, 400u);
    check_error_body(*r, code);
  }
};

void collect_refs(const json& j, std::vector<std::string>& out) {
  if (j.is_object()) {
    if (j.contains("$ref") && j.at("$ref").is_string())
      out.push_back(j.at("$ref").get<std::string>());
    for (const auto& [k, v] : j.items()) collect_refs(v, out);
  } else if (j.is_array()) {
    for (const auto& v : j) collect_refs(v, out);
  }
}

}  // namespace

CAF_TEST_FIXTURE_SCOPE(openapi_tests, fixture)

CAF_TEST(the document is OpenAPI 3) {
  CAF_REQUIRE(doc.contains("openapi") && doc.at("openapi").is_string());
  CAF_CHECK_EQUAL(doc.at("openapi").get<std::string>().substr(0, 2), "3.");
  CAF_REQUIRE(doc.contains("paths") && doc.at("paths").is_object());
}

CAF_TEST(every served path is documented with exactly its methods) {
  std::set<std::string> served;
  for (const auto& r : route_table()) {
    std::string path(r.path);
    served.insert(path);
    if (!doc.at("paths").contains(path)) {
      CAF_ERROR(path << " is served but not documented");
      continue;
    }
    std::set<std::string> documented;
    for (const auto& m : all_methods)
      if (doc.at("paths").at(path).contains(m)) documented.insert(m);
    CAF_CHECK_EQUAL(path + " " + joined(documented), path + " " + joined(allow_to_methods(r.methods)));
  }
  for (const auto& [path, item] : doc.at("paths").items())
    if (served.count(path) == 0) CAF_ERROR(path << " is documented but not served");
  CAF_CHECK_EQUAL(doc.at("paths").size(), served.size());
}

CAF_TEST(documented methods are accepted and the others refused with 405) {
  for (const auto& [path, item] : doc.at("paths").items()) {
    auto served = route_of(path);
    if (!served) continue;
    for (const auto& m : all_methods) {
      response error;
      auto r = match_route(upper(m), concrete(path), &error);
      if (item.contains(m)) {
        CAF_CHECK(r.has_value());
        if (r) CAF_CHECK(r->kind == served->kind);
      } else {
        CAF_CHECK(!r.has_value());
        CAF_CHECK_EQUAL(path + " " + m + " " + std::to_string(error.status),
                        path + " " + m + " 405");
        CAF_CHECK_EQUAL(header_of(error, "Allow"), std::string(served->methods));
        check_error_body(error, "method_not_allowed");
      }
    }
    response error;
    if (concrete(path) != path) {
      // A template takes one segment: a longer one names no id.
      auto method = upper(*allow_to_methods(served->methods).begin());
      CAF_CHECK(!match_route(method, concrete(path) + "/x", &error));
      CAF_CHECK_EQUAL(error.status, 400u);
      check_error_body(error, "bad_request");
      continue;
    }
    // Paths match exactly: a longer one is unknown.
    CAF_CHECK(!match_route("GET", path + "x", &error));
    CAF_CHECK_EQUAL(error.status, 404u);
    check_error_body(error, "not_found");
  }
}

CAF_TEST(every ref resolves) {
  std::vector<std::string> refs;
  collect_refs(doc, refs);
  CAF_CHECK_GREATER(refs.size(), 0u);
  for (const auto& ref : refs)
    if (!resolve(ref)) CAF_ERROR("$ref " << ref << " does not resolve inside the document");
}

CAF_TEST(every operation has a success and a unique operationId) {
  std::set<std::string> ids;
  auto ops = operations();
  CAF_CHECK_GREATER(ops.size(), 0u);
  for (const auto& o : ops) {
    auto where = o.method + " " + o.path;
    const auto& responses = member(*o.op, "responses");
    // 204: a cancel answers with no body.
    if (!responses.contains("200") && !responses.contains("204"))
      CAF_ERROR(where << " documents no 200 or 204");
    auto id = o.op->value("operationId", "");
    if (id.empty()) CAF_ERROR(where << " has no operationId");
    else if (!ids.insert(id).second) CAF_ERROR(where << ": operationId " << id << " is used twice");
  }
}

CAF_TEST(the backend parameter is cpu gpu or any on ASR and TTS) {
  for (const auto& o : operations()) {
    const json* backend = nullptr;
    for (const auto& p : member(*o.op, "parameters")) {
      const auto& param = deref(p);
      if (param.is_object() && param.value("name", "") == "backend" &&
          param.value("in", "") == "query")
        backend = &param;
    }
    auto served = route_of(o.path);
    if (!served) continue;
    if (!takes_backend(served->kind)) {
      // GET routes ignore the query: nothing to document.
      CAF_CHECK(backend == nullptr);
      continue;
    }
    if (!backend) {
      CAF_ERROR(o.method << " " << o.path << " documents no backend query parameter");
      continue;
    }
    const auto& schema = deref(member(*backend, "schema"));
    std::set<std::string> values;
    for (const auto& v : member(schema, "enum")) values.insert(v.get<std::string>());
    CAF_CHECK_EQUAL(joined(values), "any,cpu,gpu");
    auto plain = match_route(upper(o.method), o.path, nullptr);
    CAF_REQUIRE(plain.has_value());
    CAF_CHECK_EQUAL(schema.is_object() ? schema.value("default", "") : "", sova::net::to_string(plain->wanted));
    for (const auto& v : values) {
      auto r = match_route(upper(o.method), o.path + "?backend=" + v, nullptr);
      CAF_CHECK(r.has_value());
      if (r) CAF_CHECK_EQUAL(sova::net::to_string(r->wanted), v);
    }
    response error;
    CAF_CHECK(!match_route(upper(o.method), o.path + "?backend=tpu", &error));
    CAF_CHECK_EQUAL(error.status, 400u);
    check_error_body(error, "bad_request");
  }
}

CAF_TEST(ASR and TTS document their error statuses with the error schema) {
  int checked = 0;
  for (const auto& o : operations()) {
    auto served = route_of(o.path);
    if (!served || !takes_backend(served->kind)) continue;
    // OpenAI's routes answer every error in OpenAI's shape.
    const std::string error_ref = is_openai_post(served->kind) ? "#/components/schemas/OpenAIError"
                                                              : "#/components/schemas/Error";
    const auto& responses = o.op->at("responses");
    for (const auto* status : {"400", "413", "502", "503", "504"}) {
      auto where = o.method + " " + o.path + " " + status;
      if (!responses.contains(status)) {
        CAF_ERROR(where << " is not documented");
        continue;
      }
      const auto& content = member(deref(responses.at(status)), "content");
      CAF_CHECK(content.contains("application/json"));
      const auto& schema = member(member(content, "application/json"), "schema");
      auto ref = schema.is_object() ? schema.value("$ref", "") : "";
      CAF_CHECK_EQUAL(where + " " + ref, where + " " + error_ref);
      ++checked;
    }
  }
  CAF_CHECK_EQUAL(checked, 6 * 5);  // /asr, /asr/, /synthesize, /synthesize/, 2 OpenAI
}

CAF_TEST(the error schema is response_code and error code and message) {
  const auto& s = error_schema();
  CAF_CHECK_EQUAL(s.value("type", ""), "object");
  std::set<std::string> required;
  for (const auto& r : member(s, "required")) required.insert(r.get<std::string>());
  CAF_CHECK_EQUAL(joined(required), "error,response_code");
  CAF_CHECK_EQUAL(s.at("properties").at("response_code").at("enum").dump(),
                  "[1]");
  const auto& inner = deref(s.at("properties").at("error"));
  required.clear();
  for (const auto& r : member(inner, "required"))
    required.insert(r.get<std::string>());
  CAF_CHECK_EQUAL(joined(required), "code,message");
  // What the node really answers fits it: the route and body checks' refusals.
  response error;
  match_route("GET", "/nope", &error);
  check_error_body(error, "not_found");
  match_route("DELETE", "/asr", &error);
  check_error_body(error, "method_not_allowed");
  check_refusal(check_tts_body("nope"), "bad_json");
  check_refusal(check_tts_body("[1]"), "bad_json");
  check_refusal(check_tts_body("{}"), "missing_text");
  check_refusal(check_tts_body(R"({"text": "a"})"), "missing_voice");
  check_refusal(check_tts_body(R"({"text": "a", "voice": "Natasha", "rate": "fast"})"),
                "bad_request");
  check_refusal(check_asr_body("text/plain", "x"), "bad_request");
  check_refusal(check_asr_body("multipart/form-data; boundary=b", ""), "no_audio");
  // 404 and 405 are not listed per path: the description must say them.
  auto description = doc.at("info").value("description", "");
  for (const auto* code : {"not_found", "method_not_allowed", "404", "405", "Allow"})
    if (description.find(code) == std::string::npos)
      CAF_ERROR("info.description does not mention " << code);
}

CAF_TEST(the OpenAI routes refusals fit the OpenAIError schema) {
  const auto& schema = doc.at("components").at("schemas").at("OpenAIError");
  response error;
  CAF_CHECK(!sova::openai::parse_speech_request("{}", sova::net::wanted_kind::any, &error));
  check_fits(schema, json::parse(error.body), "speech without input");
  CAF_CHECK(!sova::openai::parse_transcription_request("text/plain", "x", sova::net::wanted_kind::any, &error));
  check_fits(schema, json::parse(error.body), "transcription not a form");
  // The node's own errors, translated (param null).
  match_route("GET", "/v1/nope", &error);
  check_fits(schema, json::parse(sova::openai::as_openai_error(error).body), "404");
  // Every documented response format is one the parsers take.
  const auto& speech = doc.at("components").at("schemas").at("SpeechRequest");
  for (const auto& f : speech.at("properties").at("response_format").at("enum")) {
    auto body = json{{"input", "a"}, {"voice", "Natasha"}, {"response_format", f}}.dump();
    CAF_CHECK(sova::openai::parse_speech_request(body, sova::net::wanted_kind::any, &error).has_value());
  }
  const auto& tr = doc.at("components").at("schemas").at("TranscriptionRequest");
  for (const auto& f : tr.at("properties").at("response_format").at("enum")) {
    auto body = "--b\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.wav\"\r\n\r\n"
                "RIFF\r\n--b\r\nContent-Disposition: form-data; name=\"response_format\"\r\n\r\n" +
                f.get<std::string>() + "\r\n--b--\r\n";
    CAF_CHECK(sova::openai::parse_transcription_request("multipart/form-data; boundary=b", body,
                                                        sova::net::wanted_kind::any, &error)
                  .has_value());
  }
}

CAF_TEST(the reservation routes answer what they document) {
  const auto& schemas = doc.at("components").at("schemas");
  const auto& post = doc.at("paths").at("/v1/reservations").at("post");
  // The documented request is one the owner reads; what the entry node sends fits it.
  const auto& example = post.at("requestBody").at("content").at("application/json").at("example");
  CAF_CHECK(parse_reservation_post(example.dump(), nullptr).has_value());
  reservation_ask ask;
  ask.id = make_reservation_id(0x9f86d081884c7d65ULL);
  check_fits(schemas.at("ReservationRequest"), json::parse(reservation_post(ask, "").body),
             "reservation_post");
  // Every answer the owner gives has its status documented, in the documented shape.
  const auto& responses = post.at("responses");
  for (auto st : {reservation_status::granted, reservation_status::full,
                  reservation_status::no_backend, reservation_status::expired,
                  reservation_status::failed, reservation_status::cancelled}) {
    auto r = reservation_reply(ask.id, st, std::chrono::seconds(2), "");
    auto status = std::to_string(r.status);
    if (!responses.contains(status)) {
      CAF_ERROR(to_string(st) << ": " << status << " is not documented");
      continue;
    }
    const auto& media = deref(responses.at(status)).at("content").at("application/json");
    check_fits(media.at("schema"), json::parse(r.body), std::string("reply ") + to_string(st));
  }
  response error;
  CAF_CHECK(!parse_reservation_post("{}", &error));
  CAF_CHECK(responses.contains(std::to_string(error.status)));
  check_error_body(error, "bad_request");
  // The cancel's refusal of a bad id is documented too.
  match_route("DELETE", "/v1/reservations/a.b", &error);
  CAF_CHECK(doc.at("paths").at("/v1/reservations/{id}").at("delete").at("responses").contains(
      std::to_string(error.status)));
}

CAF_TEST(every example fits its schema) {
  int examples = 0;
  auto check_media = [&](const json& media, const std::string& where) {
    if (!media.contains("schema")) return;
    if (media.contains("example")) {
      check_fits(media.at("schema"), media.at("example"), where);
      ++examples;
    }
    for (const auto& [name, ex] : member(media, "examples").items()) {
      const auto& e = deref(ex);
      if (!e.contains("value")) continue;
      check_fits(media.at("schema"), e.at("value"), where + " " + name);
      ++examples;
    }
  };
  auto check_content = [&](const json& holder, const std::string& where) {
    for (const auto& [type, media] : member(deref(holder), "content").items())
      check_media(media, where + " " + type);
  };
  for (const auto& o : operations()) {
    auto where = o.method + " " + o.path;
    if (o.op->contains("requestBody")) check_content(o.op->at("requestBody"), where + " body");
    for (const auto& [status, r] : member(*o.op, "responses").items())
      check_content(r, where + " " + status);
  }
  CAF_CHECK_GREATER(examples, 10);
}

CAF_TEST_FIXTURE_SCOPE_END()
