#pragma once
// The HTTP side of a reference backend: SOVA ASR's `POST /asr` or SOVA TTS's
// `POST /synthesize/` (shared/API.md) on top of a worker pool, plus `GET /healthz`,
// `GET /status` (workers, busy, queue length, counters) and `GET /media/<id>.wav`, the
// audio behind the replies' `response_audio_url`s while the media store keeps it. Runs
// on the server's io threads and never blocks them: engine work is queued to the pool,
// replies come back from its dispatcher threads.

#include <string>

#include "backends/media_store.hpp"
#include "backends/worker_pool.hpp"
#include "http/server.hpp"

namespace sova::backends {

class backend_service {
public:
  /// `kind` is "asr" or "tts"; `engine` names the engine in /status ("pocketsphinx").
  /// The pool's workers are `sova-dc backend-worker` processes (engine_worker.hpp); the
  /// audio of their answers goes to `media`.
  backend_service(std::string kind, std::string engine, worker_pool& pool, media_store& media);
  /// Every answer carries `Sova-Workers: <workers>`: the jobs this backend runs at once,
  /// which the node owning it reads from its probes (a real SOVA server runs one).
  void handle(http::request req, http::responder done);

private:
  void synthesize(const std::string& target, std::string body, http::responder done);
  void recognize(const http::request& req, http::responder done);
  /// An engine's answer to the job whose audio goes under `media_id`: the reply JSON in
  /// the payload, the audio kept; a failure when the answer is malformed.
  job_reply take_answer(const std::string& media_id, job_reply r);
  http::response media(const std::string& method, const std::string& target) const;
  http::response status() const;
  http::response busy() const;

  std::string kind_;
  std::string engine_;
  worker_pool& pool_;
  media_store& media_;
  std::string workers_;  // the pool's worker count, as the header says it
};

}  // namespace sova::backends
