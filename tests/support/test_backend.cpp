// sova_test_backend: a small server of the SOVA ASR and SOVA TTS APIs (shared/API.md) for
// tests and the proxy benchmark. Its replies are fixed and cheap; its delay and failures
// are set on the command line and changed at run time through POST /control.
//
//   sova_test_backend --listen 127.0.0.1:0 [--name b1] [--delay-ms N] [--fail-status S]
//                     [--threads N] [--any-address]
//
// After binding it prints one line, "listening on 127.0.0.1:PORT", and flushes stdout.
// SIGINT or SIGTERM stops it cleanly with exit status 0.
//
// Routes:
//   POST /asr          multipart/form-data; one element of "r" per `audio_blob*` file part.
//                      A form without such parts (the liveness probe) -> {"r": []}.
//   POST /synthesize   308 to /synthesize/ (as SOVA TTS does).
//   POST /synthesize/  JSON {"text", "voice"?}; empty text (the liveness probe) ->
//                      {"response_code": 1, "response": "empty text"}.
//   POST /control      JSON {"delay_ms", "fail_status" (0 = off), "hang", "garbage"}, each
//                      optional: changes how later ASR/TTS requests are answered.
//   GET  /stats        {"asr", "tts", "probes", "faulted", "name"}.
//
// Faults, in this order of precedence: hang (never answer), fail_status (that status with
// a JSON error body), garbage (200 with a body that is not JSON). They apply to probes as
// well, since a dead backend is dead to probes too; the delay does not apply to probes, so
// that a slow backend still looks alive. The delay applies to every other ASR/TTS answer,
// faulty or not, and runs on a timer thread of its own: the server's io threads never
// block. /control and /stats are never delayed nor faulted.
//
// Counters: "asr" and "tts" count requests answered with real work (one per request, not
// per recording), "probes" the probes answered normally, "faulted" the requests (probes
// included) answered with an injected fault or hung. Each counts when the reply is sent.

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <iostream>
#include <memory>
#include <mutex>
#include <optional>
#include <pthread.h>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/system/error_code.hpp>
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "http/base64.hpp"
#include "http/multipart.hpp"
#include "http/server.hpp"

namespace {

namespace asio = boost::asio;
using json = nlohmann::ordered_json;  // keys in the order written, as in API.md
using sova::http::error_response;
using sova::http::request;
using sova::http::responder;
using sova::http::response;

response json_reply(const json& body, unsigned status = 200) {
  response r;
  r.status = status;
  r.body = body.dump();
  return r;
}

bool valid_fail_status(long long s) { return s == 0 || (s >= 200 && s <= 599); }

/// How one request is to be answered, decided from the settings when it arrives.
struct fault_plan {
  bool hang = false;
  unsigned fail_status = 0;
  bool garbage = false;
  std::chrono::milliseconds delay{0};
};

class backend {
public:
  backend(std::string name, std::chrono::milliseconds delay, unsigned fail_status)
      : name_(std::move(name)), delay_ms_(delay.count()), fail_status_(fail_status) {}

  void start(const std::string& host, std::uint16_t port, std::size_t threads) {
    timer_thread_ = std::thread([this] { timers_.run(); });
    sova::http::server_limits limits;
    limits.threads = threads;
    server_ = sova::http::server::start(host, port, limits,
                                        [this](request req, responder reply) {
                                          handle(std::move(req), std::move(reply));
                                        });
  }

  std::uint16_t port() const { return server_->port(); }

  /// Stops the server first, so that nothing answers any more (late replies are dropped),
  /// then the timer thread, then lets go of the hung requests.
  void stop() {
    if (server_) server_->stop();
    work_.reset();
    timers_.stop();
    if (timer_thread_.joinable()) timer_thread_.join();
    std::vector<responder> hung;
    {
      std::lock_guard<std::mutex> lock(hung_mutex_);
      hung.swap(hung_);
    }
    hung.clear();  // the server is closed: these replies go nowhere
  }

private:
  void handle(request req, responder reply) {
    std::string_view target = req.target;
    std::string_view path = target.substr(0, target.find('?'));
    std::string_view query =
        path.size() < target.size() ? target.substr(path.size()) : std::string_view{};

    auto only = [&](const char* method) {
      if (req.method == method) return true;
      auto r = error_response(405, "method_not_allowed",
                              std::string(path) + " takes " + method + " only");
      r.headers.emplace_back("Allow", method);
      reply(std::move(r));
      return false;
    };

    if (path == "/asr") {
      if (only("POST")) asr(req, std::move(reply));
    } else if (path == "/synthesize") {
      if (!only("POST")) return;
      response r;
      r.status = 308;
      r.content_type.clear();
      r.headers.emplace_back("Location", "/synthesize/" + std::string(query));
      reply(std::move(r));
    } else if (path == "/synthesize/") {
      if (only("POST")) tts(req, std::move(reply));
    } else if (path == "/control") {
      if (only("POST")) control(req, reply);
    } else if (path == "/stats") {
      if (only("GET"))
        reply(json_reply({{"asr", asr_count_.load()},
                          {"tts", tts_count_.load()},
                          {"probes", probe_count_.load()},
                          {"faulted", faulted_count_.load()},
                          {"name", name_}}));
    } else {
      reply(error_response(404, "not_found", "no route for " + std::string(path)));
    }
  }

  void asr(const request& req, responder reply) {
    auto boundary = sova::http::multipart_boundary(req.header("Content-Type"));
    if (!boundary)
      return reply(error_response(400, "bad_request", "the body must be multipart/form-data"));
    std::vector<sova::http::form_part> parts;
    if (!req.body.empty()) {  // a bodiless form is read as an empty one
      std::string why;
      auto parsed = sova::http::parse_multipart(req.body, *boundary, &why);
      if (!parsed) return reply(error_response(400, "bad_request", "bad multipart body: " + why));
      parts = std::move(*parsed);
    }
    json r = json::array();
    for (const auto& p : parts) {
      if (p.name.rfind("audio_blob", 0) != 0) continue;
      auto n = r.size() + 1;  // position in this request: the same request, the same reply
      r.push_back({{"response_audio_url", "/media/" + name_ + "-" + std::to_string(n) + ".wav"},
                   {"response_code", 0},
                   {"response",
                    json::array({{{"text", name_ + " heard " + std::to_string(p.data.size()) +
                                               " bytes"},
                                  {"time", 0.0},
                                  {"confidence", 1.0},
                                  {"words", json::array()}}})}});
    }
    bool probe = r.empty();
    answer(json_reply({{"r", std::move(r)}}), probe, probe ? probe_count_ : asr_count_,
           std::move(reply));
  }

  void tts(const request& req, responder reply) {
    auto body = json::parse(req.body, nullptr, false);
    if (body.is_discarded() || !body.is_object())
      return reply(error_response(400, "bad_request", "the body must be a JSON object"));
    auto text = body.find("text");
    if (text == body.end() || !text->is_string())
      return reply(error_response(400, "bad_request", "\"text\" must be a string"));
    std::string voice = "Natasha";
    if (auto v = body.find("voice"); v != body.end()) {
      if (!v->is_string())
        return reply(error_response(400, "bad_request", "\"voice\" must be a string"));
      voice = v->get<std::string>();
    }
    const auto& t = text->get_ref<const std::string&>();
    if (t.empty())
      return answer(json_reply({{"response_code", 1}, {"response", "empty text"}}), true,
                    probe_count_, std::move(reply));
    json item = {{"voice", voice},
                 {"sample_rate", 22050},
                 {"duration_s", static_cast<double>(t.size()) / 15.0},
                 {"synthesis_time", 0.0},
                 {"response_audio_url", "/media/x.wav"},
                 {"response_audio", sova::http::base64_encode(name_ + ":" + t)}};
    answer(json_reply({{"response_code", 0}, {"response", json::array({std::move(item)})}}),
           false, tts_count_, std::move(reply));
  }

  void control(const request& req, const responder& reply) {
    auto body = json::parse(req.body, nullptr, false);
    if (body.is_discarded() || !body.is_object())
      return reply(error_response(400, "bad_request", "the body must be a JSON object"));
    // Check every field before changing any, so a bad request changes nothing.
    std::optional<long long> delay, fail;
    std::optional<bool> hang, garbage;
    for (const auto& [key, value] : body.items()) {
      if (key == "delay_ms" || key == "fail_status") {
        if (!value.is_number_integer())
          return reply(error_response(400, "bad_request", "\"" + key + "\" must be an integer"));
        auto v = value.get<long long>();
        if (key == "delay_ms") {
          if (v < 0 || v > 3600 * 1000)
            return reply(error_response(400, "bad_request", "\"delay_ms\" out of range"));
          delay = v;
        } else {
          if (!valid_fail_status(v))
            return reply(error_response(400, "bad_request",
                                        "\"fail_status\" must be 0 or in 200..599"));
          fail = v;
        }
      } else if (key == "hang" || key == "garbage") {
        if (!value.is_boolean())
          return reply(error_response(400, "bad_request", "\"" + key + "\" must be a boolean"));
        (key == "hang" ? hang : garbage) = value.get<bool>();
      } else {
        return reply(error_response(400, "bad_request", "unknown setting \"" + key + "\""));
      }
    }
    if (delay) delay_ms_ = *delay;
    if (fail) fail_status_ = static_cast<unsigned>(*fail);
    if (hang) hang_ = *hang;
    if (garbage) garbage_ = *garbage;
    reply(json_reply({{"ok", true}}));
  }

  fault_plan plan(bool probe) const {
    fault_plan p;
    p.hang = hang_;
    p.fail_status = fail_status_;
    p.garbage = garbage_;
    if (!probe) p.delay = std::chrono::milliseconds(delay_ms_.load());
    return p;
  }

  /// Answers `normal` as the settings say; `counter` counts it if it goes out unfaulted.
  void answer(response normal, bool probe, std::atomic<std::uint64_t>& counter,
              responder reply) {
    auto p = plan(probe);
    if (p.hang) {
      ++faulted_count_;
      std::lock_guard<std::mutex> lock(hung_mutex_);
      hung_.push_back(std::move(reply));
      return;
    }
    std::atomic<std::uint64_t>* count = &counter;
    if (p.fail_status != 0) {
      normal = error_response(p.fail_status, "injected_failure",
                              name_ + " fails with " + std::to_string(p.fail_status));
      count = &faulted_count_;
    } else if (p.garbage) {
      normal.status = 200;
      normal.body = "<html>" + name_ + " says: this is not JSON";
      count = &faulted_count_;
    }
    if (p.delay.count() <= 0) {
      ++*count;
      return reply(std::move(normal));
    }
    auto timer = std::make_shared<asio::steady_timer>(timers_, p.delay);
    timer->async_wait([timer, count, r = std::move(normal), reply = std::move(reply)](
                          const boost::system::error_code& ec) mutable {
      if (ec) return;  // shutting down: the server is closed already
      ++*count;
      reply(std::move(r));
    });
  }

  const std::string name_;
  std::atomic<long long> delay_ms_;
  std::atomic<unsigned> fail_status_;
  std::atomic<bool> hang_{false};
  std::atomic<bool> garbage_{false};

  std::atomic<std::uint64_t> asr_count_{0}, tts_count_{0}, probe_count_{0}, faulted_count_{0};

  asio::io_context timers_{1};
  asio::executor_work_guard<asio::io_context::executor_type> work_{timers_.get_executor()};
  std::thread timer_thread_;

  std::mutex hung_mutex_;
  std::vector<responder> hung_;

  std::shared_ptr<sova::http::server> server_;
};

/// Splits "host:port" or "[v6]:port"; throws on anything else.
std::pair<std::string, std::uint16_t> split_listen(const std::string& s) {
  std::string host, port;
  if (!s.empty() && s.front() == '[') {
    auto close = s.find(']');
    if (close == std::string::npos || close + 1 >= s.size() || s[close + 1] != ':')
      throw std::invalid_argument("expected [ADDRESS]:PORT");
    host = s.substr(1, close - 1);
    port = s.substr(close + 2);
  } else {
    auto colon = s.rfind(':');
    if (colon == std::string::npos) throw std::invalid_argument("expected HOST:PORT");
    host = s.substr(0, colon);
    port = s.substr(colon + 1);
    if (host.find(':') != std::string::npos)
      throw std::invalid_argument("write an IPv6 address as [ADDRESS]:PORT");
  }
  if (port.empty() || port.size() > 5 || port.find_first_not_of("0123456789") != std::string::npos)
    throw std::invalid_argument("bad port \"" + port + "\"");
  auto n = std::stoul(port);
  if (n > 65535) throw std::invalid_argument("bad port \"" + port + "\"");
  if (host == "localhost") host = "127.0.0.1";
  return {host, static_cast<std::uint16_t>(n)};
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"A SOVA ASR/TTS API server for tests: fixed replies, controllable delay and "
               "failures (POST /control, GET /stats)"};
  std::string listen;
  std::string name = "b1";
  long long delay_ms = 0;
  long long fail_status = 0;
  std::size_t threads = 1;
  bool any_address = false;
  app.add_option("--listen", listen, "HOST:PORT to listen on (port 0: any free port)")
      ->required();
  app.add_option("--name", name, "Name put into replies and /stats")->capture_default_str();
  app.add_option("--delay-ms", delay_ms, "Delay before each ASR/TTS answer (not probes)")
      ->check(CLI::Range(0LL, 3600LL * 1000))
      ->capture_default_str();
  app.add_option("--fail-status", fail_status,
                 "Answer every ASR/TTS request (probes too) with this status; 0: off")
      ->check([](const std::string& v) {
        try {
          return valid_fail_status(std::stoll(v)) ? std::string() : "must be 0 or in 200..599";
        } catch (...) {
          return std::string("must be an integer");
        }
      })
      ->capture_default_str();
  app.add_option("--threads", threads, "HTTP io threads")
      ->check(CLI::Range(std::size_t{1}, std::size_t{64}))
      ->capture_default_str();
  app.add_flag("--any-address", any_address, "Allow a non-loopback listen address");
  CLI11_PARSE(app, argc, argv);

  std::string host;
  std::uint16_t port = 0;
  try {
    std::tie(host, port) = split_listen(listen);
    boost::system::error_code ec;
    auto addr = asio::ip::make_address(host, ec);
    if (ec) throw std::invalid_argument("\"" + host + "\" is not an IP address");
    if (!addr.is_loopback() && !any_address)
      throw std::invalid_argument(host + " is not a loopback address; this is a test tool "
                                         "(pass --any-address to insist)");
    host = addr.to_string();
  } catch (const std::exception& e) {
    std::cerr << "sova_test_backend: --listen " << listen << ": " << e.what() << "\n";
    return 2;
  }

  // Every thread started from here on inherits the mask; main waits for the signals.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  backend b(name, std::chrono::milliseconds(delay_ms), static_cast<unsigned>(fail_status));
  try {
    b.start(host, port, threads);
  } catch (const std::exception& e) {
    std::cerr << "sova_test_backend: " << e.what() << "\n";
    b.stop();
    return 1;
  }
  auto shown = host.find(':') != std::string::npos ? "[" + host + "]" : host;
  std::printf("listening on %s:%u\n", shown.c_str(), static_cast<unsigned>(b.port()));
  std::fflush(stdout);

  int sig = 0;
  while (sigwait(&signals, &sig) != 0) {
  }
  b.stop();
  return 0;
}
