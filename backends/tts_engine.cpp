#include "backends/tts_engine.hpp"

#include <algorithm>
#include <cmath>
#include <exception>
#include <filesystem>
#include <mutex>
#include <set>
#include <stdexcept>
#include <string_view>

#include <espeak-ng/espeak_ng.h>
#include <espeak-ng/speak_lib.h>
#include <spdlog/fmt/fmt.h>

namespace sova::backends {

namespace {

namespace fs = std::filesystem;

// SOVA's voice names and the espeak-ng voices behind them. "+f3" is espeak's third female
// variant: its base pitch is about twice the plain (male) Russian voice's.
struct sova_voice {
  std::string_view name;
  std::string_view espeak;
};
constexpr sova_voice sova_table[] = {{"Natasha", "ru+f3"}, {"Ruslan", "ru"}};
constexpr const char* fallback_voice = "ru";  // loads in any espeak-ng install with Russian

// espeak-ng's globals are for one user at a time: at most one engine, and never a second
// one after the first has called espeak_ng_Terminate (see the header).
enum class slot { free, live, spent };
std::mutex slot_mutex;
slot engine_slot = slot::free;

void release_slot(slot next) {
  std::lock_guard<std::mutex> lock(slot_mutex);
  engine_slot = next;
}

/// Undoes a start that got as far as espeak_ng_Initialize.
[[noreturn]] void abandon_start(const std::string& message) {
  espeak_ng_Terminate();
  release_slot(slot::spent);
  throw std::runtime_error(message);
}

std::string status_message(espeak_ng_STATUS status) {
  char buf[256] = {};
  espeak_ng_GetStatusCodeMessage(status, buf, sizeof buf);
  return buf;
}

std::string ascii_lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

// A client's string made safe to quote in a message: printable ASCII, bounded length.
std::string quotable(std::string_view s) {
  constexpr std::size_t max_len = 64;
  std::string out;
  for (char c : s.substr(0, max_len)) out += (c >= ' ' && c <= '~') ? c : '?';
  if (s.size() > max_len) out += "...";
  return out;
}

// espeak reads ctrl-A as the start of an embedded command (volume, pitch, voice...) even
// with SSML off, and stops at NUL; every control character becomes a space, so the text
// reaches the synthesiser as words only. UTF-8 sequences are left as they are (their
// bytes are all >= 0x80); espeak's decoder replaces malformed ones.
std::string plain_text(std::string_view text) {
  std::string out(text);
  for (auto& c : out) {
    auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f) c = ' ';
  }
  return out;
}

bool blank(std::string_view text) {
  return text.find_first_not_of(' ') == std::string_view::npos;
}

// The callback espeak calls, synchronously inside espeak_ng_Synthesize, with each chunk.
struct collector {
  std::vector<std::int16_t>* samples = nullptr;
  bool failed = false;
};

int on_samples(short* wav, int count, espeak_EVENT* events) {
  auto* c = events ? static_cast<collector*>(events->user_data) : nullptr;
  if (!c) return 1;  // not one of our calls: stop it
  try {
    if (wav && count > 0) c->samples->insert(c->samples->end(), wav, wav + count);
    return 0;
  } catch (...) {  // out of memory: no exception may cross espeak's C frames
    c->failed = true;
    return 1;
  }
}

}  // namespace

struct tts_engine::impl {
  int sample_rate = 0;
  std::set<std::string> voice_keys;  ///< lowercased names/identifiers espeak accepts
  std::set<std::string> variants;    ///< file names in voices/!v, as spelled there
  std::mutex mutex;                  ///< espeak-ng is not reentrant

  void load_voice_lists(const std::string& data_dir);
  bool resolve_voice(const std::string& requested, std::string& espeak_name,
                     std::string& error) const;
  tts_result run(const tts_params& p);
};

// Names we accept are those espeak_ListVoices reports (languages, no variants, no MBROLA):
// espeak_ng_SetVoiceByName alone also "finds" directories, variant files and MBROLA voices
// (which spawn an mbrola process), answers OK for an unknown +variant, and copies the
// name into fixed-size buffers. Checking against these lists first avoids all of that.
void tts_engine::impl::load_voice_lists(const std::string& data_dir) {
  for (auto** v = espeak_ListVoices(nullptr); v && *v; ++v) {
    if ((*v)->name) voice_keys.insert(ascii_lower((*v)->name));
    if (const char* id = (*v)->identifier) {
      std::string_view ident(id);
      voice_keys.insert(ascii_lower(ident));
      if (auto slash = ident.rfind('/'); slash != std::string_view::npos)
        voice_keys.insert(ascii_lower(ident.substr(slash + 1)));  // "zle/ru" -> "ru"
    }
  }
  std::error_code ec;
  for (fs::directory_iterator it(fs::path(data_dir) / "voices" / "!v", ec), end;
       !ec && it != end; it.increment(ec))
    if (it->is_regular_file(ec)) variants.insert(it->path().filename().string());
}

bool tts_engine::impl::resolve_voice(const std::string& requested, std::string& espeak_name,
                                     std::string& error) const {
  for (const auto& v : sova_table)
    if (ascii_lower(requested) == ascii_lower(v.name)) {
      espeak_name = v.espeak;
      return true;
    }
  auto plus = requested.find('+');
  auto base = ascii_lower(requested.substr(0, plus));
  bool ok = voice_keys.count(base) > 0;
  if (ok && plus != std::string::npos) {
    // espeak reads "+<digits>" as a numbered variant: only named ones are accepted.
    auto variant = requested.substr(plus + 1);
    ok = !variant.empty() && !(variant[0] >= '0' && variant[0] <= '9') &&
         variants.count(variant) > 0;
  }
  if (!ok) {
    std::string known;
    for (const auto& v : sova_table) known += std::string(v.name) + ", ";
    error = "unknown voice \"" + quotable(requested) + "\"; known: " + known +
            "or an espeak-ng voice name such as en-us, ru (optionally +variant, e.g. ru+f2)";
    return false;
  }
  espeak_name = requested;
  return true;
}

tts_result tts_engine::impl::run(const tts_params& p) {
  tts_result r;
  r.sample_rate = sample_rate;
  auto fail = [&r](std::string message) {
    std::vector<std::int16_t>().swap(r.samples);  // no partial audio, and its memory back
    r.error = std::move(message);
    return std::move(r);
  };

  auto text = plain_text(p.text);
  if (blank(text)) return fail("text is empty");
  if (!std::isfinite(p.rate) || p.rate <= 0)
    return fail(fmt::format("rate must be a finite number > 0, got {}", p.rate));
  if (!std::isfinite(p.pitch) || p.pitch < 0)
    return fail(fmt::format("pitch must be a finite number >= 0, got {}", p.pitch));
  if (!std::isfinite(p.volume))
    return fail(fmt::format("volume must be a finite number of dB, got {}", p.volume));
  std::string voice, error;
  if (!resolve_voice(p.voice, voice, error)) return fail(error);

  // Clamped as doubles before rounding: a huge factor must not overflow the int.
  const auto rate = static_cast<int>(std::lround(std::clamp(
      espeakRATE_NORMAL * p.rate, double{espeakRATE_MINIMUM}, double{espeakRATE_MAXIMUM})));
  const auto pitch = static_cast<int>(std::lround(std::clamp(50 * p.pitch, 0.0, 100.0)));
  const auto volume = static_cast<int>(
      std::lround(std::clamp(100 * std::pow(10.0, p.volume / 20), 0.0, 200.0)));

  // Voice first, then every parameter, on each call: nothing survives from the last one.
  if (auto s = espeak_ng_SetVoiceByName(voice.c_str()); s != ENS_OK) {
    // A failed load can leave espeak half switched; put a known voice back.
    espeak_ng_SetVoiceByName(fallback_voice);
    return fail("voice \"" + quotable(p.voice) + "\" failed to load: " + status_message(s));
  }
  const std::pair<espeak_PARAMETER, int> params[] = {
      {espeakRATE, rate},          {espeakVOLUME, volume},  {espeakPITCH, pitch},
      {espeakRANGE, 50},           {espeakWORDGAP, 0},      {espeakCAPITALS, 0},
      {espeakPUNCTUATION, espeakPUNCT_NONE}};
  // 1.51 stores punctuation and capitals but answers EINVAL for them: check what it kept.
  for (auto [param, value] : params) {
    espeak_ng_SetParameter(param, value, 0);
    if (espeak_GetParameter(param, 1) != value)
      return fail(fmt::format("espeak-ng refused parameter {} = {}", static_cast<int>(param),
                              value));
  }

  collector c{&r.samples};
  // No espeakSSML, no espeakPHONEMES: the text is spoken, never interpreted.
  auto s = espeak_ng_Synthesize(text.c_str(), text.size() + 1, 0, POS_CHARACTER, 0,
                                espeakCHARS_UTF8, nullptr, &c);
  if (c.failed) return fail("out of memory while synthesising");
  if (s != ENS_OK) return fail("espeak-ng failed: " + status_message(s));
  r.ok = true;
  r.duration_s = static_cast<double>(r.samples.size()) / sample_rate;
  return r;
}

tts_engine::tts_engine(const std::string& data_path) {
  {
    std::lock_guard<std::mutex> lock(slot_mutex);
    if (engine_slot == slot::live)
      throw std::runtime_error("a tts_engine already exists in this process "
                               "(espeak-ng keeps its state in globals)");
    if (engine_slot == slot::spent)
      throw std::runtime_error("espeak-ng cannot start twice in one process "
                               "(1.51 hangs in a second espeak_ng_Terminate)");
    engine_slot = slot::live;
  }

  // espeak_ng_InitializePath silently falls back to the system data when the path is
  // wrong, so check it here, before anything in espeak-ng has run.
  std::string expected_dir;
  if (!data_path.empty()) {
    std::error_code ec;
    expected_dir = fs::is_directory(fs::path(data_path) / "espeak-ng-data", ec)
                       ? data_path + "/espeak-ng-data"
                       : data_path;
    if (!fs::is_regular_file(fs::path(expected_dir) / "phontab", ec)) {
      release_slot(slot::free);
      throw std::runtime_error("no espeak-ng data (phontab) in \"" + data_path + "\"");
    }
  }

  espeak_ng_InitializePath(data_path.empty() ? nullptr : data_path.c_str());
  espeak_ng_ERROR_CONTEXT context = nullptr;
  auto status = espeak_ng_Initialize(&context);
  espeak_ng_ClearErrorContext(&context);
  if (status != ENS_OK) {
    // Half-initialised globals: unsafe to terminate or to try again.
    release_slot(slot::spent);
    throw std::runtime_error("espeak-ng failed to start: " + status_message(status));
  }
  status = espeak_ng_InitializeOutput(ENOUTPUT_MODE_SYNCHRONOUS, 0, nullptr);
  if (status != ENS_OK)
    abandon_start("espeak-ng output failed to start: " + status_message(status));
  const char* used_dir = nullptr;
  espeak_Info(&used_dir);
  if (!expected_dir.empty() && (!used_dir || expected_dir != used_dir))
    abandon_start("espeak-ng did not take its data from \"" + data_path + "\"");

  try {
    impl_ = std::make_unique<impl>();
    impl_->sample_rate = espeak_ng_GetSampleRate();
    impl_->load_voice_lists(used_dir ? used_dir : "");
  } catch (const std::exception& e) {
    abandon_start(std::string("espeak-ng voices failed to load: ") + e.what());
  }
  if (impl_->sample_rate <= 0) abandon_start("espeak-ng reports no sample rate");
  espeak_SetSynthCallback(on_samples);
}

tts_engine::~tts_engine() {
  espeak_ng_Terminate();
  release_slot(slot::spent);
}

tts_result tts_engine::synthesize(const tts_params& p) {
  try {
    std::lock_guard<std::mutex> lock(impl_->mutex);
    return impl_->run(p);
  } catch (const std::exception& e) {
    tts_result r;
    r.error = std::string("synthesis failed: ") + e.what();
    return r;
  } catch (...) {
    tts_result r;
    r.error = "synthesis failed";
    return r;
  }
}

const std::vector<std::string>& tts_engine::sova_voices() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> out;
    for (const auto& v : sova_table) out.emplace_back(v.name);
    return out;
  }();
  return names;
}

}  // namespace sova::backends
