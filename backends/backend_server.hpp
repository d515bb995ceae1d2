#pragma once
// The HTTP side of a reference backend: SOVA ASR's `POST /asr` or SOVA TTS's
// `POST /synthesize/` (shared/API.md) on top of a worker pool, plus `GET /healthz` and
// `GET /status` (workers, busy, queue length, counters). Runs on the server's io threads
// and never blocks them: engine work is queued to the pool, replies come back from its
// dispatcher threads.

#include <string>

#include "backends/worker_pool.hpp"
#include "http/server.hpp"

namespace sova::backends {

class backend_service {
public:
  /// `kind` is "asr" or "tts"; `engine` names the engine in /status ("pocketsphinx").
  backend_service(std::string kind, std::string engine, worker_pool& pool);
  void handle(http::request req, http::responder done);

private:
  void synthesize(const std::string& target, std::string body, http::responder done);
  void recognize(const http::request& req, http::responder done);
  http::response status() const;
  http::response busy() const;

  std::string kind_;
  std::string engine_;
  worker_pool& pool_;
};

}  // namespace sova::backends
