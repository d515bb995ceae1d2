#include "backends/engine_worker.hpp"

#include <chrono>
#include <exception>
#include <memory>

#include <unistd.h>

#include <spdlog/spdlog.h>

#include "backends/audio_decode.hpp"
#include "backends/frames.hpp"
#include "backends/sova_api.hpp"
#include "backends/tts_engine.hpp"

namespace sova::backends {
namespace {

using clock = std::chrono::steady_clock;

double seconds_since(clock::time_point t0) {
  return std::chrono::duration<double>(clock::now() - t0).count();
}

std::string synthesize(tts_engine& engine, const std::string& body, std::size_t max_text) {
  tts_params p;
  std::string error;
  if (!parse_tts_request(body, p, error)) return tts_error_reply(error);
  // The reply grows with the text (WAV, then base64): bound it before the engine runs.
  if (p.text.size() > max_text)
    return tts_error_reply("the text is too long: " + std::to_string(p.text.size()) +
                           " bytes, at most " + std::to_string(max_text));
  auto t0 = clock::now();
  auto r = engine.synthesize(p);
  if (!r.ok) return tts_error_reply(r.error);
  return tts_reply(p.voice, r, seconds_since(t0));
}

std::string recognize(asr_engine& engine, const std::string& file) {
  auto t0 = clock::now();
  auto audio = decode_audio(file, asr_engine::sample_rate);
  if (!audio.ok) return asr_error_element(audio.error);
  auto r = engine.recognize(audio.samples);
  return asr_element(r, seconds_since(t0));
}

}  // namespace

int run_engine_worker(const engine_worker_options& opts) {
  // The frames own the real stdout; anything a library prints goes to stderr (the log).
  int in = ::dup(0), out = ::dup(1);
  ::dup2(2, 1);
  std::unique_ptr<tts_engine> tts;
  std::unique_ptr<asr_engine> asr;
  try {
    if (opts.kind == "tts")
      tts = std::make_unique<tts_engine>(opts.espeak_data);
    else if (opts.kind == "asr")
      asr = std::make_unique<asr_engine>(opts.model);
    else
      throw std::runtime_error("unknown engine kind \"" + opts.kind + "\"");
  } catch (const std::exception& e) {
    write_frame(out, frame_tag::error, e.what());
    return 1;
  }
  if (!write_frame(out, frame_tag::ready, "")) return 1;
  for (;;) {
    frame job;
    auto s = read_frame(in, job, clock::time_point::max(), 1ull << 32);
    if (s == read_status::closed) return 0;  // the backend is done with us
    if (s != read_status::ok || job.tag != frame_tag::job) {
      spdlog::error("{} worker: broken job stream ({})", opts.kind, to_string(s));
      return 1;
    }
    auto reply = tts ? synthesize(*tts, job.payload, opts.max_text) : recognize(*asr, job.payload);
    if (!write_frame(out, frame_tag::ok, reply)) return 1;
  }
}

}  // namespace sova::backends
