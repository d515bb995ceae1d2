// Seeds of the body harnesses: forms as SOVA ASR clients send them, TTS requests and the
// JSON replies of SOVA backends and of nodes (../shared/API.md, tests/unit/*_test.cpp).

#include "fuzz/seeds/seeds.hpp"

namespace sova::fuzz::seeds {

namespace {

void multipart(const writer& out) {
  out.put("multipart", "asr-form",
          "multipart/form-data; boundary=9f3a\n"
          "--9f3a\r\n"
          "Content-Disposition: form-data; name=\"k\"\r\n\r\n"
          "v\r\n"
          "--9f3a\r\n"
          "Content-Disposition: form-data; name=\"audio_blob\"; filename=\"x.wav\"\r\n"
          "Content-Type: audio/wav\r\n\r\n"
          "DATA\r\n"
          "--9f3a--\r\n");
  out.put("multipart", "preamble-folding-ext-filename",
          "Multipart/Form-Data; Boundary=\"b\"\n"
          "This is the preamble.\r\n"
          "--b  \t\r\n"
          "content-disposition: FORM-DATA ; name=audio_blob;filename=a.wav\r\n"
          "CONTENT-TYPE:audio/wav\r\n\r\n"
          "x\r\n--bx is not a delimiter\r\n"
          "--b\r\n"
          "Content-Disposition: form-data;\r\n name=\"f\"; filename*=UTF-8''%D0%B0.wav\r\n\r\n"
          "\r\n"
          "--b--\r\nepilogue");
  out.put("multipart", "no-file",
          "multipart/form-data; boundary=----sova-0123\n"
          "------sova-0123\r\n"
          "Content-Disposition: form-data; name=\"audio_blob\"\r\n\r\n"
          "not a file\r\n"
          "------sova-0123--\r\n");
}

void json_check(const writer& out) {
  const char* texts[] = {
      R"({"text": "Добрый день", "voice": "Natasha"})",
      R"({"text": "hi", "voice": "Ruslan", "rate": "1.2", "pitch": 1.0, "volume": " 1e-1 "})",
      R"({"voice": "Natasha", "text": ""})",
      R"({"text": "a\"b\\c\u00e9\ud83d\ude00", "voice": null, "text": 5})",
      R"({"t\u0065xt": "hi", "voice": "x", "rate": "1_000.5", "pitch": "inf"})",
      "\xEF\xBB\xBF{\"text\": \"bom\", \"voice\": \"v\"}",
      R"([1, -0.5e3, 1e400, true, false, null, {"a": [[]]}, "\/"])",
      R"({"text": "hi", "voice": "v", "rate": "nan", "pitch": "1e", "volume": 0x10})",
      "  {\"a\": {\"b\": {\"c\": [1, 2, {\"d\": \"\\u0000\"}]}}}  ",
  };
  int i = 0;
  for (const char* t : texts) out.put("json_check", "json-" + std::to_string(i++), t);
}

/// [status index (0: 200, 5: 400, 8: 500)][recordings expected][body].
void sova_reply(const writer& out) {
  auto put = [&](const char* name, char status, char recordings, const std::string& body) {
    out.put("sova_reply", name, std::string{status, recordings} + body);
  };
  put("asr", 0, 1,
      R"({"r": [{"response_audio_url": "/media/1.wav", "response_code": 0, "response": [)"
      R"({"text": "добрый день", "time": 0.31, "confidence": 0.87, "words": [)"
      R"({"word": "добрый", "start": 0.1, "end": 0.5, "confidence": 0.9}]}]}]})");
  put("asr-two-one-failed", 0, 2,
      R"({"r": [{"response_code": 0, "response": [{"text": "a"}, {"text": ""}]},)"
      R"( {"response_code": 1, "response": "cannot read", "response_audio_url": null}]})");
  put("tts", 0, 0,
      R"({"response_code": 0, "response": [{"voice": "Natasha", "sample_rate": 22050,)"
      R"( "duration_s": 1.2, "synthesis_time": 0.4, "response_audio_url": "/media/x",)"
      R"( "response_audio": "UklGRiQAAABXQVZFZm10IBAAAAABAAEAIlYAAESsAAACABAAZGF0YQAAAAA="}]})");
  put("tts-unknown-voice", 0, 0, R"({"response_code": 1, "response": "unknown voice Boris"})");
  put("node-error", 8, 0,
      R"({"response_code": 1, "error": {"code": "no_backend", "message": "no healthy tts backend"}})");
  put("html", 5, 0, "<html><body>Bad Request</body></html>");
}

}  // namespace

void body_seeds(const writer& out) {
  multipart(out);
  json_check(out);
  sova_reply(out);
}

}  // namespace sova::fuzz::seeds
