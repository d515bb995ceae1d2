#pragma once
// `sova-dc backend tts|asr`: a reference backend speaking SOVA TTS's or SOVA ASR's HTTP
// API on espeak-ng or pocketsphinx, with a pool of engine worker processes; and the
// hidden `sova-dc backend-worker tts|asr` those workers run.

#include <memory>

#include <CLI/CLI.hpp>

namespace sova::apps {

struct backend_options;  // defined in backend_command.cpp

struct backend_commands {
  CLI::App* backend = nullptr;
  CLI::App* worker = nullptr;
  std::shared_ptr<backend_options> options;
};

backend_commands add_backend_commands(CLI::App& app);
/// Runs whichever of the two was parsed; the exit status.
int run_backend_commands(const backend_commands& cmds);

}  // namespace sova::apps
