#pragma once
// The engine worker process (`sova-dc backend-worker tts|asr`): loads one engine, says
// it is ready, then answers jobs read from stdin with frames on stdout until stdin ends.
//   tts job: the request's JSON body -> the complete SOVA TTS reply (JSON)
//   asr job: one audio file's bytes   -> one element of SOVA ASR's "r" array (JSON)

#include <string>

#include "backends/asr_engine.hpp"

namespace sova::backends {

struct engine_worker_options {
  std::string kind;         ///< "tts" or "asr"
  std::string espeak_data;  ///< tts: espeak-ng data directory ("" = the system's)
  asr_model model;          ///< asr: pocketsphinx model files
  std::size_t max_text = 10000;  ///< tts: longest text, bytes (~10 min of speech, ~26 MB of WAV)
};

/// Runs the worker loop on stdin/stdout; returns the process exit status.
int run_engine_worker(const engine_worker_options& opts);

}  // namespace sova::backends
