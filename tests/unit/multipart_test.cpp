// multipart/form-data: boundaries, building, parsing what real clients send, refusing
// malformed bodies with a reason, and staying linear on large or hostile bodies.
#define CAF_SUITE multipart
#include "caf/test/unit_test.hpp"

#include <chrono>
#include <string>
#include <vector>

#include "http/multipart.hpp"

using namespace sova::http;

namespace {

using std::chrono::steady_clock;

std::string all_bytes() {
  std::string out;
  for (int i = 0; i < 256; ++i) out += static_cast<char>(i);
  return out;
}

/// Parses and requires success, reporting the reason otherwise.
std::vector<form_part> parse_ok(std::string_view body, std::string_view boundary) {
  std::string error;
  auto parts = parse_multipart(body, boundary, &error);
  if (!parts) CAF_FAIL("parse failed: " << error);
  return *parts;
}

/// Parses and requires a refusal whose reason contains `expected`.
void parse_refused(std::string_view body, std::string_view expected,
                   std::string_view boundary = "b") {
  std::string error;
  auto parts = parse_multipart(body, boundary, &error);
  CAF_CHECK(!parts);
  CAF_CHECK(!error.empty());
  if (error.find(expected) == std::string::npos)
    CAF_ERROR("reason '" << error << "' does not mention '" << expected << "'");
}

/// The boundary found in `content_type`, or "<none>".
std::string boundary_of(const std::string& content_type) {
  return multipart_boundary(content_type).value_or("<none>");
}

// A bound that only a quadratic parse misses: linear work on these 32 MiB bodies takes
// well under a second even under sanitizers on a busy machine, quadratic work hours.
constexpr double linear_bound_s = 15.0;

double seconds_since(steady_clock::time_point start) {
  return std::chrono::duration<double>(steady_clock::now() - start).count();
}

}  // namespace

CAF_TEST(boundary_extraction) {
  CAF_CHECK_EQUAL(boundary_of("multipart/form-data; boundary=abc123"), "abc123");
  CAF_CHECK_EQUAL(boundary_of("multipart/form-data; boundary=\"a b:c=d\""), "a b:c=d");
  CAF_CHECK_EQUAL(boundary_of("multipart/form-data;charset=utf-8; boundary=xyz ; x=1"), "xyz");
  CAF_CHECK_EQUAL(boundary_of("Multipart/Form-Data; BOUNDARY=----WebKitFormBoundary7MA4"),
                  "----WebKitFormBoundary7MA4");
  CAF_CHECK_EQUAL(boundary_of("multipart/form-data; boundary=e3b0c442;"), "e3b0c442");
  CAF_CHECK_EQUAL(boundary_of("multipart/form-data"), "<none>");
  CAF_CHECK_EQUAL(boundary_of("multipart/form-data; charset=utf-8"), "<none>");
  CAF_CHECK_EQUAL(boundary_of("multipart/form-data; boundary="), "<none>");
  CAF_CHECK_EQUAL(boundary_of("multipart/form-data; boundary=\"\""), "<none>");
  CAF_CHECK_EQUAL(boundary_of("multipart/form-data; boundary=\"unterminated"), "<none>");
  CAF_CHECK_EQUAL(boundary_of("multipart/form-data; boundary=" + std::string(201, 'x')),
                  "<none>");
  CAF_CHECK_EQUAL(boundary_of("application/json; boundary=abc"), "<none>");
  CAF_CHECK_EQUAL(boundary_of(""), "<none>");
}

CAF_TEST(round_trip_with_binary_data) {
  std::vector<form_part> parts{
      {"audio_blob", "a.wav", "audio/wav", "RIFF\r\n--\r\n--b\r\n\r\n--" + all_bytes() + "\r\n"},
      {"empty", "", "", ""},
      {"crlf_only", "", "text/plain", "\r\n"},
      {"quo\"te\\d", "C:\\dir\\\"x\".wav", "", "--"},
  };
  std::string boundary;
  auto body = build_multipart(parts, boundary);
  CAF_REQUIRE(!boundary.empty());
  auto parsed = parse_ok(body, boundary);
  CAF_REQUIRE_EQUAL(parsed.size(), parts.size());
  for (std::size_t i = 0; i < parts.size(); ++i) {
    CAF_CHECK_EQUAL(parsed[i].name, parts[i].name);
    CAF_CHECK_EQUAL(parsed[i].filename, parts[i].filename);
    CAF_CHECK_EQUAL(parsed[i].content_type, parts[i].content_type);
    CAF_CHECK(parsed[i].data == parts[i].data);
  }
}

CAF_TEST(build_keeps_a_good_boundary_and_replaces_a_colliding_one) {
  std::vector<form_part> parts{{"text", "", "", "hello"}};
  std::string boundary = "fixed-boundary";
  auto body = build_multipart(parts, boundary);
  CAF_CHECK_EQUAL(boundary, "fixed-boundary");
  CAF_CHECK_EQUAL(body,
                  "--fixed-boundary\r\nContent-Disposition: form-data; name=\"text\"\r\n\r\n"
                  "hello\r\n--fixed-boundary--\r\n");
  parts.push_back({"audio_blob", "x.wav", "audio/wav", "xx\r\n--fixed-boundary--\r\nyy"});
  body = build_multipart(parts, boundary);
  CAF_CHECK_NOT_EQUAL(boundary, "fixed-boundary");
  auto parsed = parse_ok(body, boundary);
  CAF_REQUIRE_EQUAL(parsed.size(), 2u);
  CAF_CHECK_EQUAL(parsed[1].data, parts[1].data);
}

CAF_TEST(two_audio_blobs_and_a_text_field) {
  std::vector<form_part> parts{{"audio_blob", "one.wav", "audio/wav", "RIFF1"},
                               {"audio_blob2", "two.wav", "audio/x-wav", "RIFF2"},
                               {"lang", "", "", "ru"}};
  std::string boundary;
  auto body = build_multipart(parts, boundary);
  auto parsed = parse_ok(body, boundary);
  CAF_REQUIRE_EQUAL(parsed.size(), 3u);
  CAF_CHECK_EQUAL(parsed[0].name, "audio_blob");
  CAF_CHECK_EQUAL(parsed[0].filename, "one.wav");
  CAF_CHECK_EQUAL(parsed[1].name, "audio_blob2");
  CAF_CHECK_EQUAL(parsed[1].content_type, "audio/x-wav");
  CAF_CHECK_EQUAL(parsed[1].data, "RIFF2");
  CAF_CHECK_EQUAL(parsed[2].name, "lang");
  CAF_CHECK(parsed[2].filename.empty());
  CAF_CHECK(parsed[2].content_type.empty());
  CAF_CHECK_EQUAL(parsed[2].data, "ru");
}

CAF_TEST(body_as_sent_by_python_requests) {
  // requests.post(url, files={"audio_blob": ("x.wav", data, "audio/wav")}, data={"k": "v"})
  std::string body =
      "--9f3a\r\n"
      "Content-Disposition: form-data; name=\"k\"\r\n\r\n"
      "v\r\n"
      "--9f3a\r\n"
      "Content-Disposition: form-data; name=\"audio_blob\"; filename=\"x.wav\"\r\n"
      "Content-Type: audio/wav\r\n\r\n"
      "DATA\r\n"
      "--9f3a--\r\n";
  auto parsed = parse_ok(body, "9f3a");
  CAF_REQUIRE_EQUAL(parsed.size(), 2u);
  CAF_CHECK_EQUAL(parsed[0].name, "k");
  CAF_CHECK_EQUAL(parsed[0].data, "v");
  CAF_CHECK_EQUAL(parsed[1].name, "audio_blob");
  CAF_CHECK_EQUAL(parsed[1].filename, "x.wav");
  CAF_CHECK_EQUAL(parsed[1].content_type, "audio/wav");
  CAF_CHECK_EQUAL(parsed[1].data, "DATA");
}

CAF_TEST(tolerated_variants) {
  // Preamble, transport padding, unquoted parameters, odd header case, folded header,
  // a longer word that starts like the boundary, filename*, epilogue.
  std::string body =
      "This is the preamble.\r\n"
      "--b  \t\r\n"
      "content-disposition: FORM-DATA ; name=audio_blob;filename=a.wav\r\n"
      "CONTENT-TYPE:audio/wav\r\n\r\n"
      "x\r\n--bx is not a delimiter\r\n"
      "--b\r\n"
      "Content-Disposition: form-data;\r\n name=\"f\"; filename*=UTF-8''%D0%B0.wav\r\n\r\n"
      "\r\n"
      "--b--epilogue\r\n--b\r\nignored";
  auto parsed = parse_ok(body, "b");
  CAF_REQUIRE_EQUAL(parsed.size(), 2u);
  CAF_CHECK_EQUAL(parsed[0].name, "audio_blob");
  CAF_CHECK_EQUAL(parsed[0].filename, "a.wav");
  CAF_CHECK_EQUAL(parsed[0].content_type, "audio/wav");
  CAF_CHECK_EQUAL(parsed[0].data, "x\r\n--bx is not a delimiter");
  CAF_CHECK_EQUAL(parsed[1].name, "f");
  CAF_CHECK_EQUAL(parsed[1].filename, "\xD0\xB0.wav");
  CAF_CHECK_EQUAL(parsed[1].data, "");
}

CAF_TEST(empty_form) {
  CAF_CHECK(parse_ok("--b--\r\n", "b").empty());
  std::string boundary;
  auto body = build_multipart({}, boundary);
  CAF_CHECK(parse_ok(body, boundary).empty());
}

CAF_TEST(malformed_bodies_are_refused_with_a_reason) {
  const std::string cd = "Content-Disposition: form-data; name=\"a\"\r\n";
  parse_refused("--b\r\n" + cd + "\r\nDATA\r\n", "no closing boundary");
  parse_refused("--b\r\n" + cd + "\r\nDATA\r\n--b", "no closing boundary");
  parse_refused("--b\r\n" + cd + "DATA\r\n--b--\r\n", "no blank line");
  parse_refused("--b\r\nContent-Type: text/plain\r\n\r\nDATA\r\n--b--\r\n",
                "no Content-Disposition");
  parse_refused("--b\r\n\r\nDATA\r\n--b--\r\n", "no Content-Disposition");
  parse_refused("no delimiter anywhere", "boundary not found");
  parse_refused("", "boundary not found");
  parse_refused("--b", "boundary not found");
  parse_refused("--bb\r\n" + cd + "\r\nx\r\n--bb--\r\n", "boundary not found");
  parse_refused("--b\r\nContent-Disposition: attachment; name=\"a\"\r\n\r\nx\r\n--b--\r\n",
                "not form-data");
  parse_refused("--b\r\nContent-Disposition: form-data; filename=\"a\"\r\n\r\nx\r\n--b--\r\n",
                "no name");
  parse_refused("--b\r\nContent-Disposition: form-data; name=\"a\r\n\r\nx\r\n--b--\r\n",
                "malformed Content-Disposition");
  parse_refused("--b\r\nContent-Disposition: form-data; name=\"a\"x\r\n\r\nx\r\n--b--\r\n",
                "malformed Content-Disposition");
  parse_refused("--b\r\nno colon here\r\n" + cd + "\r\nx\r\n--b--\r\n", "malformed part header");
  parse_refused("--b\r\n" + cd + "\r\nx\r\n--b--\r\n", "invalid boundary", "");
  parse_refused("--b\r\n" + cd + "\r\nx\r\n--b--\r\n", "invalid boundary", "b\r\n");
  // The reason names the failing part.
  parse_refused("--b\r\n" + cd + "\r\nx\r\n--b\r\n\r\ny\r\n--b--\r\n", "part 2");
}

CAF_TEST(a_32_mib_part_parses_quickly) {
  std::string data(32u << 20, '\0');
  for (std::size_t i = 0; i < data.size(); ++i) data[i] = static_cast<char>((i * 7919) >> 3);
  std::vector<form_part> parts{{"audio_blob", "big.wav", "audio/wav", data}};
  std::string boundary;
  auto body = build_multipart(parts, boundary);
  auto start = steady_clock::now();
  auto parsed = parse_ok(body, boundary);
  auto took = seconds_since(start);
  CAF_MESSAGE("32 MiB part parsed in " << took << " s");
  CAF_REQUIRE_EQUAL(parsed.size(), 1u);
  CAF_CHECK(parsed[0].data == data);
  CAF_CHECK_LESS(took, linear_bound_s);
}

CAF_TEST(hostile_bodies_stay_linear) {
  const std::string boundary = std::string(70, 'q');
  const std::string head = "--" + boundary + "\r\nContent-Disposition: form-data; name=a\r\n\r\n";
  // Near-miss delimiters everywhere: each one matches all but the last boundary byte.
  std::string near_miss = "\r\n--" + boundary.substr(0, 69) + "x";
  std::string bodies[3];
  for (std::size_t n = 0; n < (32u << 20) / near_miss.size(); ++n) bodies[0] += near_miss;
  bodies[0] = head + bodies[0] + "\r\n--" + boundary + "--";
  bodies[1] = head + std::string(32u << 20, '\r') + "\r\n--" + boundary + "--";
  // Delimiters followed by long padding that never reaches a CRLF.
  std::string padded = "\r\n--" + boundary + std::string(1000, ' ') + "x";
  for (std::size_t n = 0; n < (32u << 20) / padded.size(); ++n) bodies[2] += padded;
  bodies[2] = head + bodies[2];
  for (const auto& body : bodies) {
    auto start = steady_clock::now();
    std::string error;
    auto parsed = parse_multipart(body, boundary, &error);
    auto took = seconds_since(start);
    CAF_MESSAGE("hostile body of " << body.size() << " bytes handled in " << took << " s");
    CAF_CHECK_LESS(took, linear_bound_s);
    if (parsed) CAF_CHECK_EQUAL(parsed->size(), 1u);
  }
  // Many tiny parts.
  std::string many;
  for (int i = 0; i < 50000; ++i)
    many += "--b\r\nContent-Disposition: form-data; name=x\r\n\r\ny\r\n";
  many += "--b--";
  auto start = steady_clock::now();
  auto parsed = parse_ok(many, "b");
  CAF_CHECK_EQUAL(parsed.size(), 50000u);
  CAF_CHECK_LESS(seconds_since(start), linear_bound_s);
}
