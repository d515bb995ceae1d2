#include "backends/backend_server.hpp"

#include <mutex>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "backends/engine_worker.hpp"
#include "backends/sova_api.hpp"
#include "http/multipart.hpp"
#include "http/routes.hpp"

namespace sova::backends {
namespace {

using json = nlohmann::ordered_json;

http::response json_response(std::string body, unsigned status = 200) {
  http::response r;
  r.status = status;
  r.body = std::move(body);
  return r;
}

http::response engine_failed(const std::string& why) {
  return http::error_response(500, "engine_failed", why);
}

// Where the audio kept under a media id is served.
constexpr std::string_view media_prefix = "/media/";
constexpr std::string_view media_suffix = ".wav";

std::string media_url(const std::string& id) {
  return std::string(media_prefix) + id + std::string(media_suffix);
}

bool ends_with(std::string_view s, std::string_view end) {
  return s.size() >= end.size() && s.substr(s.size() - end.size()) == end;
}

// The replies of one ASR request, one per recording, answered when the last one is in.
struct asr_gather {
  std::mutex mu;
  std::vector<std::string> elements;
  std::size_t missing;
  std::string failure;  // the first engine failure
  bool refused = false; // some recording found the queue full
  http::responder done;
  asr_gather(std::size_t n, http::responder d) : elements(n), missing(n), done(std::move(d)) {}
};

}  // namespace

backend_service::backend_service(std::string kind, std::string engine, worker_pool& pool,
                                 media_store& media)
    : kind_(std::move(kind)),
      engine_(std::move(engine)),
      pool_(pool),
      media_(media),
      workers_(std::to_string(pool.stats().workers)) {}

void backend_service::handle(http::request req, http::responder next) {
  http::responder done = [next = std::move(next), workers = workers_](http::response r) {
    r.headers.emplace_back("Sova-Workers", workers);
    next(std::move(r));
  };
  if (std::string_view(req.target).substr(0, media_prefix.size()) == media_prefix)
    return done(media(req.method, req.target));
  http::response error;
  auto route = http::match_route(req.method, req.target, &error);
  if (!route) return done(std::move(error));
  switch (route->kind) {
    case http::route_kind::healthz:
      return done(json_response(R"({"status":"ok"})"));
    case http::route_kind::status:
      return done(status());
    case http::route_kind::tts:
      if (kind_ != "tts") break;
      return synthesize(req.target, std::move(req.body), std::move(done));
    case http::route_kind::asr:
      if (kind_ != "asr") break;
      return recognize(req, std::move(done));
    case http::route_kind::metrics:
    case http::route_kind::page:
    case http::route_kind::openai_transcriptions:
    case http::route_kind::openai_speech:
    case http::route_kind::openai_models:
    case http::route_kind::reserve:
    case http::route_kind::cancel_reservation:
      break;  // a node's routes; backends have none
  }
  done(http::error_response(404, "not_found",
                            kind_ == "tts" ? "this is a TTS backend: POST /synthesize/"
                                           : "this is an ASR backend: POST /asr"));
}

void backend_service::synthesize(const std::string& target, std::string body,
                                 http::responder done) {
  // SOVA TTS serves /synthesize/ and redirects the bare path; clients follow.
  auto path = target.substr(0, target.find('?'));
  if (path == "/synthesize") {
    http::response r;
    r.status = 308;
    r.headers.emplace_back("Location", "/synthesize/" + target.substr(path.size()));
    r.body = R"({"detail":"use /synthesize/"})";
    return done(std::move(r));
  }
  if (auto bad = http::check_tts_body(body, false)) return done(std::move(*bad));  // voice: Natasha
  auto id = media_.new_id();
  auto shared_done = std::make_shared<http::responder>(std::move(done));
  bool queued = pool_.submit(make_engine_job(media_url(id), body),
                             [this, shared_done, id](job_reply r) {
                               r = take_answer(id, std::move(r));
                               (*shared_done)(r.ok ? json_response(std::move(r.payload))
                                                   : engine_failed(r.payload));
                             });
  if (!queued) (*shared_done)(busy());
}

void backend_service::recognize(const http::request& req, http::responder done) {
  auto boundary = http::multipart_boundary(req.header("content-type"));
  if (!boundary)
    return done(http::error_response(400, "bad_request", "the body must be multipart/form-data"));
  std::string why;
  auto parts = http::parse_multipart(req.body, *boundary, &why);
  if (!parts) return done(http::error_response(400, "bad_request", "bad multipart form: " + why));
  std::vector<std::string> files;
  for (auto& p : *parts)
    if (p.name.rfind("audio_blob", 0) == 0) files.push_back(std::move(p.data));
  // An empty form is SOVA ASR's liveness probe: answered at once, no engine involved.
  if (files.empty()) return done(json_response(asr_reply({})));
  auto gather = std::make_shared<asr_gather>(files.size(), std::move(done));
  auto finish_one = [this, gather](std::size_t i, job_reply r, bool refused) {
    std::lock_guard<std::mutex> lock(gather->mu);
    if (refused)
      gather->refused = true;
    else if (r.ok)
      gather->elements[i] = std::move(r.payload);
    else if (gather->failure.empty())
      gather->failure = std::move(r.payload);
    if (--gather->missing > 0) return;
    if (!gather->failure.empty())
      gather->done(engine_failed(gather->failure));
    else if (gather->refused)
      gather->done(busy());
    else
      gather->done(json_response(asr_reply(gather->elements)));
  };
  for (std::size_t i = 0; i < files.size(); ++i) {
    auto id = media_.new_id();
    auto job = make_engine_job(media_url(id), files[i]);
    files[i] = std::string();  // the job holds the bytes now
    bool queued = pool_.submit(std::move(job), [this, finish_one, i, id](job_reply r) {
      finish_one(i, take_answer(id, std::move(r)), false);
    });
    if (!queued) finish_one(i, {}, true);
  }
}

job_reply backend_service::take_answer(const std::string& media_id, job_reply r) {
  if (!r.ok) return r;
  auto answer = split_engine_answer(std::move(r.payload));
  if (!answer) return {false, "the " + kind_ + " engine's answer is malformed"};
  if (!answer->audio.empty()) media_.put(media_id, std::move(answer->audio));
  return {true, std::move(answer->reply)};
}

http::response backend_service::media(const std::string& method, const std::string& target) const {
  if (method != "GET" && method != "HEAD") {
    auto r = http::error_response(405, "method_not_allowed",
                                  "the audio under /media/ is read with GET or HEAD");
    r.headers.emplace_back("Allow", "GET, HEAD");
    return r;
  }
  auto path = std::string_view(target).substr(0, target.find('?'));
  media_store::audio audio;
  if (ends_with(path, media_suffix)) {
    auto id = path.substr(media_prefix.size(),
                          path.size() - media_prefix.size() - media_suffix.size());
    audio = media_.get(std::string(id));
  }
  if (!audio) {
    const auto& l = media_.limits();
    return http::error_response(
        404, "not_found",
        "no such audio: unknown, or evicted (this backend keeps the audio of its last " +
            std::to_string(l.max_items) + " results, at most " + std::to_string(l.max_bytes) +
            " bytes in all)");
  }
  http::response r;
  r.content_type = "audio/wav";
  r.body = *audio;
  return r;
}

http::response backend_service::status() const {
  auto s = pool_.stats();
  json j = {{"service", kind_},   {"engine", engine_},      {"workers", s.workers},
            {"busy", s.busy},     {"queue", s.queued},      {"served", s.served},
            {"failed", s.failed}, {"rejected", s.rejected}, {"restarts", s.restarts}};
  return json_response(j.dump());
}

http::response backend_service::busy() const {
  if (pool_.stopping())  // a node retries elsewhere at once
    return http::error_response(503, "shutting_down",
                                "this " + kind_ + " backend is shutting down; try another one");
  auto s = pool_.stats();
  auto r = http::error_response(503, "busy",
                                "all " + std::to_string(s.workers) + " " + kind_ +
                                    " workers are busy and the queue is full; try again later");
  r.headers.emplace_back("Retry-After", "1");
  return r;
}

}  // namespace sova::backends
