#include "apps/backend_command.hpp"

#include <thread>

#include <spdlog/spdlog.h>

#include "apps/child_process.hpp"
#include "apps/common.hpp"
#include "backends/backend_server.hpp"
#include "backends/engine_worker.hpp"
#include "backends/media_store.hpp"
#include "backends/worker_pool.hpp"
#include "http/server.hpp"
#include "net/contact.hpp"

namespace sova::apps {

struct backend_options {
  std::string kind;  // tts | asr
  std::string listen;  // "": the SOVA service's own port on every address
  std::size_t workers = std::max(1u, std::thread::hardware_concurrency());
  std::size_t queue = 256;
  std::size_t max_body = 32 * 1024 * 1024;
  std::size_t http_threads = 1;
  double job_timeout_s = 300;
  double grace_period_s = 30;
  backends::media_store_limits media;
  std::string log_level = "info";
  backends::engine_worker_options engine;
};

namespace {

// Engine flags, shared by the backend (which passes them on) and its workers.
void add_engine_flags(CLI::App& cmd, backend_options& o) {
  cmd.add_option("--espeak-data", o.engine.espeak_data,
                 "tts: espeak-ng data directory (default: the system's)");
  cmd.add_option("--max-text", o.engine.max_text,
                 "tts: longest text accepted, bytes; longer gets response_code 1")
      ->capture_default_str()
      ->check(CLI::Range(1, 1 << 24));
  cmd.add_option("--hmm", o.engine.model.hmm, "asr: pocketsphinx acoustic model directory")
      ->capture_default_str();
  cmd.add_option("--lm", o.engine.model.lm, "asr: pocketsphinx language model")
      ->capture_default_str();
  cmd.add_option("--dict", o.engine.model.dict, "asr: pronunciation dictionary")
      ->capture_default_str();
}

std::vector<std::string> worker_command(const backend_options& o) {
  std::vector<std::string> argv{own_executable(), "backend-worker", o.engine.kind};
  if (!o.engine.espeak_data.empty()) argv.insert(argv.end(), {"--espeak-data", o.engine.espeak_data});
  argv.insert(argv.end(), {"--max-text", std::to_string(o.engine.max_text), "--hmm",
                           o.engine.model.hmm, "--lm", o.engine.model.lm, "--dict",
                           o.engine.model.dict, "--log-level", o.log_level});
  return argv;
}

int run_backend(const backend_options& o) {
  auto listen = o.listen.empty() ? (o.engine.kind == "tts" ? "0.0.0.0:8899" : "0.0.0.0:8888")
                                  : o.listen;
  auto at = net::parse_host_port(listen, true);
  if (!at) {
    spdlog::error("--listen {}: expected host:port", listen);
    return exit_usage;
  }
  stop_signals stop;  // before any thread starts
  std::unique_ptr<backends::media_store> media;
  try {
    media = std::make_unique<backends::media_store>(o.media);
  } catch (const std::exception& e) {
    spdlog::error("{} backend: no random source for the audio urls: {}", o.engine.kind, e.what());
    return exit_failed;
  }
  const char* engine = o.engine.kind == "tts" ? "espeak-ng" : "pocketsphinx";
  backends::worker_pool_options po;
  po.name = o.engine.kind;
  po.command = worker_command(o);
  po.workers = o.workers;
  po.max_queue = o.queue;
  po.job_timeout = std::chrono::milliseconds(static_cast<long>(o.job_timeout_s * 1000));
  spdlog::info("{} backend: loading {} in {} worker process(es)", o.engine.kind, engine, o.workers);
  std::unique_ptr<backends::worker_pool> pool;
  try {
    pool = backends::worker_pool::start(po);
  } catch (const std::exception& e) {
    spdlog::error("{} backend: the engine did not start: {}", o.engine.kind, e.what());
    return exit_failed;
  }
  backends::backend_service service(o.engine.kind, engine, *pool, *media);
  http::server_limits limits;
  limits.max_body = o.max_body;
  limits.threads = o.http_threads;
  std::shared_ptr<http::server> server;
  try {
    server = http::server::start(at->host, at->port, limits,
                                 [&service](http::request req, http::responder done) {
                                   service.handle(std::move(req), std::move(done));
                                 });
  } catch (const std::exception& e) {
    spdlog::error("{}", e.what());
    return exit_failed;
  }
  spdlog::info("{} backend ({}, {} worker process(es)) listening on {}:{}", o.engine.kind, engine,
               o.workers, at->host, server->port());
  spdlog::info("{} received: finishing the jobs taken, then stopping", stop.wait());
  // The pool first: new jobs are refused (503, so a node retries elsewhere), queued ones
  // are run for up to --grace-period (then failed with a reply), running ones finish and
  // hand their replies to the server, which is still up to write them; then the server
  // stops, finishing those replies first.
  pool->stop(std::chrono::milliseconds(static_cast<long>(o.grace_period_s * 1000)));
  server->stop(reply_write_grace);
  spdlog::info("{} backend stopped", o.engine.kind);
  return exit_ok;
}

}  // namespace

backend_commands add_backend_commands(CLI::App& app) {
  backend_commands c;
  c.options = std::make_shared<backend_options>();
  auto& o = *c.options;
  c.backend = app.add_subcommand(
      "backend", "Run a reference backend: SOVA TTS on espeak-ng or SOVA ASR on pocketsphinx");
  c.backend->add_option("kind", o.engine.kind, "tts or asr")
      ->required()
      ->check(CLI::IsMember({"tts", "asr"}));
  c.backend->add_option("--listen", o.listen,
                        "host:port of the HTTP API (port 0: any free port; default 0.0.0.0:8899 "
                        "for tts, 0.0.0.0:8888 for asr, the SOVA services' ports)");
  c.backend->add_option("--workers", o.workers,
                        "Engine worker processes, one engine each (default: the number of cores)")
      ->capture_default_str()
      ->check(CLI::Range(1, 256));
  c.backend->add_option("--queue", o.queue,
                        "Jobs that may wait for a worker; beyond, requests are answered 503")
      ->capture_default_str()
      ->check(CLI::Range(1, 1000000));
  c.backend->add_option("--max-body", o.max_body,
                        "Largest request body accepted, bytes (suffixes KiB, MiB); larger: 413")
      ->capture_default_str()
      ->transform(CLI::AsSizeValue(false));
  c.backend->add_option("--job-timeout", o.job_timeout_s,
                        "Seconds one job may take before its worker is killed and restarted")
      ->capture_default_str()
      ->check(CLI::Range(1.0, 86400.0));
  c.backend->add_option("--grace-period", o.grace_period_s,
                        "Seconds the jobs already queued get to start after SIGTERM/SIGINT (new "
                        "ones are answered 503; jobs not started by then fail, started ones finish)")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 86400.0));
  c.backend->add_option("--media-items", o.media.max_items,
                        "Results whose audio is kept for GET /media/<id>.wav (each reply's "
                        "response_audio_url); the oldest go first")
      ->capture_default_str()
      ->check(CLI::Range(0, 1000000));
  c.backend->add_option("--media-bytes", o.media.max_bytes,
                        "Most bytes of audio kept for GET /media/<id>.wav (suffixes KiB, MiB)")
      ->capture_default_str()
      ->transform(CLI::AsSizeValue(false));
  c.backend->add_option("--http-threads", o.http_threads, "Threads serving HTTP connections")
      ->capture_default_str()
      ->check(CLI::Range(1, 64));
  add_engine_flags(*c.backend, o);
  c.backend->add_option("--log-level", o.log_level, "Log level")
      ->capture_default_str()
      ->check(CLI::IsMember(log_levels()));

  // Started by the backend itself: frames on stdin/stdout, not for people.
  c.worker = app.add_subcommand("backend-worker", "");
  c.worker->group("");
  c.worker->add_option("kind", o.engine.kind)->required()->check(CLI::IsMember({"tts", "asr"}));
  add_engine_flags(*c.worker, o);
  c.worker->add_option("--log-level", o.log_level)->check(CLI::IsMember(log_levels()));
  return c;
}

int run_backend_commands(const backend_commands& c) {
  setup_logging(c.options->log_level);
  if (c.worker->parsed()) return backends::run_engine_worker(c.options->engine);
  return run_backend(*c.options);
}

}  // namespace sova::apps
