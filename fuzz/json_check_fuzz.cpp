// json_check's scanner against nlohmann's parser, which it promises to agree with
// (json_check.hpp): the same yes/no, the same root type, the same types of the root
// object's members. The TTS body check built on both (routes.cpp, with numeric_text's
// python_float for numeric strings) must never accept what is not a JSON object.
//
// Input: the text.

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "fuzz/check.hpp"
#include "http/json_check.hpp"
#include "http/numeric_text.hpp"
#include "http/routes.hpp"

namespace {

using namespace sova::http;
using json = nlohmann::json;

json_type type_of(const json& j) {
  switch (j.type()) {
    case json::value_t::null: return json_type::null;
    case json::value_t::boolean: return json_type::boolean;
    case json::value_t::string: return json_type::string;
    case json::value_t::object: return json_type::object;
    case json::value_t::array: return json_type::array;
    default: return json_type::number;
  }
}

/// The root type and members told by is_json agree with nlohmann's document.
void check_types(std::string_view text, json_type root,
                 const std::map<std::string, json_type>& last_of_key) {
  auto doc = json::parse(text.begin(), text.end(), nullptr, false);
  FUZZ_CHECK(!doc.is_discarded());
  FUZZ_CHECK(type_of(doc) == root);
  // A DOM keeps the last of duplicate keys, as the member order tells them.
  for (const auto& [key, type] : last_of_key) {
    auto it = doc.find(key);
    FUZZ_CHECK(it != doc.end());
    FUZZ_CHECK(type_of(*it) == type);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  bool ours = is_json(text);
  bool has_nul = text.find('\0') != std::string_view::npos;
  // nlohmann stops at a NUL (end of a C string); json_check calls it garbage.
  FUZZ_CHECK(ours == (!has_nul && json::accept(text.begin(), text.end())));

  json_type root = json_type::null;
  std::map<std::string, json_type> last_of_key;  // keys without escapes only
  bool told = is_json(text, root, [&](const json_member& m) {
    if (m.raw_key.find('\\') == std::string_view::npos) last_of_key[std::string(m.raw_key)] = m.type;
  });
  FUZZ_CHECK(told == ours);
  if (ours) check_types(text, root, last_of_key);

  for (bool voice_required : {true, false}) {
    auto refused = check_tts_body(text, voice_required);
    if (!refused) FUZZ_CHECK(ours && root == json_type::object);
    if (refused) FUZZ_CHECK(refused->status == 400);
  }
  if (size <= 64) python_float(text);  // the numeric strings of rate, pitch, volume
  return 0;
}
