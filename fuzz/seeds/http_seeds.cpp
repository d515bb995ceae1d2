// Seeds of http_request_fuzz: what clients of a node send, one connection per seed,
// behind two bytes: the read size (255: all at once) and the body budget used elsewhere.

#include "fuzz/seeds/seeds.hpp"

namespace sova::fuzz::seeds {

namespace {

const std::string tts_json = R"({"text": "Добрый день", "voice": "Natasha", "rate": "1.2"})";

const std::string form =
    "--9f3a\r\n"
    "Content-Disposition: form-data; name=\"lang\"\r\n\r\n"
    "ru\r\n"
    "--9f3a\r\n"
    "Content-Disposition: form-data; name=\"audio_blob\"; filename=\"x.wav\"\r\n"
    "Content-Type: audio/wav\r\n\r\n"
    "RIFF....WAVEfmt \r\n"
    "--9f3a--\r\n";

std::string post(const std::string& target, const std::string& type, const std::string& body,
                 const std::string& extra = "") {
  return "POST " + target + " HTTP/1.1\r\nHost: 10.0.0.2:5600\r\nContent-Type: " + type +
         "\r\nContent-Length: " + std::to_string(body.size()) + "\r\n" + extra + "\r\n" + body;
}

std::string get(const std::string& target, const std::string& extra = "") {
  return "GET " + target + " HTTP/1.1\r\nHost: 10.0.0.2:5600\r\n" + extra + "\r\n";
}

std::string hex(std::size_t n) {
  static const char digits[] = "0123456789abcdef";
  std::string out;
  do out.insert(out.begin(), digits[n % 16]);
  while (n /= 16);
  return out;
}

}  // namespace

void http_seeds(const writer& out) {
  const std::string whole{'\xff', '\0'};  // all at once, no budget used elsewhere
  const std::string multipart = "multipart/form-data; boundary=9f3a";
  out.put("http_request", "healthz", whole + get("/healthz"));
  out.put("http_request", "healthz-byte-reads", std::string(2, '\0') + get("/healthz"));
  out.put("http_request", "tts", whole + post("/synthesize", "application/json", tts_json));
  out.put("http_request", "asr", whole + post("/asr?backend=cpu", multipart, form));
  out.put("http_request", "asr-continue",
          whole + post("/asr/", multipart, form, "Expect: 100-continue\r\n"));
  out.put("http_request", "asr-budget-spent",
          std::string(2, '\xff') + post("/asr?backend=gpu&x=1", multipart, form));
  out.put("http_request", "tts-chunked",
          whole + "POST /synthesize/ HTTP/1.1\r\nHost: n\r\nContent-Type: application/json\r\n"
                  "Transfer-Encoding: chunked\r\n\r\n" +
              hex(10) + ";ext=1\r\n" + tts_json.substr(0, 10) + "\r\n" +
              hex(tts_json.size() - 10) + "\r\n" + tts_json.substr(10) +
              "\r\n0\r\nX-Trailer: yes\r\n\r\n");
  out.put("http_request", "pipelined",
          std::string{'\x07', '\0'} + get("/status") + post("/synthesize/", "application/json", tts_json) +
              get("/metrics", "Connection: close\r\n") + get("/healthz"));
  const std::string openai_form =
      "--9f3a\r\nContent-Disposition: form-data; name=\"model\"\r\n\r\nwhisper-1\r\n"
      "--9f3a\r\nContent-Disposition: form-data; name=\"response_format\"\r\n\r\nverbose_json\r\n"
      "--9f3a\r\nContent-Disposition: form-data; name=\"timestamp_granularities[]\"\r\n\r\nword\r\n"
      "--9f3a\r\nContent-Disposition: form-data; name=\"file\"; filename=\"x.wav\"\r\n"
      "Content-Type: audio/wav\r\n\r\nRIFF....WAVEfmt \r\n--9f3a--\r\n";
  out.put("http_request", "openai-transcription",
          whole + post("/v1/audio/transcriptions", multipart, openai_form));
  out.put("http_request", "openai-speech",
          whole + post("/v1/audio/speech", "application/json",
                       R"({"model": "tts-1", "input": "hello", "voice": "alloy", "speed": 1.5, "response_format": "opus"})") +
              get("/v1/models"));
  out.put("http_request", "refusals",
          whole + "PUT /asr HTTP/1.1\r\nHost: n\r\nContent-Length: 0\r\n\r\n" +
              post("/asr?backend=tpu", multipart, form) + get("/nope?a=b") +
              post("/synthesize", "application/json", R"({"text": "hi", "voice": 5})") +
              "GET /healthz HTTP/1.0\r\n\r\n");
}

}  // namespace sova::fuzz::seeds
