// is_json decides as nlohmann::json::accept does: hand-picked edge cases, then thousands
// of generated values, valid and mutated, compared with nlohmann on every one.
#define CAF_SUITE json_check
#include <caf/test/unit_test.hpp>

#include <map>
#include <random>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "http/json_check.hpp"

using sova::http::is_json;
using sova::http::json_member;
using sova::http::json_type;

namespace {

/// nlohmann's answer, except that it takes a NUL byte where a token starts for the end
/// of the input ("[1]\0junk" passes); is_json calls that garbage.
bool nlohmann_accepts(const std::string& s) {
  return nlohmann::json::accept(s) && s.find('\0') == std::string::npos;
}

json_type type_of(const nlohmann::json& j) {
  if (j.is_object()) return json_type::object;
  if (j.is_array()) return json_type::array;
  if (j.is_string()) return json_type::string;
  if (j.is_boolean()) return json_type::boolean;
  if (j.is_null()) return json_type::null;
  return json_type::number;
}

/// What the member-telling is_json says of `text`: its answer, the root's type and the
/// root object's members (the last of a duplicate key), or why it disagrees with nlohmann.
std::string member_disagreement(const std::string& text) {
  json_type root = json_type::null;
  std::map<std::string, json_type> told;
  bool escaped_key = false;
  bool ok = is_json(text, root, [&](const json_member& m) {
    escaped_key = escaped_key || m.raw_key.find('\\') != std::string_view::npos;
    told[std::string(m.raw_key)] = m.type;
  });
  if (ok != nlohmann_accepts(text)) return "a different answer";
  if (!ok) return "";
  auto parsed = nlohmann::json::parse(text);
  if (root != type_of(parsed)) return "a different root type";
  if (!parsed.is_object()) return told.empty() ? "" : "members of a root that is no object";
  if (escaped_key) return "";  // raw keys are not decoded: only compared when plain
  std::map<std::string, json_type> theirs;
  for (auto it = parsed.begin(); it != parsed.end(); ++it) theirs[it.key()] = type_of(it.value());
  return told == theirs ? "" : "different members";
}

/// For messages: bytes outside printable ASCII as \xHH.
std::string escaped(const std::string& s) {
  static const char* hex = "0123456789abcdef";
  std::string out;
  for (unsigned char c : s) {
    if (c >= 0x20 && c < 0x7f) {
      out += static_cast<char>(c);
    } else {
      out += "\\x";
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

/// A random JSON text: nested containers, strings with escapes and UTF-8, numbers of
/// every shape (some too large for a double).
class generator {
public:
  explicit generator(std::uint64_t seed) : rng_(seed) {}

  std::string value(int depth) {
    switch (pick(depth > 0 ? 8 : 5)) {
      case 0: return pick(2) ? "true" : pick(2) ? "false" : "null";
      case 1: return number();
      case 2:
      case 3: return string();
      case 4: return pick(2) ? "[]" : "{}";
      case 5:
      case 6: {
        std::string out = "[";
        for (int i = 0, n = pick(4) + 1; i < n; ++i) out += (i ? "," : "") + space() + value(depth - 1) + space();
        return out + "]";
      }
      default: {
        std::string out = "{";
        for (int i = 0, n = pick(4) + 1; i < n; ++i)
          out += (i ? "," : "") + space() + string() + space() + ":" + space() + value(depth - 1);
        return out + "}";
      }
    }
  }

  /// Deletes, inserts, replaces or cuts a few bytes.
  std::string mutate(std::string s) {
    static const std::string palette = std::string("{}[]\",:\\ \t\r\nutfnrle0123456789-+.eEx/ab") +
                                       std::string("\0\x01\x1f\x7f\xc0\xc2\xa9\xe0\xed\xa0\x80\xbf\xf0\xf4\x90\xef\xbb\xff", 18);
    for (int i = 0, n = pick(3) + 1; i < n; ++i) {
      auto at = s.empty() ? 0 : static_cast<std::size_t>(pick(static_cast<int>(s.size())));
      char c = palette[static_cast<std::size_t>(pick(static_cast<int>(palette.size())))];
      switch (pick(4)) {
        case 0: if (!s.empty()) s.erase(at, 1); break;
        case 1: s.insert(at, 1, c); break;
        case 2: if (!s.empty()) s[at] = c; break;
        default: s.resize(at);
      }
    }
    return s;
  }

private:
  int pick(int n) { return std::uniform_int_distribution<int>(0, n - 1)(rng_); }

  std::string space() {
    static const char* spaces[] = {"", "", "", " ", "\n", "\t", "\r\n  "};
    return spaces[pick(7)];
  }

  std::string digits(int max) {
    std::string out;
    for (int i = 0, n = pick(max) + 1; i < n; ++i) out += static_cast<char>('0' + pick(10));
    return out;
  }

  std::string number() {
    std::string out = pick(3) ? "" : "-";
    out += pick(4) ? digits(pick(5) ? 6 : 30) : "0";
    if (!pick(3)) out += "." + digits(8);
    if (!pick(3)) out += std::string(pick(2) ? "e" : "E") + (pick(2) ? "" : pick(2) ? "+" : "-") + digits(pick(4) ? 2 : 4);
    return out;
  }

  std::string string() {
    static const char* pieces[] = {"a", "Zm9vYmFy", " ", "\\\"", "\\\\", "\\/", "\\n", "\\t",
                                   "\\u00e9", "\\uD83D\\uDE00", "é", "日本", "😀", "\\b", "\\f", "\\r"};
    std::string out = "\"";
    for (int i = 0, n = pick(6); i < n; ++i) out += pieces[pick(16)];
    return out + "\"";
  }

  std::mt19937_64 rng_;
};

}  // namespace

CAF_TEST(sova_replies_and_plain_values_are_json) {
  for (const char* ok : {R"({"response": [{"response_audio": "UklGRg==", "response_code": 0}]})",
                         "0", "-0", "1.5e-3", "-12E+7", "\"\"", "true", "null", "[]", "{}",
                         " \t\r\n[1, [2, {\"a\": [3]}]] \n", "\xEF\xBB\xBF{}", "\"\xF4\x8F\xBF\xBF\"",
                         "\"\\uD834\\uDD1E\"", "1e308", "123456789012345678901234",
                         "1.7976931348623157e308", "0.1e309", "0e999999999999", "1e-400",
                         "-5e-99999999999", "100000e303"}) {
    CAF_CHECK(is_json(ok));
    CAF_CHECK(nlohmann_accepts(ok));
  }
}

CAF_TEST(garbage_truncation_and_what_rfc_8259_forbids_are_not) {
  for (const std::string& bad : std::vector<std::string>{"", " ", "\xEF\xBB\xBF", "<html>502</html>", "{\"a\": 1", "[1, 2,]",
                          "{\"a\" 1}", "{'a': 1}", "01", "1.", ".5", "+1", "-", "1e", "1e+",
                          "NaN", "Infinity", "tru", "nulll", "[1] [2]", "\"a\nb\"", "\"\\x\"",
                          "\"\\u12\"", "\"\\uDC00\"", "\"\\uD800\"", "\"\\uD800\\u0041\"",
                          "\"\xC0\x80\"", "\"\xED\xA0\x80\"", "\"\xF4\x90\x80\x80\"", "\"\xFF\"",
                          "\"\xE6\x97\"", "1e400", "-1e400", std::string(400, '9'), "1.8e308", "10e308", "1000000e303",
                          std::string("\"a\0b\"", 5), std::string("[1]\0", 4)}) {
    CAF_CHECK(!is_json(bad));
    CAF_CHECK(!nlohmann_accepts(bad));
  }
}

CAF_TEST(deep_nesting_and_long_strings_need_no_stack) {
  std::string deep = std::string(200000, '[') + std::string(200000, ']');
  CAF_CHECK(is_json(deep));
  CAF_CHECK(!is_json(deep.substr(0, deep.size() - 1)));
  std::string audio = "{\"response_audio\": \"" + std::string(4 << 20, 'A') + "\"}";
  CAF_CHECK(is_json(audio));
}

// Long strings are skimmed 16 bytes at a time: whatever must stop the skim (the closing
// quote, an escape, a control character, UTF-8, a byte that is never UTF-8) is put at
// every offset of the first blocks and in the bytewise tail, and each text is decided as
// nlohmann decides it.
CAF_TEST(long_strings_stop_at_what_needs_a_look_wherever_it_is) {
  const std::vector<std::string> inserts = {"\"", "\\\"", "\\u00e9", "\\x", "\n", "\x1f",
                                            "\xc3\xa9", "\xe2\x82\xac", "\xf0\x9f\x8e\xa4",
                                            "\xc3", "\xff", "\x80", "\x7f"};
  std::string base64 = "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNkZWZnaGlqa2xtbm9w+/=";
  for (std::size_t at = 0; at <= base64.size(); ++at)
    for (const auto& insert : inserts) {
      auto text = "{\"a\": \"" + base64.substr(0, at) + insert + base64.substr(at) + "\"}";
      bool ours = is_json(text), theirs = nlohmann_accepts(text);
      if (ours != theirs) CAF_FAIL("differs at " << at << " for " << nlohmann::json(insert).dump());
      CAF_CHECK(ours == theirs);
    }
}

CAF_TEST(agrees_with_nlohmann_on_generated_values_and_their_mutations) {
  generator gen(20261124);
  int valid = 0, mutated = 0, disagreements = 0, mutated_json = 0, objects = 0;
  for (int i = 0; i < 20000; ++i) {
    auto text = gen.value(4);
    if (i % 2) {
      text = gen.mutate(text);
      ++mutated;
    } else {
      ++valid;
    }
    bool ours = is_json(text), theirs = nlohmann_accepts(text);
    if (i % 2 && theirs) ++mutated_json;
    if (ours != theirs && ++disagreements <= 5)
      CAF_MESSAGE("disagree on [" << escaped(text) << "]: is_json " << ours << ", nlohmann " << theirs);
    auto members = member_disagreement(text);
    if (!members.empty() && ++disagreements <= 5)
      CAF_MESSAGE("members of [" << escaped(text) << "]: " << members);
    if (theirs && text.find_first_not_of(" \t\r\n") != std::string::npos &&
        text[text.find_first_not_of(" \t\r\n")] == '{')
      ++objects;
  }
  CAF_CHECK_EQUAL(disagreements, 0);
  CAF_CHECK_EQUAL(valid, 10000);
  CAF_CHECK_EQUAL(mutated, 10000);
  // Both answers are exercised: some mutations stay JSON, most do not.
  CAF_MESSAGE(mutated_json << " of the mutated texts are still JSON");
  CAF_CHECK_LESS(500, mutated_json);
  CAF_CHECK_LESS(mutated_json, 9000);
  CAF_MESSAGE(objects << " JSON texts are objects, their members compared");
  CAF_CHECK_LESS(1000, objects);
}

CAF_TEST(tells_the_root_and_the_root_objects_members_as_written) {
  json_type root = json_type::null;
  std::vector<std::pair<std::string, json_type>> told;
  auto hook = [&](const json_member& m) { told.emplace_back(m.raw_key, m.type); };
  CAF_CHECK(is_json(R"( {"a": 1, "b\"c": [{"x": 1}], "d": {"e": true}, "a": null} )", root, hook));
  CAF_CHECK(root == json_type::object);
  std::vector<std::pair<std::string, json_type>> want{{"a", json_type::number},
                                                      {"b\\\"c", json_type::array},
                                                      {"d", json_type::object},
                                                      {"a", json_type::null}};
  CAF_CHECK(told == want);
  told.clear();
  CAF_CHECK(is_json(R"(["a", {"b": 1}])", root, hook));
  CAF_CHECK(root == json_type::array);
  CAF_CHECK(told.empty());
  CAF_CHECK(is_json("-0.5e3", root, hook));
  CAF_CHECK(root == json_type::number);
  CAF_CHECK(!is_json(R"({"a": 1, "b": x})", root, hook));  // told as met, then failed
  CAF_CHECK_EQUAL(told.size(), 2u);
}
