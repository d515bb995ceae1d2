#include "apps/client_command.hpp"

#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <future>
#include <iostream>
#include <iterator>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "apps/common.hpp"
#include "http/client.hpp"
#include "http/multipart.hpp"
#include "http/sova_reply.hpp"
#include "net/contact.hpp"

namespace sova::apps {

struct client_options {
  std::string service;  // `client --service` only; asr and tts imply it
  std::string address;
  std::vector<std::string> files;
  std::string text;
  std::string voice = "Natasha";
  double rate = 1.0;
  double pitch = 1.0;
  double volume = 0.0;
  std::string out = "speech.wav";
  bool json = false;
  std::string backend = "any";
  double timeout_s = 130;
  bool quiet = false;
};

namespace {

using json = nlohmann::json;
using http::asr_texts;
using http::interpret_reply;
using http::reply_view;
using http::tts_audio_of;
namespace fs = std::filesystem;

constexpr std::uint16_t default_port = 5600;
constexpr std::size_t big_upload = 1 << 20;  // bytes: progress shows from the start

void add_shared(CLI::App* cmd, client_options& o) {
  cmd->add_option("--address", o.address,
                  "Node (or SOVA backend) to call, HOST[:PORT]; IPv6 as [ADDRESS]:PORT; "
                  "the port defaults to 5600")
      ->required();
  cmd->add_option("--backend", o.backend,
                  "Kind of backend the node should use, sent as ?backend= unless any")
      ->capture_default_str()
      ->check(CLI::IsMember({"cpu", "gpu", "any"}));
  cmd->add_option("--timeout", o.timeout_s,
                  "Seconds to wait for the whole exchange (a node gives up itself after its "
                  "--request-timeout, 120 s by default, and answers 504)")
      ->capture_default_str()
      ->check(CLI::Range(0.1, 86400.0));
  cmd->add_flag("--quiet,-q", o.quiet,
                "No progress line on stderr (it is shown only when stderr is a terminal)");
}

void add_asr(CLI::App* cmd, client_options& o, const std::string& note) {
  cmd->add_option("--file", o.files,
                  "Recording to recognise (WAV or another format the backend reads); repeat "
                  "for several: one line of text per file, in order, each prefixed with the "
                  "file name when there are several" + note);
}

void add_tts(CLI::App* cmd, client_options& o, const std::string& note) {
  cmd->add_option("--text", o.text, "Text to synthesise, UTF-8, not empty" + note);
  cmd->add_option("--voice", o.voice, "Voice (SOVA TTS has Natasha and Ruslan)" + note)
      ->capture_default_str();
  cmd->add_option("--rate", o.rate,
                  "Speech rate, sent only when given (the service's default is 1.0)" + note);
  cmd->add_option("--pitch", o.pitch,
                  "Pitch, sent only when given (the service's default is 1.0)" + note);
  cmd->add_option("--volume", o.volume,
                  "Volume, sent only when given (the service's default is 0.0)" + note);
  cmd->add_option("--out", o.out,
                  "Where to write the WAV file, replacing it (default: speech.wav in the "
                  "current directory); with --json it is written only when --out is given" +
                      note);
}

// ---- the exchange ----

/// --address as host and port: HOST:PORT, [V6]:PORT, or a bare HOST / [V6] (port 5600).
std::optional<net::endpoint> parse_address(const std::string& text) {
  if (auto ep = net::parse_host_port(text)) return ep;
  bool bare = text.find(':') == std::string::npos ||
              (text.size() > 2 && text.front() == '[' && text.back() == ']');
  if (!text.empty() && bare) return net::parse_host_port(text + ":" + std::to_string(default_port));
  return std::nullopt;
}

/// One line on stderr, rewritten in place; only on a terminal, and erased at the end so
/// that what follows (the result, an error) starts on a clean line.
class progress_line {
public:
  explicit progress_line(bool enabled) : enabled_(enabled) {}
  ~progress_line() { clear(); }
  void show(const std::string& text) {
    if (!enabled_) return;
    std::string padded = text;
    if (padded.size() < width_) padded.append(width_ - padded.size(), ' ');
    width_ = text.size();
    std::fprintf(stderr, "\r%s", padded.c_str());
    std::fflush(stderr);
  }
  void clear() {
    if (!enabled_ || width_ == 0) return;
    std::fprintf(stderr, "\r%s\r", std::string(width_, ' ').c_str());
    std::fflush(stderr);
    width_ = 0;
  }

private:
  bool enabled_;
  std::size_t width_ = 0;
};

/// Sends `req` and waits for the outcome, showing progress after a second (at once for a
/// large upload, since sending it takes time too).
http::client_result exchange(const net::endpoint& to, http::client_request req,
                             const client_options& o) {
  http::client::options copts;
  copts.max_response_body = 512u << 20;  // long speech as base64 JSON
  auto client = http::client::create(copts);
  auto sent = req.body.size();
  auto done = std::make_shared<std::promise<http::client_result>>();
  auto result = done->get_future();
  client->send(to.host, to.port, std::move(req),
               [done](http::client_result r) { done->set_value(std::move(r)); });

  progress_line line(!o.quiet && ::isatty(STDERR_FILENO) == 1);
  auto start = std::chrono::steady_clock::now();
  while (result.wait_for(std::chrono::milliseconds(250)) != std::future_status::ready) {
    std::chrono::duration<double> waited = std::chrono::steady_clock::now() - start;
    if (waited.count() < 1.0 && sent < big_upload) continue;
    char buf[160];
    if (sent >= big_upload)
      std::snprintf(buf, sizeof buf, "sending %.1f MiB to %s and waiting ... %.1f s",
                    static_cast<double>(sent) / (1 << 20), to.to_string().c_str(), waited.count());
    else
      std::snprintf(buf, sizeof buf, "waiting for %s ... %.1f s", to.to_string().c_str(),
                    waited.count());
    line.show(buf);
  }
  line.clear();
  return result.get();
}

/// The reply to print and judge, or an error already reported (then nothing).
std::optional<reply_view> call(const net::endpoint& to, http::client_request req,
                               const client_options& o) {
  req.timeout = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::duration<double>(o.timeout_s));
  auto r = exchange(to, std::move(req), o);
  if (!r.ok) {
    if (r.error == http::client_errc::timeout)
      std::cerr << "error: " << to.to_string() << " did not answer within " << o.timeout_s
                << " s (--timeout): " << r.message << "\n";
    else
      std::cerr << "error: request to " << to.to_string() << " failed: " << r.message << "\n";
    return std::nullopt;
  }
  auto v = interpret_reply(r.response);
  if (o.json && v.is_json) {
    std::cout << r.response.body;
    if (r.response.body.empty() || r.response.body.back() != '\n') std::cout << "\n";
  }
  if (!v.failure.empty()) {
    std::cerr << "error: " << to.to_string() << ": " << v.failure << "\n";
    return std::nullopt;
  }
  return v;
}

std::string query(const client_options& o) {
  return o.backend == "any" ? "" : "?backend=" + o.backend;
}

int usage_error(const std::string& message) {
  std::cerr << "error: " << message << "\n";
  return exit_usage;
}

std::optional<std::string> read_recording(const std::string& path, std::string& why) {
  std::error_code ec;
  if (fs::is_directory(path, ec)) {
    why = "is a directory";
    return std::nullopt;
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    why = std::strerror(errno);
    return std::nullopt;
  }
  std::string data{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  if (in.bad()) {
    why = "read error";
    return std::nullopt;
  }
  return data;
}

int run_asr(const client_options& o, const net::endpoint& to) {
  if (o.files.empty()) return usage_error("--file is required: the recording to recognise");
  std::vector<http::form_part> parts;
  for (std::size_t i = 0; i < o.files.size(); ++i) {
    std::string why;
    auto data = read_recording(o.files[i], why);
    if (!data) return usage_error("--file " + o.files[i] + ": cannot read it: " + why);
    http::form_part p;
    // Distinct names: SOVA ASR (Flask) keeps only one file per field name.
    p.name = i == 0 ? "audio_blob" : "audio_blob_" + std::to_string(i + 1);
    p.filename = fs::path(o.files[i]).filename().string();
    auto ext = fs::path(o.files[i]).extension().string();
    for (auto& ch : ext) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    bool wav = ext == ".wav";
    p.content_type = wav ? "audio/wav" : "application/octet-stream";
    p.data = std::move(*data);
    parts.push_back(std::move(p));
  }
  http::client_request req;
  req.target = "/asr" + query(o);
  std::string boundary;
  req.body = http::build_multipart(parts, boundary);
  req.content_type = "multipart/form-data; boundary=" + boundary;
  auto reply = call(to, std::move(req), o);
  if (!reply) return exit_failed;
  int status = exit_ok;
  auto texts = asr_texts(reply->body, o.files.size());
  for (std::size_t i = 0; i < texts.size(); ++i) {
    std::string label = o.files.size() > 1 && texts.size() > 1 ? o.files[i] + ": " : "";
    if (!texts[i].failure.empty()) {
      std::cerr << "error: " << to.to_string() << ": " << label << texts[i].failure << "\n";
      status = exit_failed;
    } else if (!o.json) {
      std::cout << label << texts[i].text << "\n";
    }
  }
  return status;
}

/// Why `path` cannot be written (its directory is missing or read-only), or "".
std::string unwritable(const std::string& path) {
  std::error_code ec;
  if (fs::is_directory(path, ec)) return "is a directory";
  auto dir = fs::path(path).parent_path();
  if (dir.empty()) dir = ".";
  if (::access(dir.c_str(), W_OK) != 0) return dir.string() + ": " + std::strerror(errno);
  if (fs::exists(path, ec) && ::access(path.c_str(), W_OK) != 0) return std::strerror(errno);
  return "";
}

template <class Given>
int run_tts(const client_options& o, const net::endpoint& to, Given given) {
  if (!given("--text")) return usage_error("--text is required: the text to synthesise");
  if (o.text.find_first_not_of(" \t\r\n") == std::string::npos)
    return usage_error("--text is empty: give some text to synthesise");
  bool write = !o.json || given("--out");
  if (write)
    if (auto why = unwritable(o.out); !why.empty())
      return usage_error("--out " + o.out + ": cannot write it: " + why);
  nlohmann::ordered_json body{{"text", o.text}, {"voice", o.voice}};
  if (given("--rate")) body["rate"] = o.rate;
  if (given("--pitch")) body["pitch"] = o.pitch;
  if (given("--volume")) body["volume"] = o.volume;
  http::client_request req;
  req.target = "/synthesize" + query(o);
  req.content_type = "application/json";
  try {
    req.body = body.dump();
  } catch (const nlohmann::json::exception&) {
    return usage_error("--text and --voice must be valid UTF-8");
  }
  auto reply = call(to, std::move(req), o);
  if (!reply) return exit_failed;
  auto audio = tts_audio_of(reply->body);
  if (!audio.failure.empty()) {
    std::cerr << "error: " << to.to_string() << ": " << audio.failure << "\n";
    return exit_failed;
  }
  if (!write) return exit_ok;
  std::ofstream out(o.out, std::ios::binary | std::ios::trunc);
  out.write(audio.bytes.data(), static_cast<std::streamsize>(audio.bytes.size()));
  out.close();
  if (!out) {
    std::cerr << "error: cannot write " << o.out << ": " << std::strerror(errno) << "\n";
    return exit_failed;
  }
  std::string said = "wrote " + std::to_string(audio.bytes.size()) + " bytes to " + o.out;
  if (audio.duration_s) {
    char buf[48];
    std::snprintf(buf, sizeof buf, ", %.2f s", *audio.duration_s);
    said += buf;
  }
  if (audio.sample_rate) said += ", " + std::to_string(*audio.sample_rate) + " Hz";
  // With --json stdout carries the JSON alone.
  (o.json ? std::cerr : std::cout) << said << "\n";
  return exit_ok;
}

}  // namespace

client_commands add_client_commands(CLI::App& app) {
  client_commands c;
  c.options = std::make_shared<client_options>();
  auto& o = *c.options;

  c.asr = app.add_subcommand(
      "asr", "Recognise speech: POST the recording(s) to a node's /asr and print the text");
  add_shared(c.asr, o);
  add_asr(c.asr, o, "");
  c.asr->get_option("--file")->required();
  c.asr->add_flag("--json", o.json,
                  "Print the reply body as received instead of the text (an error reply's "
                  "JSON body too; the exit status is the same as without --json)");

  c.tts = app.add_subcommand(
      "tts", "Synthesise speech: POST the text to a node's /synthesize and write the WAV");
  add_shared(c.tts, o);
  add_tts(c.tts, o, "");
  c.tts->get_option("--text")->required();
  c.tts->add_flag("--json", o.json,
                  "Print the reply body as received instead of a summary (an error reply's "
                  "JSON body too; the exit status is the same; when --out is given the file "
                  "is written and the summary goes to stderr)");

  c.client = app.add_subcommand(
      "client", "The original SOVA DC client's form: --service asr behaves as `asr`, "
                "--service tts as `tts`");
  c.client->add_option("--service", o.service, "Service to call")
      ->required()
      ->check(CLI::IsMember({"asr", "tts"}));
  add_shared(c.client, o);
  add_asr(c.client, o, " (asr; required)");
  add_tts(c.client, o, " (tts)");
  c.client->get_option("--text")->description("Text to synthesise, UTF-8, not empty (tts; required)");
  c.client->add_flag("--json", o.json,
                     "Print the reply body as received, as `asr --json` and `tts --json` do");
  return c;
}

int run_client_commands(const client_commands& cmds) {
  const auto& o = *cmds.options;
  CLI::App* cmd = cmds.asr->parsed() ? cmds.asr : cmds.tts->parsed() ? cmds.tts : cmds.client;
  auto given = [cmd](const char* name) {
    auto* opt = cmd->get_option_no_throw(name);
    return opt != nullptr && opt->count() > 0;
  };
  std::string service = cmd == cmds.asr ? "asr" : cmd == cmds.tts ? "tts" : o.service;
  if (cmd == cmds.client) {
    if (service == "asr" && given("--text"))
      return usage_error("--text is for --service tts; --service asr takes --file");
    if (service == "tts" && given("--file"))
      return usage_error("--file is for --service asr; --service tts takes --text");
  }
  auto to = parse_address(o.address);
  if (!to)
    return usage_error("--address '" + o.address +
                       "': expected HOST[:PORT] with a port in 1..65535 (IPv6 as "
                       "[ADDRESS]:PORT)");
  return service == "asr" ? run_asr(o, *to) : run_tts(o, *to, given);
}

}  // namespace sova::apps
