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
#include "backends/wav.hpp"

namespace sova::backends {
namespace {

using clock = std::chrono::steady_clock;

double seconds_since(clock::time_point t0) {
  return std::chrono::duration<double>(clock::now() - t0).count();
}

std::string synthesize(tts_engine& engine, std::string_view audio_url, std::string_view body,
                       std::size_t max_text) {
  tts_params p;
  std::string error;
  if (!parse_tts_request(body, p, error)) return make_engine_answer(tts_error_reply(error), "");
  // The reply grows with the text (WAV, then base64): bound it before the engine runs.
  if (p.text.size() > max_text)
    return make_engine_answer(tts_error_reply("the text is too long: " +
                                              std::to_string(p.text.size()) + " bytes, at most " +
                                              std::to_string(max_text)),
                              "");
  auto t0 = clock::now();
  auto r = engine.synthesize(p);
  if (!r.ok) return make_engine_answer(tts_error_reply(r.error), "");
  auto wav = encode_wav(r.samples, r.sample_rate);
  return make_engine_answer(tts_reply(p.voice, r, seconds_since(t0), audio_url, wav), wav);
}

std::string recognize(asr_engine& engine, std::string_view audio_url, std::string_view file) {
  auto t0 = clock::now();
  auto audio = decode_audio(file, asr_engine::sample_rate);
  if (!audio.ok) return make_engine_answer(asr_error_element(audio.error), "");
  auto r = engine.recognize(audio.samples);
  if (!r.ok) return make_engine_answer(asr_error_element(r.error), "");
  return make_engine_answer(asr_element(r, seconds_since(t0), audio_url),
                            encode_wav(audio.samples, asr_engine::sample_rate));
}

}  // namespace

std::string make_engine_job(std::string_view audio_url, std::string_view input) {
  std::string job;
  job.reserve(audio_url.size() + 1 + input.size());
  job.append(audio_url).append(1, '\n').append(input);
  return job;
}

bool split_engine_job(std::string_view job, std::string_view& audio_url, std::string_view& input) {
  auto nl = job.find('\n');
  if (nl == std::string_view::npos) return false;
  audio_url = job.substr(0, nl);
  input = job.substr(nl + 1);
  return true;
}

std::string make_engine_answer(std::string_view reply, std::string_view audio) {
  auto length = std::to_string(reply.size());
  std::string answer;
  answer.reserve(length.size() + 1 + reply.size() + audio.size());
  answer.append(length).append(1, '\n').append(reply).append(audio);
  return answer;
}

std::optional<engine_answer> split_engine_answer(std::string payload) {
  std::size_t i = 0, length = 0;
  constexpr std::size_t max_digits = 12;  // a reply below 1 TB: no overflow
  for (; i < payload.size() && i < max_digits && payload[i] >= '0' && payload[i] <= '9'; ++i)
    length = length * 10 + static_cast<std::size_t>(payload[i] - '0');
  if (i == 0 || i >= payload.size() || payload[i] != '\n' || payload.size() - i - 1 < length)
    return std::nullopt;
  engine_answer out;
  out.audio = payload.substr(i + 1 + length);
  payload.resize(i + 1 + length);
  payload.erase(0, i + 1);
  out.reply = std::move(payload);
  return out;
}

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
    std::string_view audio_url, input;
    if (!split_engine_job(job.payload, audio_url, input)) {
      spdlog::error("{} worker: a job without its audio path", opts.kind);
      return 1;
    }
    auto answer =
        tts ? synthesize(*tts, audio_url, input, opts.max_text) : recognize(*asr, audio_url, input);
    if (!write_frame(out, frame_tag::ok, answer)) return 1;
  }
}

}  // namespace sova::backends
