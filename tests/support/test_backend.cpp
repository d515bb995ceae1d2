// sova_test_backend: a small server of the SOVA ASR and SOVA TTS APIs (shared/API.md) for
// tests and the proxy benchmark. Its replies are fixed and cheap; its service time and
// failures are set on the command line and changed at run time through POST /control.
//
//   sova_test_backend --listen 127.0.0.1:0 [--name b1] [--delay-ms N] [--fail-status S]
//                     [--threads N] [--concurrent] [--only asr|tts] [--any-address]
//                     [--audio-bytes N] [--service-mean-ms M [--seed S]] [--job-log FILE]
//
// By default it serves both APIs on one port; --only asr or --only tts serves one, as a
// real SOVA server does (the other's paths are 404: a backend entered at the wrong port).
//
// After binding it prints one line, "listening on 127.0.0.1:PORT", and flushes stdout.
// SIGINT or SIGTERM stops it cleanly with exit status 0: the server stops first, so the
// requests still queued or hung are dropped unanswered.
//
// Modes:
//   single (default)  as the real servers (Flask under gunicorn with one synchronous
//                     worker): every request but /control and /stats goes through ONE
//                     worker, one at a time, in arrival order; the others wait in a FIFO
//                     (the HTTP server keeps accepting, as the listen queue does). Real
//                     ASR/TTS work holds the worker for the delay; probes, redirects,
//                     refusals and unknown voices take no time but still wait their turn.
//   --concurrent      every request is answered on its own as soon as it arrives; real
//                     work is delayed by the delay each, in parallel; probes never are.
// Delays run on a timer thread of their own: the server's io threads never block.
//
// Service time of real work: --delay-ms N, the same for every job; or --service-mean-ms M,
// each job's drawn when it is taken up from an exponential distribution of mean M ms (an
// M/M/c queue's server), from a generator seeded with --seed (repeatable runs).
//
// Job log (--job-log FILE, for the routing benchmark): one line per job of real work,
// written and flushed when the job ends (or is hung), tab-separated:
//   <start> <end> <service_ms> <outcome> <id>
// start and end in Unix seconds with microseconds, service_ms the service time it was
// given, outcome "done" (answered) or "hung" (held by a hang: never answered, end = start,
// service_ms 0), id the job's id: a TTS request's text, an ASR request's first file name
// (tabs and line breaks in it written as spaces). A job that appears twice with "done"
// ran twice.
//
// Routes of the emulated server (Flask's rules; error pages are Werkzeug-like HTML,
// text/html; charset=utf-8):
//   POST /asr          multipart/form-data. Each part with a non-empty filename whose field
//                      name starts with `audio_blob` is a recording (only the first file
//                      of each field name). 200, JSON as text/html; charset=utf-8,
//                      {"r": [...]} with one element per recording:
//                      {"response": [{"confidence", "text": "<name> heard <N> bytes",
//                      "time", "words": [...]}], "response_audio_url": "/media/<name>-<n>.wav",
//                      "response_code": 0}; an empty file is unreadable: {"response":
//                      "<error>", "response_audio_url": null, "response_code": 1}. No usable
//                      file (an empty form, a body that is not multipart: the liveness
//                      probe) -> {"r": []}.
//   POST /synthesize   308, Location: http://<Host header or listen address>/synthesize/
//                      plus the query string.
//   POST /synthesize/  JSON object {"text", "voice", "rate"?, "pitch"?, "volume"?}. Not a JSON
//                      object -> 400; text or voice missing or not a string, or rate, pitch
//                      or volume not accepted by Python's float() -> 500. Empty text (the
//                      liveness probe) and an unknown voice -> 200 {"response": "<message>",
//                      "response_code": 1}. Voices Natasha, Ruslan and all (both). Good ->
//                      200 application/json {"response": [{"duration_s", "response_audio":
//                      base64("<name>:<text>"), "response_audio_url", "sample_rate",
//                      "synthesis_time", "voice"}], "response_code": 0}, keys sorted and
//                      non-ASCII escaped as Python's json.dumps does. With --audio-bytes N
//                      the audio is "<name>:<text>" and filler up to N bytes, as long as a
//                      real server's WAV (the proxy benchmark's realistic replies); such
//                      replies are built once per text and voice.
//   anything else      404 (/asr/ included); a known path with another method -> 405.
// Test routes (never queued, delayed nor faulted; errors are JSON, API.md style):
//   POST /control      JSON {"delay_ms", "service_mean_ms" (0 = off: delay_ms again),
//                      "fail_status" (0 = off), "hang", "garbage"}, each optional: changes
//                      how later requests are answered.
//   GET  /stats        {"asr", "tts", "probes", "faulted", "refused", "redirects",
//                      "requests", "waiting", "busy", "peak_concurrent", "mode", "name"}.
//
// Faults, in this order of precedence: hang (never answer), fail_status (that status; an
// HTML error page for 400..599, the JSON error body of API.md below 400), garbage (200 with
// a body that is not JSON). fail_status and garbage apply to the answers of the ASR/TTS
// views (real work, probes, unknown voices), probes included since a dead backend is dead to
// probes too; redirects and refusals are answered as they are. The delay applies to real
// work, faulty or not. In single mode the settings are read when the worker takes the
// request up, and hang holds the worker on whatever request it takes up next: everything
// queued behind waits, until /control turns hang off (as if the stuck worker were replaced):
// the held request is then left unanswered and the worker goes on with the queue. In
// concurrent mode the settings are read when a request arrives and hang holds that request
// only.
//
// Counters, each counted when the reply is sent (or the request is hung):
//   "requests"  every request that reached the emulated server (/asr, /synthesize*, and any
//               other path but /control and /stats), counted on arrival, refused ones too;
//   "asr"       ASR requests with at least one recording answered (one per request);
//   "tts"       TTS requests answered 200 other than probes (synthesized, unknown voice);
//   "probes"    probes answered normally;
//   "refused"   requests refused with 4xx/5xx by the server's own rules (400, 404, 405, 500);
//   "redirects" the 308s sent;
//   "faulted"   requests answered with an injected fault or hung;
//   "waiting"   requests queued behind the worker now (always 0 in concurrent mode);
//   "busy"      some request is in service now (a hung one stays in service until hang is
//               turned off);
//   "peak_concurrent"  the most requests ever in service at once: 1 in single mode;
//   "peak_work_held"   the most ASR/TTS work requests (not probes) the server ever held at
//               once, waiting or in service (a hung one until it is let go): 1 when
//               nobody sends a one-worker server a job while it runs another;
//   "mode"      "single" or "concurrent".

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cctype>
#include <cmath>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <iostream>
#include <limits>
#include <memory>
#include <map>
#include <mutex>
#include <optional>
#include <pthread.h>
#include <random>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/http/status.hpp>
#include <boost/system/error_code.hpp>
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "http/base64.hpp"
#include "http/multipart.hpp"
#include "http/numeric_text.hpp"
#include "http/server.hpp"

namespace {

namespace asio = boost::asio;
using sorted_json = nlohmann::json;        // TTS: keys sorted, as Flask's jsonify
using ordered_json = nlohmann::ordered_json;  // ASR and test routes: keys as written
using sova::http::error_response;
using sova::http::request;
using sova::http::responder;
using sova::http::response;

constexpr const char* html_type = "text/html; charset=utf-8";

/// JSON text as Python's json.dumps writes it by default: non-ASCII escaped.
template <class Json>
std::string python_dump(const Json& j) {
  return j.dump(-1, ' ', true, nlohmann::json::error_handler_t::replace);
}

response json_reply(const ordered_json& body, unsigned status = 200) {
  response r;
  r.status = status;
  r.body = body.dump();
  return r;
}

std::string html_escape(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

std::string reason_of(unsigned status) {
  namespace bhttp = boost::beast::http;
  auto r = bhttp::obsolete_reason(bhttp::int_to_status(status));
  return std::string(r.data(), r.size());
}

/// An error page shaped as Werkzeug's: doctype, title "<status> <reason>", h1, one paragraph.
response html_error(unsigned status, std::string_view description) {
  auto reason = reason_of(status);
  response r;
  r.status = status;
  r.content_type = html_type;
  r.body = "<!doctype html>\n<html lang=en>\n<title>" + std::to_string(status) + " " + reason +
           "</title>\n<h1>" + reason + "</h1>\n<p>" + std::string(description) + "</p>\n";
  return r;
}

response not_found() {
  return html_error(404, "The requested URL was not found on the server. If you entered the URL "
                         "manually please check your spelling and try again.");
}

response method_not_allowed() {
  auto r = html_error(405, "The method is not allowed for the requested URL.");
  r.headers.emplace_back("Allow", "POST");
  return r;
}

response bad_request() {
  return html_error(400, "The browser (or proxy) sent a request that this server could not "
                         "understand.");
}

response internal_error() {
  return html_error(500, "The server encountered an internal error and was unable to complete "
                         "your request. Either the server is overloaded or there is an error in "
                         "the application.");
}

bool valid_fail_status(long long s) { return s == 0 || (s >= 200 && s <= 599); }

/// Python's float() of a JSON value: numbers, booleans and numeric strings.
bool python_float_accepts(const sorted_json& v) {
  if (v.is_number() || v.is_boolean()) return true;
  return v.is_string() && sova::http::python_float(v.get_ref<const std::string&>()).has_value();
}

/// What the emulated server made of a request, before faults and queueing.
enum class outcome { asr, tts, probe, refused, redirect };

struct job {
  std::string id;  ///< for the job log: the TTS text or the first ASR file name
  response normal;
  outcome what = outcome::refused;
  bool view = false;  ///< answered by the ASR/TTS view: fail_status and garbage apply
  bool work = false;  ///< real ASR/TTS work: takes the delay
  responder reply;
};

class backend {
public:
  backend(std::string name, std::chrono::milliseconds delay, unsigned fail_status,
          bool concurrent, std::string only, std::size_t audio_bytes, double service_mean_ms,
          std::uint64_t seed, std::FILE* job_log)
      : name_(std::move(name)),
        concurrent_(concurrent),
        only_(std::move(only)),
        audio_bytes_(audio_bytes),
        delay_ms_(delay.count()),
        service_mean_ms_(service_mean_ms),
        fail_status_(fail_status),
        rng_(seed),
        job_log_(job_log) {}

  void start(const std::string& host, std::uint16_t port, std::size_t threads) {
    listen_host_ = host.find(':') != std::string::npos ? "[" + host + "]" : host;
    port_ = port;
    timer_thread_ = std::thread([this] { timers_.run(); });
    sova::http::server_limits limits;
    limits.threads = threads;
    server_ = sova::http::server::start(host, port, limits,
                                        [this](request req, responder reply) {
                                          handle(std::move(req), std::move(reply));
                                        });
    port_ = server_->port();
  }

  std::uint16_t port() const { return server_->port(); }

  /// Stops the server first, so that nothing answers any more (late replies are dropped),
  /// then the timer thread, then lets go of the queued and hung requests.
  void stop() {
    if (server_) server_->stop();
    work_.reset();
    timers_.stop();
    if (timer_thread_.joinable()) timer_thread_.join();
    std::deque<job> queued;
    std::vector<responder> hung, abandoned;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      queued.swap(queue_);
      hung.swap(hung_);
      abandoned.swap(abandoned_);
    }
    // The server is closed: these replies go nowhere.
  }

private:
  // ---- routing: runs on an io thread, never blocks ----

  void handle(request req, responder reply) {
    std::string_view target = req.target;
    std::string_view path = target.substr(0, target.find('?'));

    if (path == "/control") {
      if (req.method != "POST") return reply(test_route_405(path, "POST"));
      return control(req, reply);
    }
    if (path == "/stats") {
      if (req.method != "GET") return reply(test_route_405(path, "GET"));
      return reply(json_reply(stats()));
    }

    ++requests_;
    job j;
    j.reply = std::move(reply);
    bool asr_path = path == "/asr";
    bool tts_path = path == "/synthesize/" || path == "/synthesize";
    if ((asr_path && only_ != "tts") || (tts_path && only_ != "asr")) {
      if (req.method != "POST") {
        j.normal = method_not_allowed();
      } else if (path == "/asr") {
        asr(req, j);
      } else if (path == "/synthesize/") {
        tts(req, j);
      } else {
        redirect(req, target.substr(path.size()), j);
      }
    } else {
      j.normal = not_found();
    }
    submit(std::move(j));
  }

  static response test_route_405(std::string_view path, const char* method) {
    auto r = error_response(405, "method_not_allowed",
                            std::string(path) + " takes " + method + " only");
    r.headers.emplace_back("Allow", method);
    return r;
  }

  /// Flask's strict-slashes redirect: absolute, to the Host the client named.
  void redirect(const request& req, std::string_view query, job& j) {
    auto host = req.header("Host");
    if (host.empty()) host = listen_host_ + ":" + std::to_string(port_.load());
    auto location = "http://" + host + "/synthesize/" + std::string(query);
    auto shown = html_escape(location);
    j.what = outcome::redirect;
    j.normal.status = 308;
    j.normal.content_type = html_type;
    j.normal.headers.emplace_back("Location", location);
    j.normal.body =
        "<!doctype html>\n<html lang=en>\n<title>Redirecting...</title>\n<h1>Redirecting...</h1>\n"
        "<p>You should be redirected automatically to the target URL: <a href=\"" +
        shown + "\">" + shown + "</a>. If not, click the link.\n";
  }

  void asr(const request& req, job& j) {
    std::vector<sova::http::form_part> parts;
    if (auto boundary = sova::http::multipart_boundary(req.header("Content-Type"));
        boundary && !req.body.empty()) {
      // A body that does not parse holds no file that could be read: the probe's answer.
      if (auto parsed = sova::http::parse_multipart(req.body, *boundary)) parts = std::move(*parsed);
    }
    std::vector<std::string_view> seen;  // field names already read: only the first file counts
    ordered_json r = ordered_json::array();
    for (const auto& p : parts) {
      if (p.filename.empty() || p.name.rfind("audio_blob", 0) != 0) continue;
      if (std::find(seen.begin(), seen.end(), p.name) != seen.end()) continue;
      seen.push_back(p.name);
      if (j.id.empty()) j.id = p.filename;
      if (p.data.empty()) {
        r.push_back({{"response", "could not read the audio file \"" + p.filename + "\": it is empty"},
                     {"response_audio_url", nullptr},
                     {"response_code", 1}});
        continue;
      }
      auto n = r.size() + 1;  // position in this request: the same request, the same reply
      ordered_json word = {{"word", "heard"}, {"start", 0.0}, {"end", 0.5}, {"confidence", 0.93}};
      ordered_json hypothesis = {
          {"confidence", 0.93},
          {"text", name_ + " heard " + std::to_string(p.data.size()) + " bytes"},
          {"time", 0.0},
          {"words", ordered_json::array({std::move(word)})}};
      r.push_back({{"response", ordered_json::array({std::move(hypothesis)})},
                   {"response_audio_url", "/media/" + name_ + "-" + std::to_string(n) + ".wav"},
                   {"response_code", 0}});
    }
    j.view = true;
    j.work = !r.empty();
    j.what = r.empty() ? outcome::probe : outcome::asr;
    j.normal.content_type = html_type;  // Flask's default for a view returning a str
    j.normal.body = python_dump(ordered_json{{"r", std::move(r)}});
  }

  void tts(const request& req, job& j) {
    auto body = sorted_json::parse(req.body, nullptr, false);
    if (body.is_discarded() || !body.is_object()) {
      j.normal = bad_request();
      return;
    }
    // The real server reads text and voice without checking, and passes rate, pitch and
    // volume through float(): any of these going wrong is an unhandled exception, a 500.
    auto text = body.find("text");
    auto voice = body.find("voice");
    if (text == body.end() || voice == body.end() || !text->is_string() || !voice->is_string()) {
      j.normal = internal_error();
      return;
    }
    for (const char* key : {"rate", "pitch", "volume"}) {
      if (auto v = body.find(key); v != body.end() && !python_float_accepts(*v)) {
        j.normal = internal_error();
        return;
      }
    }
    const auto& t = text->get_ref<const std::string&>();
    const auto& v = voice->get_ref<const std::string&>();
    j.view = true;
    j.normal.content_type = "application/json";
    if (t.empty()) {
      j.what = outcome::probe;
      j.normal.body = python_dump(sorted_json{{"response", "empty text"}, {"response_code", 1}});
      return;
    }
    std::vector<std::string> voices;
    if (v == "all")
      voices = {"Natasha", "Ruslan"};
    else if (v == "Natasha" || v == "Ruslan")
      voices = {v};
    j.what = outcome::tts;
    j.id = t;
    if (voices.empty()) {
      j.normal.body = python_dump(sorted_json{
          {"response", "unknown voice \"" + v + "\": the voices are Natasha, Ruslan and all"},
          {"response_code", 1}});
      return;
    }
    j.work = true;
    if (audio_bytes_ > 0) {
      j.normal.body = cached_synthesis(t, v, voices);
      return;
    }
    j.normal.body = synthesis_reply(t, voices);
  }

  std::string synthesis_reply(const std::string& text, const std::vector<std::string>& voices) {
    sorted_json items = sorted_json::array();
    for (const auto& name : voices)
      items.push_back({{"duration_s", static_cast<double>(text.size()) / 15.0},
                       {"response_audio", sova::http::base64_encode(audio(text))},
                       {"response_audio_url", "/media/" + name_ + "-" + name + ".wav"},
                       {"sample_rate", 22050},
                       {"synthesis_time", 0.0},
                       {"voice", name}});
    return python_dump(sorted_json{{"response", std::move(items)}, {"response_code", 0}});
  }

  /// "<name>:<text>", then with --audio-bytes filler bytes (all 256 values, as in a WAV's
  /// samples) up to that size.
  std::string audio(const std::string& text) const {
    std::string a = name_ + ":" + text;
    for (std::size_t i = a.size(); i < audio_bytes_; ++i)
      a.push_back(static_cast<char>((i * 2654435761u) >> 13));
    return a;
  }

  /// Realistic replies are a few hundred KB: built once per text and voice (the proxy
  /// benchmark repeats one request), so that the backend is not what is measured.
  std::string cached_synthesis(const std::string& text, const std::string& voice,
                               const std::vector<std::string>& voices) {
    std::string key = voice + '\n' + text;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (auto it = synthesized_.find(key); it != synthesized_.end()) return it->second;
    }
    auto body = synthesis_reply(text, voices);
    std::lock_guard<std::mutex> lock(mutex_);
    if (synthesized_.size() >= 16) synthesized_.clear();
    synthesized_.emplace(std::move(key), body);
    return body;
  }

  // ---- test routes: answered at once ----

  void control(const request& req, const responder& reply) {
    auto body = ordered_json::parse(req.body, nullptr, false);
    if (body.is_discarded() || !body.is_object())
      return reply(error_response(400, "bad_request", "the body must be a JSON object"));
    // Check every field before changing any, so a bad request changes nothing.
    std::optional<long long> delay, fail;
    std::optional<double> mean;
    std::optional<bool> hang, garbage;
    for (const auto& [key, value] : body.items()) {
      if (key == "service_mean_ms") {
        if (!value.is_number() || value.get<double>() < 0 || value.get<double>() > 3600 * 1000)
          return reply(error_response(400, "bad_request",
                                      "\"service_mean_ms\" must be a number in 0..3600000"));
        mean = value.get<double>();
      } else if (key == "delay_ms" || key == "fail_status") {
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
    if (mean) service_mean_ms_ = *mean;
    if (fail) fail_status_ = static_cast<unsigned>(*fail);
    if (garbage) garbage_ = *garbage;
    bool resume = false;
    if (hang) {
      std::lock_guard<std::mutex> lock(mutex_);
      hang_ = *hang;
      if (!*hang && !hung_.empty()) {
        // The hung requests stay unanswered, but are no longer in service; in single mode
        // the worker they held goes on with the queue.
        in_service_ -= hung_.size();
        work_held_ -= hung_work_;
        hung_work_ = 0;
        for (auto& r : hung_) abandoned_.push_back(std::move(r));
        hung_.clear();
        resume = !concurrent_;
      }
    }
    if (resume) asio::post(timers_, [this] { run_worker(); });
    reply(json_reply({{"ok", true}}));
  }

  ordered_json stats() {
    std::size_t waiting = 0;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      waiting = queue_.size();
    }
    return {{"asr", asr_count_.load()},
            {"tts", tts_count_.load()},
            {"probes", probe_count_.load()},
            {"faulted", faulted_count_.load()},
            {"refused", refused_count_.load()},
            {"redirects", redirect_count_.load()},
            {"requests", requests_.load()},
            {"waiting", waiting},
            {"busy", in_service_.load() > 0},
            {"peak_concurrent", peak_.load()},
            {"peak_work_held", peak_work_held_.load()},
            {"mode", concurrent_ ? "concurrent" : "single"},
            {"name", name_}};
  }

  // ---- serving ----

  std::atomic<std::uint64_t>& counter_of(outcome o) {
    switch (o) {
      case outcome::asr: return asr_count_;
      case outcome::tts: return tts_count_;
      case outcome::probe: return probe_count_;
      case outcome::redirect: return redirect_count_;
      case outcome::refused: break;
    }
    return refused_count_;
  }

  void enter_service() {
    auto now = ++in_service_;
    auto peak = peak_.load();
    while (now > peak && !peak_.compare_exchange_weak(peak, now)) {
    }
  }

  /// Replaces the answer of a view by the injected fail_status or garbage, if any is set;
  /// returns the counter the reply counts in.
  std::atomic<std::uint64_t>* apply_faults(job& j) {
    if (!j.view) return &counter_of(j.what);
    if (auto fail = fail_status_.load(); fail != 0) {
      j.normal = fail >= 400 ? html_error(fail, name_ + " fails with " + std::to_string(fail))
                             : error_response(fail, "injected_failure",
                                              name_ + " fails with " + std::to_string(fail));
      return &faulted_count_;
    }
    if (garbage_) {
      j.normal.status = 200;
      j.normal.body = "<html>" + name_ + " says: this is not JSON";
      return &faulted_count_;
    }
    return &counter_of(j.what);
  }

  /// How long job `j` holds its worker: nothing unless it is real work; then a draw of
  /// mean --service-mean-ms when that is set, else the fixed delay.
  std::chrono::microseconds service_time(const job& j) {
    if (!j.work) return std::chrono::microseconds(0);
    double mean = service_mean_ms_.load();
    if (mean <= 0) return std::chrono::milliseconds(delay_ms_.load());
    std::lock_guard<std::mutex> lock(rng_mutex_);
    std::exponential_distribution<double> draw(1.0 / mean);
    return std::chrono::microseconds(std::llround(draw(rng_) * 1000.0));
  }

  /// One line of the job log (header comment) for real work; flushed at once, so that a
  /// backend stopped mid-run leaves every finished job logged.
  void log_job(const job& j, std::chrono::system_clock::time_point start,
               std::chrono::microseconds service, const char* outcome) {
    if (!job_log_ || !j.work) return;
    auto unix_s = [](std::chrono::system_clock::time_point t) {
      return std::chrono::duration<double>(t.time_since_epoch()).count();
    };
    auto end = std::chrono::system_clock::now();
    if (std::string_view(outcome) == "hung") end = start;
    std::string id = j.id;
    for (auto& c : id)
      if (c == '\t' || c == '\n' || c == '\r') c = ' ';
    std::lock_guard<std::mutex> lock(log_mutex_);
    std::fprintf(job_log_, "%.6f\t%.6f\t%.3f\t%s\t%s\n", unix_s(start), unix_s(end),
                 static_cast<double>(service.count()) / 1000.0, outcome, id.c_str());
    std::fflush(job_log_);
  }

  /// Counts, leaves service, then sends.
  void deliver(std::atomic<std::uint64_t>* count, response r, const responder& reply,
               bool work) {
    ++*count;
    --in_service_;
    if (work) --work_held_;  // before the reply: its sender may send the next job at once
    reply(std::move(r));
  }

  void submit(job j) {
    if (j.work) {
      auto held = ++work_held_;
      auto peak = peak_work_held_.load();
      while (held > peak && !peak_work_held_.compare_exchange_weak(peak, held)) {
      }
    }
    if (concurrent_) return serve_now(std::move(j));
    bool start = false;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      queue_.push_back(std::move(j));
      start = !worker_running_;
      worker_running_ = true;
    }
    if (start) asio::post(timers_, [this] { run_worker(); });
  }

  /// Concurrent mode: settings read now, each request on its own.
  void serve_now(job j) {
    enter_service();
    if (j.view) {
      std::lock_guard<std::mutex> lock(mutex_);
      if (hang_) {
        ++faulted_count_;
        log_job(j, std::chrono::system_clock::now(), std::chrono::microseconds(0), "hung");
        hung_work_ += j.work ? 1 : 0;
        hung_.push_back(std::move(j.reply));
        return;
      }
    }
    auto count = apply_faults(j);
    auto delay = service_time(j);
    auto started = std::chrono::system_clock::now();
    if (delay.count() <= 0) {
      log_job(j, started, delay, "done");
      return deliver(count, std::move(j.normal), j.reply, j.work);
    }
    auto timer = std::make_shared<asio::steady_timer>(timers_, delay);
    timer->async_wait([this, timer, count, started, delay,
                       j = std::move(j)](const boost::system::error_code& ec) mutable {
      if (ec) return;  // shutting down: the server is closed already
      log_job(j, started, delay, "done");
      deliver(count, std::move(j.normal), j.reply, j.work);
    });
  }

  /// Single mode: the one worker, on the timer thread only. Takes up the queued requests in
  /// order until the queue is empty, a delay holds it (its timer runs it again) or a hang
  /// does (/control runs it again).
  void run_worker() {
    for (;;) {
      job j;
      {
        std::lock_guard<std::mutex> lock(mutex_);
        if (queue_.empty()) {
          worker_running_ = false;
          return;
        }
        j = std::move(queue_.front());
        queue_.pop_front();
        enter_service();
        if (hang_) {  // a stuck worker: nothing behind it is answered while hang is on
          ++faulted_count_;
          log_job(j, std::chrono::system_clock::now(), std::chrono::microseconds(0), "hung");
          hung_work_ += j.work ? 1 : 0;
        hung_.push_back(std::move(j.reply));
          return;
        }
      }
      auto count = apply_faults(j);
      auto delay = service_time(j);
      auto started = std::chrono::system_clock::now();
      if (delay.count() <= 0) {
        log_job(j, started, delay, "done");
        deliver(count, std::move(j.normal), j.reply, j.work);
        continue;
      }
      auto timer = std::make_shared<asio::steady_timer>(timers_, delay);
      timer->async_wait([this, timer, count, started, delay,
                         j = std::move(j)](const boost::system::error_code& ec) mutable {
        if (ec) return;  // shutting down: the server is closed already
        log_job(j, started, delay, "done");
        deliver(count, std::move(j.normal), j.reply, j.work);
        run_worker();
      });
      return;
    }
  }

  const std::string name_;
  const bool concurrent_;
  const std::string only_;  // "asr" or "tts": the other API's paths are 404; "": both
  const std::size_t audio_bytes_;  // --audio-bytes; 0: the audio is "<name>:<text>"
  std::string listen_host_;             // for a redirect without Host: "127.0.0.1" or "[::1]"
  std::atomic<std::uint16_t> port_{0};  // the bound port, once known
  std::atomic<long long> delay_ms_;
  std::atomic<double> service_mean_ms_;  // > 0: service times drawn with this mean
  std::atomic<unsigned> fail_status_;
  std::atomic<bool> garbage_{false};

  std::atomic<std::uint64_t> asr_count_{0}, tts_count_{0}, probe_count_{0}, faulted_count_{0},
      refused_count_{0}, redirect_count_{0}, requests_{0};
  std::atomic<std::uint64_t> in_service_{0}, peak_{0};
  std::atomic<std::uint64_t> work_held_{0}, peak_work_held_{0};
  std::uint64_t hung_work_ = 0;  // work among hung_; guarded by mutex_

  asio::io_context timers_{1};
  asio::executor_work_guard<asio::io_context::executor_type> work_{timers_.get_executor()};
  std::thread timer_thread_;

  std::mutex rng_mutex_;  // guards rng_ (concurrent mode draws on io threads)
  std::mt19937_64 rng_;
  std::mutex log_mutex_;  // guards writes to job_log_
  std::FILE* job_log_;    // --job-log, or null

  std::mutex mutex_;  // guards what follows
  bool hang_ = false;
  bool worker_running_ = false;     // single mode: the worker is serving, delayed or held
  std::deque<job> queue_;           // single mode: waiting for the worker
  std::vector<responder> hung_;     // hung, in service until hang is turned off
  std::vector<responder> abandoned_;  // hung, then let go of: never answered
  std::map<std::string, std::string> synthesized_;  // --audio-bytes replies by voice and text

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
  CLI::App app{"A SOVA ASR/TTS API server for tests: fixed replies, one synchronous worker as "
               "the real servers (or --concurrent), controllable delay and failures (POST "
               "/control, GET /stats)"};
  std::string listen;
  std::string name = "b1";
  long long delay_ms = 0;
  long long fail_status = 0;
  std::size_t threads = 1;
  bool concurrent = false;
  bool any_address = false;
  app.add_option("--listen", listen, "HOST:PORT to listen on (port 0: any free port)")
      ->required();
  app.add_option("--name", name, "Name put into replies and /stats")->capture_default_str();
  app.add_option("--delay-ms", delay_ms,
                 "Service time of each real ASR/TTS request (not probes, redirects, errors), "
                 "unless --service-mean-ms draws them")
      ->check(CLI::Range(0LL, 3600LL * 1000))
      ->capture_default_str();
  app.add_option("--fail-status", fail_status,
                 "Answer every ASR/TTS reply (probes too; not redirects nor refusals) with "
                 "this status; 0: off")
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
  app.add_flag("--concurrent", concurrent,
               "Answer requests independently and in parallel instead of one at a time "
               "through one worker as the real servers do (the proxy benchmark)");
  std::string only;
  app.add_option("--only", only,
                 "Serve one API as a real server does (asr or tts); the other's paths are 404")
      ->check(CLI::IsMember({"asr", "tts"}));
  app.add_flag("--any-address", any_address, "Allow a non-loopback listen address");
  std::size_t audio_bytes = 0;
  app.add_option("--audio-bytes", audio_bytes,
                 "Make each synthesized voice's audio this long, as a real server's WAV "
                 "(207360: 4.7 s at 22,050 Hz, a 276 KB reply); 0: just \"<name>:<text>\"")
      ->check(CLI::Range(std::size_t{0}, std::size_t{64} << 20))
      ->capture_default_str();
  double service_mean_ms = 0;
  app.add_option("--service-mean-ms", service_mean_ms,
                 "Draw each real job's service time from an exponential distribution of this "
                 "mean (ms) instead of --delay-ms; 0: off")
      ->check(CLI::Range(0.0, 3600.0 * 1000))
      ->capture_default_str();
  std::uint64_t seed = 1;
  app.add_option("--seed", seed, "Seed of the service-time draws")->capture_default_str();
  std::string job_log;
  app.add_option("--job-log", job_log,
                 "Write one line per job of real work to this file: start, end, service time, "
                 "outcome, id (the TTS text or ASR file name)");
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

  std::FILE* log_file = nullptr;
  if (!job_log.empty()) {
    log_file = std::fopen(job_log.c_str(), "w");
    if (!log_file) {
      std::cerr << "sova_test_backend: --job-log " << job_log << ": cannot open it for writing\n";
      return 2;
    }
  }
  backend b(name, std::chrono::milliseconds(delay_ms), static_cast<unsigned>(fail_status),
            concurrent, only, audio_bytes, service_mean_ms, seed, log_file);
  try {
    b.start(host, port, threads);
  } catch (const std::exception& e) {
    std::cerr << "sova_test_backend: " << e.what() << "\n";
    b.stop();
    if (log_file) std::fclose(log_file);
    return 1;
  }
  auto shown = host.find(':') != std::string::npos ? "[" + host + "]" : host;
  std::printf("listening on %s:%u\n", shown.c_str(), static_cast<unsigned>(b.port()));
  std::fflush(stdout);

  int sig = 0;
  while (sigwait(&signals, &sig) != 0) {
  }
  b.stop();
  if (log_file) std::fclose(log_file);
  return 0;
}
