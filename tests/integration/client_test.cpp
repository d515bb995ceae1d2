// The client subcommands (`sova-dc asr`, `tts`, `client --service`) run as real processes
// against a sova_test_backend, which speaks a node's API: what they print and write, the
// exit status 2 for each bad command line, 1 for each service failure (error status,
// nothing listening, timeout, garbage, and - from the reference backends, which the test
// backend cannot imitate - a 200 carrying response_code 1), and no progress output unless
// stderr is a terminal.
#define CAF_SUITE integration_client
#include "caf/test/unit_test.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <csignal>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "http/base64.hpp"
#include "serving_fixture.hpp"

using namespace sova;
using namespace sova::testing;
using namespace std::chrono_literals;
using nlohmann::json;

namespace {

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

bool exists(const std::string& path) { return ::access(path.c_str(), F_OK) == 0; }

/// A TCP port on 127.0.0.1 that is bound (so nobody else gets it) but not listening:
/// connecting to it is refused at once.
struct refused_port {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  std::uint16_t port = 0;
  refused_port() {
    sockaddr_in a{};
    a.sin_family = AF_INET;
    ::inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
    socklen_t len = sizeof a;
    CAF_REQUIRE(fd >= 0 && ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
    CAF_REQUIRE(::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0);
    port = ntohs(a.sin_port);
  }
  ~refused_port() { ::close(fd); }
};

/// Whether something accepts TCP connections at host:port now.
bool listening(const std::string& host, std::uint16_t port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  ::inet_pton(AF_INET, host.c_str(), &a.sin_addr);
  bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  ::close(fd);
  return ok;
}

/// One second of 16 kHz mono 16-bit silence as a WAV file.
std::string silence_wav() {
  auto le = [](std::uint32_t v, int bytes) {
    std::string out;
    for (int i = 0; i < bytes; ++i) out += static_cast<char>(v >> (8 * i) & 0xff);
    return out;
  };
  const std::uint32_t data = 32000;
  return "RIFF" + le(36 + data, 4) + "WAVEfmt " + le(16, 4) + le(1, 2) + le(1, 2) +
         le(16000, 4) + le(32000, 4) + le(2, 2) + le(16, 2) + "data" + le(data, 4) +
         std::string(data, '\0');
}

/// The reference backend, `sova-dc backend tts|asr` (espeak-ng / pocketsphinx): unlike the
/// test backend, it answers some requests 200 with response_code 1, as SOVA's do.
std::unique_ptr<reference_backend> start_reference(const std::string& kind, const std::string& dir) {
  try {
    return std::make_unique<reference_backend>(kind, "127.0.0.1",
                                               dir + "/" + kind + "-backend.log",
                                               std::vector<std::string>{"--workers", "1"});
  } catch (const std::exception& e) {
    // Not CAF_FAIL: it aborts, and the fixture's processes would outlive the test.
    CAF_ERROR("the reference " << kind << " backend did not start: " << e.what());
    return nullptr;
  }
}

/// Stops it with SIGTERM, which lets it stop its worker processes too.
void stop(reference_backend& b) {
  b.proc->signal(SIGTERM);
  b.proc->wait_for(20s);
}

/// Runs `sova-dc args...` (60 s at most) with the captured output.
run_result sova_dc(std::vector<std::string> args) {
  args.insert(args.begin(), SOVA_DC_BINARY);
  auto r = run(args, 60s);
  if (r.status != 0) CAF_MESSAGE("sova-dc exited " << r.status << "; stderr: " << r.err);
  return r;
}

/// Runs a shell command line (to pick the working directory), 60 s at most.
run_result shell(const std::string& line) { return run({"/bin/sh", "-c", line}, 60s); }

std::string sh_quote(const std::string& s) { return "'" + s + "'"; }

struct fixture {
  std::string dir = temp_dir();
  test_backend b1{"b1", dir};
  std::string wav = dir + "/hello.wav";
  std::string wav_data = std::string("RIFF$\0\0\0WAVEfmt ", 16) + std::string(1000, 'x');

  fixture() {
    std::ofstream(wav, std::ios::binary) << wav_data;
  }

  std::string addr() const { return b1.address(); }

  void control(const json& what) { CAF_REQUIRE(control_backend(b1, what.dump())); }

  /// The backend's own reply to the request the client is expected to make.
  std::string direct_asr(const std::string& data, const std::string& filename) {
    const std::string boundary = "b0undary";
    auto r = http_call("127.0.0.1", b1.port, "POST", "/asr",
                       "multipart/form-data; boundary=" + boundary,
                       audio_form(boundary, data, filename));
    CAF_REQUIRE(r.ok);
    return r.response.body;
  }
  std::string direct_tts(const std::string& text) {
    auto r = http_call("127.0.0.1", b1.port, "POST", "/synthesize/", "application/json",
                       json{{"text", text}, {"voice", "Natasha"}}.dump());
    CAF_REQUIRE(r.ok);
    return r.response.body;
  }
};

const std::string russian = "Добрый день";

}  // namespace

CAF_TEST_FIXTURE_SCOPE(client_tests, fixture)

CAF_TEST(asr_prints_the_text_the_backend_recognised) {
  auto heard = "b1 heard " + std::to_string(wav_data.size()) + " bytes";
  auto r = sova_dc({"asr", "--address", addr(), "--file", wav});
  CAF_CHECK_EQUAL(r.status, 0);
  CAF_CHECK_EQUAL(r.out, heard + "\n");
  CAF_CHECK_EQUAL(r.err, "");  // no progress or other noise when stderr is not a terminal
  r = sova_dc({"client", "--service", "asr", "--address", addr(), "--file", wav, "--backend", "cpu"});
  CAF_CHECK_EQUAL(r.status, 0);
  CAF_CHECK_EQUAL(r.out, heard + "\n");
  // Several files: one line each, in order, named.
  auto other = dir + "/other.ogg";
  std::ofstream(other, std::ios::binary) << "OggS";
  r = sova_dc({"asr", "--address", addr(), "--file", wav, "--file", other});
  CAF_CHECK_EQUAL(r.status, 0);
  CAF_CHECK_EQUAL(r.out, wav + ": " + heard + "\n" + other + ": b1 heard 4 bytes\n");
}

CAF_TEST(asr_json_prints_the_backends_reply_as_sent) {
  auto direct = direct_asr(wav_data, "hello.wav");
  auto r = sova_dc({"asr", "--address", addr(), "--file", wav, "--json"});
  CAF_CHECK_EQUAL(r.status, 0);
  CAF_CHECK_EQUAL(r.out, direct + "\n");
  auto parsed = json::parse(r.out, nullptr, false);
  CAF_REQUIRE(!parsed.is_discarded());
  CAF_CHECK_EQUAL(parsed, json::parse(direct));
}

CAF_TEST(tts_writes_the_decoded_audio_and_says_where) {
  auto out = dir + "/x.wav";
  auto r = sova_dc({"tts", "--address", addr(), "--text", russian, "--out", out});
  CAF_CHECK_EQUAL(r.status, 0);
  auto direct = json::parse(direct_tts(russian));
  auto expected = http::base64_decode(direct["response"][0]["response_audio"].get<std::string>());
  CAF_REQUIRE(expected.has_value());
  CAF_CHECK_EQUAL(*expected, "b1:" + russian);
  CAF_CHECK_EQUAL(slurp(out), *expected);
  CAF_CHECK(contains(r.out, out));
  CAF_CHECK(contains(r.out, std::to_string(expected->size()) + " bytes"));
  CAF_CHECK(contains(r.out, "22050 Hz"));
  CAF_CHECK_EQUAL(r.err, "");
  // The other options are sent along and accepted; the file is replaced.
  r = sova_dc({"client", "--service", "tts", "--address", addr(), "--text", "hi", "--voice",
            "Ruslan", "--rate", "1.5", "--pitch", "0.9", "--volume", "2", "--out", out,
            "--backend", "gpu"});
  CAF_CHECK_EQUAL(r.status, 0);
  CAF_CHECK_EQUAL(slurp(out), "b1:hi");
}

CAF_TEST(tts_writes_speech_wav_in_the_working_directory_by_default) {
  auto work = dir + "/work";
  CAF_REQUIRE(::mkdir(work.c_str(), 0755) == 0);
  auto r = shell("cd " + sh_quote(work) + " && exec " + SOVA_DC_BINARY + " tts --address " +
                 addr() + " --text " + sh_quote(russian));
  CAF_CHECK_EQUAL(r.status, 0);
  CAF_CHECK_EQUAL(slurp(work + "/speech.wav"), "b1:" + russian);
  CAF_CHECK(contains(r.out, "speech.wav"));
}

CAF_TEST(tts_json_prints_the_reply_and_writes_only_a_given_out) {
  auto work = dir + "/work";
  CAF_REQUIRE(::mkdir(work.c_str(), 0755) == 0);
  auto direct = direct_tts(russian);
  auto r = shell("cd " + sh_quote(work) + " && exec " + SOVA_DC_BINARY + " tts --json --address " +
                 addr() + " --text " + sh_quote(russian));
  CAF_CHECK_EQUAL(r.status, 0);
  CAF_CHECK_EQUAL(r.out, direct + "\n");
  CAF_CHECK_EQUAL(json::parse(r.out, nullptr, false), json::parse(direct));
  CAF_CHECK(!exists(work + "/speech.wav"));
  auto out = dir + "/y.wav";
  r = sova_dc({"tts", "--json", "--address", addr(), "--text", russian, "--out", out});
  CAF_CHECK_EQUAL(r.status, 0);
  CAF_CHECK_EQUAL(r.out, direct + "\n");  // stdout holds the JSON alone
  CAF_CHECK_EQUAL(slurp(out), "b1:" + russian);
}

CAF_TEST(bad_usage_exits_2_naming_the_problem) {
  struct usage_case {
    std::vector<std::string> args;
    std::string names;
  };
  const std::vector<usage_case> cases{
      {{"asr", "--address", addr()}, "--file"},
      {{"client", "--service", "asr", "--address", addr()}, "--file"},
      {{"tts", "--address", addr()}, "--text"},
      {{"client", "--service", "tts", "--address", addr()}, "--text"},
      {{"asr", "--file", wav}, "--address"},
      {{"asr", "--address", addr(), "--file", dir + "/missing.wav"}, "missing.wav"},
      {{"asr", "--address", addr(), "--file", dir}, "is a directory"},
      {{"tts", "--address", addr(), "--text", ""}, "--text is empty"},
      {{"tts", "--address", addr(), "--text", "   "}, "--text is empty"},
      {{"tts", "--address", addr(), "--text", "hi", "--out", dir + "/no/such/dir/x.wav"},
       "--out"},
      {{"asr", "--address", "127.0.0.1:99999", "--file", wav}, "--address '127.0.0.1:99999'"},
      {{"asr", "--address", "127.0.0.1:port", "--file", wav}, "--address"},
      {{"asr", "--address", "", "--file", wav}, "--address"},
      {{"client", "--service", "stt", "--address", addr(), "--file", wav}, "--service"},
      {{"client", "--service", "asr", "--address", addr(), "--text", "hi", "--file", wav},
       "--text is for --service tts"},
      {{"asr", "--address", addr(), "--file", wav, "--backend", "tpu"}, "--backend"},
      {{"asr", "--address", addr(), "--file", wav, "--timeout", "0"}, "--timeout"},
  };
  for (const auto& c : cases) {
    auto r = sova_dc(c.args);
    CAF_CHECK_EQUAL(r.status, 2);
    CAF_CHECK(contains(r.err, c.names));
    if (r.status != 2 || !contains(r.err, c.names))
      CAF_MESSAGE("case " << c.args[0] << " " << c.args.back() << ": " << r.err);
    CAF_CHECK_EQUAL(r.out, "");
  }
  auto stats = http_call("127.0.0.1", b1.port, "GET", "/stats");
  CAF_REQUIRE(stats.ok);
  auto s = json::parse(stats.response.body);
  CAF_CHECK_EQUAL(s["asr"], 0);  // nothing was sent
  CAF_CHECK_EQUAL(s["tts"], 0);
}

CAF_TEST(an_error_status_exits_1_with_what_the_server_said) {
  // As a real SOVA server fails: HTTP 500 with Flask's HTML page.
  control({{"fail_status", 500}});
  auto r = sova_dc({"asr", "--address", addr(), "--file", wav});
  CAF_CHECK_EQUAL(r.status, 1);
  CAF_CHECK(contains(r.err, addr()));
  CAF_CHECK(contains(r.err, "HTTP 500: <!doctype html>"));
  CAF_CHECK(contains(r.err, "b1 fails with 500"));
  CAF_CHECK_EQUAL(r.out, "");
  auto out = dir + "/never.wav";
  r = sova_dc({"client", "--service", "tts", "--address", addr(), "--text", "hi", "--out", out});
  CAF_CHECK_EQUAL(r.status, 1);
  CAF_CHECK(contains(r.err, "HTTP 500: <!doctype html>"));
  CAF_CHECK(!exists(out));
  // --json prints JSON bodies only: an HTML page goes to stderr, and it still exits 1.
  r = sova_dc({"tts", "--json", "--address", addr(), "--text", "hi"});
  CAF_CHECK_EQUAL(r.status, 1);
  CAF_CHECK_EQUAL(r.out, "");
  CAF_CHECK(contains(r.err, "<title>500 Internal Server Error</title>"));
}

CAF_TEST(a_reply_that_is_not_json_exits_1) {
  control({{"garbage", true}});
  auto r = sova_dc({"tts", "--address", addr(), "--text", "hi", "--out", dir + "/g.wav"});
  CAF_CHECK_EQUAL(r.status, 1);
  CAF_CHECK(contains(r.err, "not a JSON object"));
  CAF_CHECK(contains(r.err, "b1 says"));
  CAF_CHECK(!exists(dir + "/g.wav"));
}

CAF_TEST(a_200_reply_with_response_code_1_exits_1_with_the_services_message) {
  auto tts = start_reference("tts", dir);
  if (!tts) return;
  auto out = dir + "/u.wav";
  auto r = sova_dc({"tts", "--address", tts->address(), "--text", "hi", "--voice", "Nobody",
                    "--out", out});
  CAF_CHECK_EQUAL(r.status, 1);
  CAF_CHECK(contains(r.err, tts->address() + ": the service failed: unknown voice \"Nobody\""));
  CAF_CHECK(!exists(out));
  stop(*tts);
  auto asr = start_reference("asr", dir);
  if (!asr) return;
  auto quiet = dir + "/silence.wav";
  std::ofstream(quiet, std::ios::binary) << silence_wav();
  // wav holds no real audio: its recording fails, the other one is still printed.
  r = sova_dc({"asr", "--address", asr->address(), "--file", quiet, "--file", wav});
  CAF_CHECK_EQUAL(r.status, 1);
  CAF_CHECK_EQUAL(r.out.rfind(quiet + ": ", 0), 0u);
  CAF_CHECK(contains(r.err, asr->address() + ": " + wav + ": the service failed: "));
  r = sova_dc({"asr", "--address", asr->address(), "--file", wav});
  CAF_CHECK_EQUAL(r.status, 1);
  CAF_CHECK(contains(r.err, asr->address() + ": the service failed: "));
  CAF_CHECK_EQUAL(r.out, "");
  stop(*asr);
}

CAF_TEST(nothing_listening_exits_1_naming_the_address) {
  refused_port nobody;
  auto where = "127.0.0.1:" + std::to_string(nobody.port);
  auto r = sova_dc({"asr", "--address", where, "--file", wav});
  CAF_CHECK_EQUAL(r.status, 1);
  CAF_CHECK(contains(r.err, where));
  CAF_CHECK(contains(r.err, "refused"));
  r = sova_dc({"tts", "--address", where, "--text", "hi", "--out", dir + "/n.wav"});
  CAF_CHECK_EQUAL(r.status, 1);
  CAF_CHECK(contains(r.err, where));
  // A bare host means port 5600 (checked only when nothing listens there on this machine).
  if (!listening("127.0.0.1", 5600)) {
    r = sova_dc({"asr", "--address", "127.0.0.1", "--file", wav});
    CAF_CHECK_EQUAL(r.status, 1);
    CAF_CHECK(contains(r.err, "127.0.0.1:5600"));
  } else {
    CAF_MESSAGE("something listens on 127.0.0.1:5600: bare-host check skipped");
  }
}

CAF_TEST(a_hanging_server_exits_1_at_the_timeout) {
  control({{"hang", true}});
  auto start = std::chrono::steady_clock::now();
  auto r = sova_dc({"asr", "--address", addr(), "--file", wav, "--timeout", "1"});
  auto took = std::chrono::steady_clock::now() - start;
  CAF_CHECK_EQUAL(r.status, 1);
  CAF_CHECK(contains(r.err, addr() + " did not answer within 1 s"));
  CAF_CHECK(took < 20s);
}

CAF_TEST(a_slow_reply_shows_progress_only_on_a_terminal) {
  control({{"delay_ms", 1600}});
  auto r = sova_dc({"asr", "--address", addr(), "--file", wav});
  CAF_CHECK_EQUAL(r.status, 0);
  CAF_CHECK_EQUAL(r.err, "");  // stderr is a file here
  if (::access("/usr/bin/script", X_OK) != 0) {
    CAF_MESSAGE("no /usr/bin/script: terminal check skipped");
    return;
  }
  // script(1) gives the command a terminal; both streams end up in its stdout.
  auto cmd = std::string(SOVA_DC_BINARY) + " asr --address " + addr() + " --file " + wav;
  r = run({"/usr/bin/script", "-qec", cmd, "/dev/null"}, 60s);
  CAF_CHECK_EQUAL(r.status, 0);
  CAF_CHECK(contains(r.out, "waiting for " + addr() + " ... 1."));
  CAF_CHECK(contains(r.out, "b1 heard"));
  r = run({"/usr/bin/script", "-qec", cmd + " --quiet", "/dev/null"}, 60s);
  CAF_CHECK_EQUAL(r.status, 0);
  CAF_CHECK(!contains(r.out, "waiting"));
  CAF_CHECK(contains(r.out, "b1 heard"));
}

CAF_TEST_FIXTURE_SCOPE_END()
