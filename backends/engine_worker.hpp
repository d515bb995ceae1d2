#pragma once
// The engine worker process (`sova-dc backend-worker tts|asr`): loads one engine, says
// it is ready, then answers jobs read from stdin with frames on stdout until stdin ends.
//   tts job: the request's JSON body -> the complete SOVA TTS reply (JSON) and its WAV
//   asr job: one audio file's bytes   -> one element of SOVA ASR's "r" array (JSON) and
//                                        the audio recognised, as a 16 kHz mono WAV
// Each job also names the path the backend will serve its audio under
// (`response_audio_url`); the backend keeps the audio of the answer (media_store).

#include <optional>
#include <string>
#include <string_view>

#include "backends/asr_engine.hpp"

namespace sova::backends {

struct engine_worker_options {
  std::string kind;         ///< "tts" or "asr"
  std::string espeak_data;  ///< tts: espeak-ng data directory ("" = the system's)
  asr_model model;          ///< asr: pocketsphinx model files
  std::size_t max_text = 10000;  ///< tts: longest text, bytes (~10 min of speech, ~26 MB of WAV)
};

/// A job's payload: `audio_url`, "\n", then `input` (TTS: the request body; ASR: a file).
std::string make_engine_job(std::string_view audio_url, std::string_view input);
/// Splits a job made by make_engine_job; false when it has no "\n".
bool split_engine_job(std::string_view job, std::string_view& audio_url, std::string_view& input);

/// An answer's payload: the reply's length in decimal, "\n", the reply (JSON), then the
/// audio to serve under the job's path; no audio when there is none (a failure).
std::string make_engine_answer(std::string_view reply, std::string_view audio);
struct engine_answer {
  std::string reply;
  std::string audio;
};
/// Splits an answer made by make_engine_answer; nothing when it is not one.
std::optional<engine_answer> split_engine_answer(std::string payload);

/// Runs the worker loop on stdin/stdout; returns the process exit status.
int run_engine_worker(const engine_worker_options& opts);

}  // namespace sova::backends
