#include "apps/demo_command.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <fstream>
#include <mutex>
#include <thread>

#include <pthread.h>
#include <unistd.h>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "admin/http_api.hpp"
#include "apps/child_process.hpp"
#include "apps/common.hpp"
#include "backends/transcription.hpp"
#include "backends/wer.hpp"
#include "http/client.hpp"
#include "http/multipart.hpp"
#include "http/sova_reply.hpp"

namespace sova::apps {

struct demo_options {
  std::uint16_t udp_port = 5678;
  std::uint16_t http_port = 5600;
  std::uint16_t tts_port = 8899;
  std::uint16_t asr_port = 8888;
  std::uint16_t admin_port = 5700;  // each node's, on its own 127.0.0.x
  std::string dir;  // "" = a fresh directory under /tmp
  double wait_s = 90;
  std::string sentence = "speech recognition is working through the network";
  std::string testdata = "/usr/share/pocketsphinx/test/data/librivox";
  std::string recording = "sense_and_sensibility_01_austen_64kb-0880";
};

namespace {

using clock = std::chrono::steady_clock;
using json = nlohmann::json;

const char* node_hosts[] = {"127.0.0.2", "127.0.0.3", "127.0.0.4"};
const char* tts_host = "127.0.0.5";
const char* asr_host = "127.0.0.6";

double since(clock::time_point t0) { return std::chrono::duration<double>(clock::now() - t0).count(); }

// Everything the demo started, stopped once whatever happens.
class demo_processes {
public:
  child_process& start(const std::string& name, const std::vector<std::string>& argv,
                       const std::string& log) {
    std::lock_guard<std::mutex> lock(mu_);
    procs_.push_back({name, std::make_unique<child_process>(argv, log)});
    return *procs_.back().second;
  }
  // From the signal watcher: ask them all to stop now (the waits in progress then fail).
  void terminate() {
    std::lock_guard<std::mutex> lock(mu_);
    for (auto& p : procs_) p.second->signal(SIGTERM);
  }
  std::size_t stop_all() {
    std::lock_guard<std::mutex> lock(mu_);
    for (auto& p : procs_) p.second->signal(SIGTERM);
    for (auto& p : procs_) {
      if (auto status = p.second->wait_for(std::chrono::seconds(10)); status && *status != 0)
        fmt::print("demo: {} ended with status {} (log: {})\n", p.first, *status, p.second->log_path());
    }
    auto n = procs_.size();
    procs_.clear();  // SIGKILLs whatever still runs
    return n;
  }
  void show_logs_of_the_dead() {
    std::lock_guard<std::mutex> lock(mu_);
    for (auto& p : procs_)
      if (p.second->wait_for(std::chrono::milliseconds(0)))
        fmt::print("demo: {} is not running; its log ({}):\n{}\n", p.first, p.second->log_path(),
                   p.second->log());
  }

private:
  std::mutex mu_;
  std::vector<std::pair<std::string, std::unique_ptr<child_process>>> procs_;
};

class demo {
public:
  demo(const demo_options& o, demo_processes& procs, std::atomic<bool>& interrupted)
      : o_(o), procs_(procs), interrupted_(interrupted), exe_(own_executable()),
        client_(http::client::create({})) {}

  bool run() {
    fmt::print("demo: working in {}\n", o_.dir);
    if (!start_backend("tts", tts_host, o_.tts_port) || !start_backend("asr", asr_host, o_.asr_port))
      return false;
    std::string tts = fmt::format("tts/cpu/{}:{}", tts_host, o_.tts_port);
    std::string asr = fmt::format("asr/cpu/{}:{}", asr_host, o_.asr_port);
    if (!start_node(0, tts, "") || !start_node(1, asr, node_hosts[0]) || !start_node(2, "", node_hosts[1]))
      return false;
    if (!wait_for_services()) return false;
    fmt::print("\n");
    bool ok = true;
    ok = english_round_trip() && ok;
    ok = librivox_recording() && ok;
    ok = russian_greeting() && ok;
    ok = admin_console() && ok;
    return ok;
  }

private:
  bool start_backend(const std::string& kind, const char* host, std::uint16_t port) {
    auto t0 = clock::now();
    fmt::print("demo: starting the {} backend ({}) on {}:{} ... ", kind,
               kind == "tts" ? "espeak-ng" : "pocketsphinx", host, port);
    std::fflush(stdout);
    auto& p = procs_.start(kind + " backend",
                           {exe_, "backend", kind, "--listen", fmt::format("{}:{}", host, port),
                            "--workers", "1"},
                           o_.dir + "/" + kind + "-backend.log");
    if (!wait_until([&] { return p.log().find("listening on") != std::string::npos; }, 60)) {
      if (interrupted_) return false;
      fmt::print("failed; its log ({}):\n{}\n", p.log_path(), p.log());
      return false;
    }
    fmt::print("up in {:.1f} s\n", since(t0));
    return true;
  }

  bool start_node(int i, const std::string& services, const std::string& neighbour) {
    std::vector<std::string> argv{exe_, "node", "--bind", node_hosts[i], "--port",
                                  std::to_string(o_.udp_port), "--http-port",
                                  std::to_string(o_.http_port), "--admin-port",
                                  std::to_string(o_.admin_port), "--allow-loopback",
                                  // Look the services up again every 2 s (30 s by default),
                                  // so that the demo does not wait for the first refresh.
                                  "--directory-refresh", "2"};
    std::string what = fmt::format("demo: node {} on {} (udp {}, http {})", i + 1, node_hosts[i],
                                   o_.udp_port, o_.http_port);
    if (!services.empty()) {
      argv.insert(argv.end(), {"--services", services});
      what += ", announcing " + services;
    }
    if (!neighbour.empty()) {
      argv.insert(argv.end(), {"--neighbours", fmt::format("{}:{}", neighbour, o_.udp_port)});
      what += ", joining through " + neighbour;
    }
    fmt::print("{} ... ", what);
    std::fflush(stdout);
    auto& p = procs_.start(fmt::format("node {}", i + 1), argv,
                           fmt::format("{}/node{}.log", o_.dir, i + 1));
    bool up = wait_until([&] {
      auto r = call(node_hosts[i], "GET", "/healthz", "", "", std::chrono::seconds(1));
      return r.ok && r.response.status == 200;
    }, 30);
    if (!up) {
      if (interrupted_) return false;
      fmt::print("failed; its log ({}):\n{}\n", p.log_path(), p.log());
      return false;
    }
    fmt::print("up\n");
    return true;
  }

  bool wait_for_services() {
    auto t0 = clock::now();
    fmt::print("demo: waiting until every node knows both services ... ");
    std::fflush(stdout);
    bool all = wait_until([&] {
      for (const char* host : node_hosts)
        if (!network_offers(host, "asr/cpu") || !network_offers(host, "tts/cpu")) return false;
      return true;
    }, o_.wait_s);
    if (!all) {
      if (interrupted_) return false;
      fmt::print("not within {} s\n", o_.wait_s);
      procs_.show_logs_of_the_dead();
      return false;
    }
    fmt::print("{:.1f} s\n", since(t0));
    return true;
  }

  // 1 and 2: English speech made through node 3 and recognised through node 1.
  bool english_round_trip() {
    auto wav = synthesize(3, o_.sentence, "en-us", "english.wav");
    if (!wav) return false;
    fmt::print("   said:  \"{}\"\n", o_.sentence);
    auto heard = recognize(1, *wav, "english.wav");
    if (!heard) return false;
    auto wer = backends::word_error_rate(o_.sentence, *heard);
    fmt::print("   heard: \"{}\"\n   {} of {} words heard right (word error rate {:.0f}%)\n\n", *heard,
               wer.reference_words - wer.substitutions - wer.deletions, wer.reference_words,
               100 * wer.rate());
    return true;
  }

  // 3: a real recording, recognised through node 2 and shown beside its transcript.
  bool librivox_recording() {
    auto audio = read_file(o_.testdata + "/" + o_.recording + ".wav");
    auto refs = backends::parse_transcription(read_file(o_.testdata + "/transcription"));
    if (audio.empty() || !refs.count(o_.recording)) {
      fmt::print("demo: the recording {} is missing (package pocketsphinx-testdata)\n", o_.recording);
      return false;
    }
    auto heard = recognize(2, audio, "a LibriVox recording (" + o_.recording + ".wav)");
    if (!heard) return false;
    auto wer = backends::word_error_rate(refs[o_.recording], *heard);
    fmt::print("   transcript: \"{}\"\n   recognised: \"{}\"\n   word error rate {:.0f}%\n\n",
               refs[o_.recording], *heard, 100 * wer.rate());
    return true;
  }

  // 5: what node 1 knows, asked the way an operator would: through its admin console.
  bool admin_console() {
    auto address = fmt::format("{}:{}", node_hosts[0], o_.admin_port);
    fmt::print("\n{}. The admin console of node 1: sova-dc admin --connect {} -c services\n",
               ++step_, address);
    auto out = o_.dir + "/admin.out";
    auto pid = spawn_logged({exe_, "admin", "--connect", address, "-c", "services"}, out, out);
    auto status = wait_exit(pid, std::chrono::seconds(30));
    if (!status) {
      ::kill(pid, SIGKILL);
      wait_exit(pid, std::chrono::seconds(5));
    }
    auto text = read_file(out);
    for (std::size_t at = 0; at < text.size();) {
      auto end = std::min(text.find('\n', at), text.size());
      fmt::print("   {}\n", text.substr(at, end - at));
      at = end + 1;
    }
    if (status != 0)
      fmt::print("   FAILED: the console {}\n", status ? "failed" : "did not answer in 30 s");
    return status == 0;
  }

  // 4: Russian with the SOVA voice Natasha, through node 1.
  bool russian_greeting() { return synthesize(1, "Добрый день", "Natasha", "dobryi_den.wav").has_value(); }

  std::optional<std::string> synthesize(int node, const std::string& text, const std::string& voice,
                                        const std::string& file) {
    auto t0 = clock::now();
    json body = {{"text", text}, {"voice", voice}};
    auto r = call(node_hosts[node - 1], "POST", "/synthesize", "application/json", body.dump(),
                  std::chrono::seconds(60));
    auto failure = failed(r);
    http::tts_audio audio;
    if (failure.empty()) {
      auto view = http::interpret_reply(r.response);
      failure = view.failure;
      if (failure.empty()) {
        audio = http::tts_audio_of(view.body);
        failure = audio.failure;
      }
    }
    fmt::print("{}. TTS through node {} ({}:{}), voice {}: \"{}\"\n", ++step_, node,
               node_hosts[node - 1], o_.http_port, voice, text);
    if (!failure.empty()) {
      fmt::print("   failed: {}\n", failure);
      return std::nullopt;
    }
    auto path = o_.dir + "/" + file;
    std::ofstream(path, std::ios::binary) << audio.bytes;
    fmt::print("   -> {} ({:.1f} s of audio at {} Hz) in {:.2f} s\n", path, audio.duration_s.value_or(0),
               audio.sample_rate.value_or(0), since(t0));
    return audio.bytes;
  }

  std::optional<std::string> recognize(int node, const std::string& audio, const std::string& what) {
    auto t0 = clock::now();
    std::string boundary;
    auto body = http::build_multipart({{"audio_blob", "speech.wav", "audio/wav", audio}}, boundary);
    auto r = call(node_hosts[node - 1], "POST", "/asr", "multipart/form-data; boundary=" + boundary,
                  body, std::chrono::seconds(120));
    auto failure = failed(r);
    std::vector<http::asr_text> texts;
    if (failure.empty()) {
      auto view = http::interpret_reply(r.response);
      failure = view.failure;
      if (failure.empty()) {
        texts = http::asr_texts(view.body, 1);
        failure = texts[0].failure;
      }
    }
    fmt::print("{}. ASR through node {} ({}:{}) of {}: {:.2f} s\n", ++step_, node,
               node_hosts[node - 1], o_.http_port, what, since(t0));
    if (!failure.empty()) {
      fmt::print("   failed: {}\n", failure);
      return std::nullopt;
    }
    return texts[0].text;
  }

  static std::string failed(const http::client_result& r) {
    return r.ok ? std::string() : http::describe_failure(r);
  }

  http::client_result call(const char* host, const std::string& method, const std::string& target,
                           const std::string& content_type, const std::string& body,
                           std::chrono::milliseconds timeout) {
    http::client_request req;
    req.method = method;
    req.target = target;
    req.content_type = content_type;
    req.body = body;
    req.timeout = timeout;
    return http::send_and_wait(*client_, host, o_.http_port, std::move(req));
  }

  /// Whether a DHT get from the node at `host` finds a value under `key`, asked through
  /// its admin port. Not its /status: that shows only what its requests looked up.
  bool network_offers(const char* host, const std::string& key) {
    http::client_request req;
    req.method = "POST";
    req.target = std::string(admin::command_path);
    req.content_type = "application/json";
    req.body = admin::encode_call({"get", {key}});
    req.timeout = std::chrono::seconds(2);
    auto r = http::send_and_wait(*client_, host, o_.admin_port, std::move(req));
    return r.ok && admin::read_reply(r.response.status, r.response.body).ok;
  }

  template <class Pred>
  bool wait_until(Pred pred, double seconds) {
    auto deadline = clock::now() + std::chrono::duration<double>(seconds);
    while (!interrupted_) {
      if (pred()) return true;
      if (clock::now() >= deadline) return false;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return false;
  }

  const demo_options& o_;
  demo_processes& procs_;
  std::atomic<bool>& interrupted_;
  std::string exe_;
  std::shared_ptr<http::client> client_;
  int step_ = 0;
};

std::string fresh_dir() {
  std::string tmpl = "/tmp/sova-demo-XXXXXX";
  if (!::mkdtemp(tmpl.data())) throw std::runtime_error("cannot create a directory under /tmp");
  return tmpl;
}

}  // namespace

demo_command add_demo_command(CLI::App& app) {
  demo_command d;
  d.options = std::make_shared<demo_options>();
  auto& o = *d.options;
  d.cmd = app.add_subcommand(
      "demo",
      "Run a whole network on this machine: 3 nodes on 127.0.0.2-127.0.0.4, a TTS backend "
      "(127.0.0.5) and an ASR backend (127.0.0.6); synthesise and recognise real speech "
      "through it, print the results, stop everything");
  d.cmd->add_option("--port", o.udp_port, "UDP port of the nodes' DHT")->capture_default_str();
  d.cmd->add_option("--http-port", o.http_port, "HTTP port of the nodes")->capture_default_str();
  d.cmd->add_option("--tts-port", o.tts_port, "Port of the TTS backend")->capture_default_str();
  d.cmd->add_option("--asr-port", o.asr_port, "Port of the ASR backend")->capture_default_str();
  d.cmd->add_option("--admin-port", o.admin_port, "Admin port of the nodes (sova-dc admin)")
      ->capture_default_str();
  d.cmd->add_option("--dir", o.dir,
                    "Directory for the logs and the audio made (default: a new /tmp/sova-demo-*)");
  d.cmd->add_option("--wait", o.wait_s, "Seconds to wait for the network to know both services")
      ->capture_default_str()
      ->check(CLI::Range(1.0, 3600.0));
  d.cmd->add_option("--sentence", o.sentence, "The English sentence to synthesise and recognise")
      ->capture_default_str();
  return d;
}

int run_demo(const demo_command& d) {
  auto o = *d.options;
  stop_signals stop;  // before any thread starts
  try {
    if (o.dir.empty()) o.dir = fresh_dir();
  } catch (const std::exception& e) {
    fmt::print(stderr, "demo: {}\n", e.what());
    return exit_failed;
  }
  demo_processes procs;
  std::atomic<bool> interrupted{false}, finished{false};
  std::thread watcher([&] {
    stop.wait();
    if (finished) return;
    interrupted = true;
    fmt::print("\ndemo: interrupted; stopping everything\n");
    procs.terminate();
  });
  bool ok = false;
  try {
    ok = demo(o, procs, interrupted).run();
  } catch (const std::exception& e) {
    fmt::print("demo: {}\n", e.what());
  }
  finished = true;
  pthread_kill(watcher.native_handle(), SIGTERM);  // wakes the watcher: nothing to do
  watcher.join();
  auto n = procs.stop_all();
  fmt::print("demo: stopped {} process(es); logs and audio are in {}\n", n, o.dir);
  if (interrupted) return 130;
  fmt::print("demo: {}\n", ok ? "all steps succeeded" : "some steps FAILED (see above)");
  return ok ? exit_ok : exit_failed;
}

}  // namespace sova::apps
