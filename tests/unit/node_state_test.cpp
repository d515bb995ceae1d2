// The node's saved identity and routing table: the JSON file format (round trip, field
// names, every refusal naming its field) and the crash-safe write and read of the file.
#define CAF_SUITE node_state
#include "caf/test/unit_test.hpp"

#include "test_ids.hpp"

#include <stdlib.h>
#include <sys/stat.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <functional>
#include <stdexcept>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "net/node_state.hpp"

using namespace sova::net;
using json = nlohmann::json;
using sova::testing::small_id;
namespace fs = std::filesystem;

namespace {

contact make_contact(std::uint64_t n, std::string host, std::uint16_t port) {
  return contact{small_id(n), endpoint{std::move(host), port}};
}

node_state sample_state() {
  node_state s;
  s.id = small_id(1);
  s.saved_at_unix = 1700000000;
  s.contacts = {make_contact(2, "10.0.0.2", 5678), make_contact(3, "::1", 1),
                make_contact(4, "192.168.1.20", 65535)};
  return s;
}

std::string hex_list(const std::vector<contact>& cs) {
  std::string out;
  for (const auto& c : cs) out += c.to_string() + " ";
  return out;
}

/// Requires `text` to contain `part`.
void check_mentions(const std::string& text, const std::string& part) {
  if (text.find(part) == std::string::npos)
    CAF_ERROR("'" << text << "' does not mention '" << part << "'");
}

/// The message of what `f` throws as std::runtime_error, or "<no throw>".
std::string thrown_by(const std::function<void()>& f) {
  try {
    f();
  } catch (const std::runtime_error& e) {
    return e.what();
  }
  return "<no throw>";
}

/// The names in `dir`, sorted.
std::vector<std::string> names_in(const std::string& dir) {
  std::vector<std::string> out;
  for (const auto& entry : fs::directory_iterator(dir)) out.push_back(entry.path().filename());
  std::sort(out.begin(), out.end());
  return out;
}

/// A fresh directory under /tmp, removed with everything in it at the end of the test.
struct fixture {
  std::string tmp;
  fixture() {
    char name[] = "/tmp/sova-node-state-XXXXXX";
    CAF_REQUIRE(::mkdtemp(name) != nullptr);
    tmp = name;
  }
  ~fixture() {
    std::error_code ignored;
    fs::remove_all(tmp, ignored);
  }
  void make_file(const std::string& path, const std::string& content) {
    std::ofstream(path) << content;
  }
};

}  // namespace

CAF_TEST(round_trip_keeps_id_contacts_and_time) {
  auto s = sample_state();
  std::string why;
  auto back = decode_node_state(encode_node_state(s), &why);
  CAF_REQUIRE(back);
  CAF_CHECK_EQUAL(why, "");
  CAF_CHECK_EQUAL(back->id, s.id);
  CAF_CHECK_EQUAL(back->saved_at_unix, s.saved_at_unix);
  CAF_CHECK_EQUAL(hex_list(back->contacts), hex_list(s.contacts));
  CAF_CHECK(back->contacts == s.contacts);

  // An empty table is a valid snapshot too (a node that never met anyone).
  node_state lonely;
  lonely.id = small_id(7);
  auto lonely_back = decode_node_state(encode_node_state(lonely), nullptr);
  CAF_REQUIRE(lonely_back);
  CAF_CHECK_EQUAL(lonely_back->id, lonely.id);
  CAF_CHECK(lonely_back->contacts.empty());
  CAF_CHECK_EQUAL(lonely_back->saved_at_unix, 0);
}

CAF_TEST(encoding_is_the_documented_readable_json) {
  node_state s;
  s.id = small_id(1);
  s.saved_at_unix = 1700000000;
  s.contacts = {make_contact(0xab, "10.0.0.2", 5678)};
  CAF_CHECK_EQUAL(encode_node_state(s),
                  "{\n"
                  "  \"format\": \"sova-dc node state\",\n"
                  "  \"version\": 1,\n"
                  "  \"node_id\": \"0000000000000000000000000000000000000001\",\n"
                  "  \"saved_at\": 1700000000,\n"
                  "  \"contacts\": [\n"
                  "    {\n"
                  "      \"id\": \"00000000000000000000000000000000000000ab\",\n"
                  "      \"host\": \"10.0.0.2\",\n"
                  "      \"port\": 5678\n"
                  "    }\n"
                  "  ]\n"
                  "}\n");
}

CAF_TEST(decoding_accepts_upper_case_hex_and_ignores_unknown_fields) {
  json doc = json::parse(encode_node_state(sample_state()));
  std::string upper = doc["node_id"];
  std::transform(upper.begin(), upper.end(), upper.begin(), ::toupper);
  doc["node_id"] = upper;
  doc["comment"] = "added by a later version";
  doc["contacts"][0]["rtt_ms"] = 3;
  std::string why;
  auto s = decode_node_state(doc.dump(), &why);
  CAF_REQUIRE(s);
  CAF_CHECK_EQUAL(s->id, small_id(1));
  CAF_CHECK_EQUAL(s->contacts.size(), 3u);
}

CAF_TEST(every_malformed_field_is_refused_with_its_name) {
  struct bad_case {
    std::string field;  // what the reason must mention
    std::function<void(json&)> spoil;
  };
  const std::string own = small_id(1).to_hex();
  const std::vector<bad_case> cases = {
    {"object", [](json& d) { d = json::array(); }},
    {"format", [](json& d) { d.erase("format"); }},
    {"format", [](json& d) { d["format"] = "sova-dc node stat"; }},
    {"format", [](json& d) { d["format"] = 1; }},
    {"version", [](json& d) { d.erase("version"); }},
    {"version", [](json& d) { d["version"] = 2; }},
    {"version", [](json& d) { d["version"] = 0; }},
    {"version", [](json& d) { d["version"] = "1"; }},
    {"version", [](json& d) { d["version"] = 1.5; }},
    {"node_id", [](json& d) { d.erase("node_id"); }},
    {"node_id", [](json& d) { d["node_id"] = std::string(39, 'a'); }},
    {"node_id", [](json& d) { d["node_id"] = std::string(41, 'a'); }},
    {"node_id", [](json& d) { d["node_id"] = std::string(39, 'a') + "g"; }},
    {"node_id", [](json& d) { d["node_id"] = 1; }},
    {"saved_at", [](json& d) { d.erase("saved_at"); }},
    {"saved_at", [](json& d) { d["saved_at"] = "1700000000"; }},
    {"saved_at", [](json& d) { d["saved_at"] = 1.5; }},
    {"saved_at", [](json& d) { d["saved_at"] = -1; }},
    {"saved_at", [](json& d) { d["saved_at"] = 18446744073709551615ull; }},
    {"contacts", [](json& d) { d.erase("contacts"); }},
    {"contacts", [](json& d) { d["contacts"] = json::object(); }},
    {"contacts[1]", [](json& d) { d["contacts"][1] = "10.0.0.3:1"; }},
    {"contacts[1].id", [](json& d) { d["contacts"][1].erase("id"); }},
    {"contacts[1].id", [](json& d) { d["contacts"][1]["id"] = "xyz"; }},
    {"contacts[2].id", [&](json& d) { d["contacts"][2]["id"] = own; }},
    {"contacts[1].host", [](json& d) { d["contacts"][1].erase("host"); }},
    {"contacts[1].host", [](json& d) { d["contacts"][1]["host"] = "example.com"; }},
    {"contacts[1].host", [](json& d) { d["contacts"][1]["host"] = ""; }},
    {"contacts[1].host", [](json& d) { d["contacts"][1]["host"] = "10.0.0.2:5678"; }},
    {"contacts[1].host", [](json& d) { d["contacts"][1]["host"] = std::string("10.0.0.2\0x", 10); }},
    {"contacts[1].host", [](json& d) { d["contacts"][1]["host"] = 167772162; }},
    {"contacts[1].port", [](json& d) { d["contacts"][1].erase("port"); }},
    {"contacts[1].port", [](json& d) { d["contacts"][1]["port"] = 0; }},
    {"contacts[1].port", [](json& d) { d["contacts"][1]["port"] = 65536; }},
    {"contacts[1].port", [](json& d) { d["contacts"][1]["port"] = -1; }},
    {"contacts[1].port", [](json& d) { d["contacts"][1]["port"] = "5678"; }},
    {"contacts[1].port", [](json& d) { d["contacts"][1]["port"] = 5678.0; }},
  };
  const json good = json::parse(encode_node_state(sample_state()));
  for (const auto& c : cases) {
    json doc = good;
    c.spoil(doc);
    std::string why;
    auto s = decode_node_state(doc.dump(), &why);
    if (s) {
      CAF_ERROR("accepted: " << doc.dump());
      continue;
    }
    check_mentions(why, c.field);
    CAF_CHECK(decode_node_state(doc.dump(), nullptr) == std::nullopt);  // no why: no crash
  }
  CAF_CHECK_EQUAL(cases.size(), 37u);

  for (std::string_view text : {"", "{", "not json", "{\"format\": }"}) {
    std::string why;
    CAF_CHECK(!decode_node_state(text, &why));
    check_mentions(why, "JSON");
  }
  std::string why;
  CAF_CHECK(!decode_node_state(R"({"version": 2})", &why));
  check_mentions(why, "format");  // the first thing a stranger file gets wrong
  why.clear();
  CAF_CHECK(!decode_node_state(R"({"format": "sova-dc node state", "version": 2})", &why));
  check_mentions(why, "version: not 1 (found 2)");
}

CAF_TEST(duplicate_contacts_are_dropped_keeping_the_first) {
  json doc = json::parse(encode_node_state(sample_state()));
  auto& cs = doc["contacts"];
  cs.push_back(cs[0]);                                                     // exact copy
  cs.push_back({{"id", small_id(3).to_hex()}, {"host", "10.9.9.9"}, {"port", 9}});  // same id
  cs.push_back({{"id", small_id(5).to_hex()}, {"host", "10.0.0.2"}, {"port", 5678}});
  auto s = decode_node_state(doc.dump(), nullptr);
  CAF_REQUIRE(s);
  auto expected = sample_state().contacts;
  expected.push_back(make_contact(5, "10.0.0.2", 5678));  // same endpoint, other id: kept
  CAF_CHECK_EQUAL(hex_list(s->contacts), hex_list(expected));
}

CAF_TEST(encoding_skips_contacts_that_would_make_the_file_unreadable) {
  auto s = sample_state();
  s.contacts.insert(s.contacts.begin() + 1, {contact{s.id, endpoint{"10.0.0.9", 9}},
                                             make_contact(8, "example.com", 80),
                                             make_contact(9, "10.0.0.9", 0),
                                             make_contact(2, "10.0.0.22", 22)});
  std::string why;
  auto back = decode_node_state(encode_node_state(s), &why);
  CAF_REQUIRE(back);
  CAF_CHECK_EQUAL(hex_list(back->contacts), hex_list(sample_state().contacts));
}

CAF_TEST(state_path) {
  CAF_CHECK_EQUAL(node_state_path("/var/lib/sova"), "/var/lib/sova/node-state.json");
  CAF_CHECK_EQUAL(node_state_path("/var/lib/sova/"), "/var/lib/sova/node-state.json");
  CAF_CHECK_EQUAL(node_state_path("state"), "state/node-state.json");
}

CAF_TEST_FIXTURE_SCOPE(node_state_files, fixture)

CAF_TEST(atomic_write_creates_the_directory_and_replaces_the_file) {
  auto dir = tmp + "/state";
  auto path = node_state_path(dir);
  write_file_atomically(path, "first\n");
  struct stat st {};
  CAF_REQUIRE_EQUAL(::stat(dir.c_str(), &st), 0);
  CAF_CHECK(S_ISDIR(st.st_mode));
  CAF_CHECK_EQUAL(st.st_mode & 0777, 0700u);
  CAF_CHECK_EQUAL(read_file_if_exists(path).value_or("<none>"), "first\n");
  CAF_CHECK_EQUAL(names_in(dir), std::vector<std::string>{"node-state.json"});

  write_file_atomically(path, "second, longer than the first\n");
  CAF_CHECK_EQUAL(read_file_if_exists(path).value_or("<none>"), "second, longer than the first\n");
  write_file_atomically(path, "");
  CAF_CHECK_EQUAL(read_file_if_exists(path).value_or("<none>"), "");
  CAF_CHECK_EQUAL(names_in(dir), std::vector<std::string>{"node-state.json"});

  // Bigger than one write() or read() buffer.
  std::string big(300000, 'x');
  for (std::size_t i = 0; i < big.size(); i += 997) big[i] = static_cast<char>('a' + i % 26);
  write_file_atomically(path, big);
  CAF_CHECK(read_file_if_exists(path) == big);
  CAF_CHECK_EQUAL(names_in(dir), std::vector<std::string>{"node-state.json"});
}

CAF_TEST(saved_state_loads_back) {
  auto path = node_state_path(tmp);
  write_file_atomically(path, encode_node_state(sample_state()));
  auto text = read_file_if_exists(path);
  CAF_REQUIRE(text);
  std::string why;
  auto s = decode_node_state(*text, &why);
  CAF_REQUIRE(s);
  CAF_CHECK_EQUAL(s->id, small_id(1));
  CAF_CHECK_EQUAL(hex_list(s->contacts), hex_list(sample_state().contacts));
}

CAF_TEST(atomic_write_failures_name_the_path_and_leave_nothing_behind) {
  // Parent is a regular file: fails even for root, unlike chmod.
  make_file(tmp + "/plain", "not a directory");
  auto under_file = tmp + "/plain/node-state.json";
  auto message = thrown_by([&] { write_file_atomically(under_file, "x"); });
  check_mentions(message, under_file);
  check_mentions(message, "Not a directory");

  // Only one level of directory is created.
  auto too_deep = tmp + "/a/b/node-state.json";
  message = thrown_by([&] { write_file_atomically(too_deep, "x"); });
  check_mentions(message, too_deep);
  check_mentions(message, "No such file or directory");
  CAF_CHECK(!fs::exists(tmp + "/a"));

  // The target is a directory: the rename fails after the temporary was written.
  auto occupied = tmp + "/occupied";
  fs::create_directory(occupied);
  message = thrown_by([&] { write_file_atomically(occupied, "x"); });
  check_mentions(message, occupied);
  check_mentions(message, "Is a directory");
  CAF_CHECK_EQUAL(names_in(tmp), (std::vector<std::string>{"occupied", "plain"}));
}

CAF_TEST(read_if_exists_tells_missing_from_unreadable) {
  CAF_CHECK(read_file_if_exists(tmp + "/missing.json") == std::nullopt);
  CAF_CHECK(read_file_if_exists(node_state_path(tmp + "/no-dir")) == std::nullopt);

  auto message = thrown_by([&] { read_file_if_exists(tmp); });
  check_mentions(message, tmp);
  check_mentions(message, "Is a directory");

  make_file(tmp + "/plain", "text");
  auto under_file = tmp + "/plain/node-state.json";
  message = thrown_by([&] { read_file_if_exists(under_file); });
  check_mentions(message, under_file);
  check_mentions(message, "Not a directory");

  make_file(tmp + "/empty", "");
  CAF_CHECK_EQUAL(read_file_if_exists(tmp + "/empty").value_or("<none>"), "");
}

CAF_TEST_FIXTURE_SCOPE_END()
