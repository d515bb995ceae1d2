#define CAF_SUITE admin_console
#include <caf/test/unit_test.hpp>

#include <algorithm>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "admin/commands.hpp"
#include "admin/render.hpp"
#include "admin/script.hpp"

using namespace sova::admin;
using json = nlohmann::ordered_json;
using strings = std::vector<std::string>;

namespace {

std::string suggestion(std::string_view name) {
  return std::string(closest_command(name).value_or("<none>"));
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// Every command's words, and separately the line each starts on.
std::vector<strings> words_of(const parsed_script& s) {
  std::vector<strings> out;
  for (const auto& c : s.commands) out.push_back(c.words);
  return out;
}

std::vector<std::size_t> lines_of(const parsed_script& s) {
  std::vector<std::size_t> out;
  for (const auto& c : s.commands) out.push_back(c.line);
  return out;
}

std::string render(const char* json_text) { return render_text(json::parse(json_text)); }

}  // namespace

// ---- the catalogue ----

CAF_TEST(catalogue_lists_every_command_in_help_order) {
  strings names;
  for (const auto& c : commands()) names.emplace_back(c.name);
  strings expected{"help",      "info",  "peers", "table",     "records", "services",
                   "lookup",    "get",   "put",   "ping",      "bootstrap", "stats",
                   "log-level", "drain", "undrain", "quit"};
  CAF_CHECK_EQUAL(names, expected);
  for (const auto& c : commands()) {
    const command_info* found = find_command(c.name);
    CAF_REQUIRE(found != nullptr);
    CAF_CHECK(found == &c);
    std::string usage(c.usage);
    CAF_CHECK_EQUAL(usage.substr(0, c.name.size()), std::string(c.name));
    CAF_CHECK(!c.summary.empty());
    CAF_CHECK(!c.details.empty());
    CAF_CHECK(c.min_args <= c.max_args);
  }
}

CAF_TEST(catalogue_arguments_aliases_and_local_commands) {
  auto args = [](std::string_view name) {
    const command_info* c = find_command(name);
    return c ? std::to_string(c->min_args) + ".." + std::to_string(c->max_args) : "missing";
  };
  CAF_CHECK_EQUAL(args("help"), "0..1");
  CAF_CHECK_EQUAL(args("info"), "0..0");
  CAF_CHECK_EQUAL(args("records"), "0..1");
  CAF_CHECK_EQUAL(args("services"), "0..1");
  CAF_CHECK_EQUAL(args("lookup"), "1..1");
  CAF_CHECK_EQUAL(args("get"), "1..1");
  CAF_CHECK_EQUAL(args("put"), "2..64");
  CAF_CHECK_EQUAL(args("ping"), "1..1");
  CAF_CHECK_EQUAL(args("bootstrap"), "1..64");
  CAF_CHECK_EQUAL(args("log-level"), "0..1");
  CAF_CHECK_EQUAL(args("quit"), "0..0");
  const command_info* exit = find_command("exit");
  CAF_REQUIRE(exit != nullptr);
  CAF_CHECK_EQUAL(std::string(exit->name), "quit");
  CAF_CHECK(find_command("nope") == nullptr);
  CAF_CHECK(find_command("") == nullptr);
  CAF_CHECK(find_command("Info") == nullptr);
  for (const auto& c : commands()) {
    bool local = c.name == "help" || c.name == "quit";
    CAF_CHECK_EQUAL(c.local, local);
  }
}

CAF_TEST(closest_command_suggests_near_names) {
  CAF_CHECK_EQUAL(suggestion("peer"), "peers");
  CAF_CHECK_EQUAL(suggestion("stat"), "stats");
  CAF_CHECK_EQUAL(suggestion("lokup"), "lookup");
  CAF_CHECK_EQUAL(suggestion("undran"), "undrain");
  CAF_CHECK_EQUAL(suggestion("log"), "log-level");
  CAF_CHECK_EQUAL(suggestion("pe"), "peers");  // a unique prefix
  CAF_CHECK_EQUAL(suggestion("exti"), "exit");
  CAF_CHECK_EQUAL(suggestion("xyzzy"), "<none>");
  CAF_CHECK_EQUAL(suggestion("p"), "<none>");  // too short to guess from
  CAF_CHECK_EQUAL(suggestion(""), "<none>");
}

CAF_TEST(check_command_explains_what_is_wrong) {
  auto ok = check_command("get", 1);
  CAF_CHECK(ok.status == check_status::ok);
  CAF_CHECK_EQUAL(ok.message, "");
  CAF_CHECK(check_command("put", 64).status == check_status::ok);
  CAF_CHECK(check_command("exit", 0).status == check_status::ok);
  CAF_CHECK(check_command("help", 1).status == check_status::ok);

  auto typo = check_command("peer", 0);
  CAF_CHECK(typo.status == check_status::unknown_command);
  CAF_CHECK_EQUAL(typo.message,
                  "unknown command 'peer'; did you mean 'peers'? ('help' lists the commands)");
  auto unknown = check_command("xyzzy", 2);
  CAF_CHECK(unknown.status == check_status::unknown_command);
  CAF_CHECK_EQUAL(unknown.message, "unknown command 'xyzzy'; 'help' lists the commands");
  auto empty = check_command("", 0);
  CAF_CHECK(empty.status == check_status::unknown_command);
  CAF_CHECK(!empty.message.empty());

  auto few = check_command("get", 0);
  CAF_CHECK(few.status == check_status::bad_arguments);
  CAF_CHECK_EQUAL(few.message, "usage: get KEY");
  auto many = check_command("get", 3);
  CAF_CHECK(many.status == check_status::bad_arguments);
  CAF_CHECK_EQUAL(many.message, "get takes 1 argument, got 3; usage: get KEY");
  CAF_CHECK_EQUAL(check_command("info", 1).message, "info takes no arguments, got 1; usage: info");
  CAF_CHECK_EQUAL(check_command("help", 2).message,
                  "help takes at most 1 argument, got 2; usage: help [COMMAND]");
  CAF_CHECK_EQUAL(check_command("put", 1).message, "usage: put KEY VALUE [VALUE...]");
  CAF_CHECK_EQUAL(check_command("put", 65).message,
                  "put takes at most 64 arguments, got 65; usage: put KEY VALUE [VALUE...]");
}

CAF_TEST(complete_command_offers_sorted_names) {
  CAF_CHECK_EQUAL(complete_command("p"), strings({"peers", "ping", "put"}));
  CAF_CHECK_EQUAL(complete_command("e"), strings({"exit"}));
  CAF_CHECK_EQUAL(complete_command("log"), strings({"log-level"}));
  CAF_CHECK_EQUAL(complete_command("drain"), strings({"drain"}));
  CAF_CHECK_EQUAL(complete_command("zz"), strings{});
  auto all = complete_command("");
  CAF_CHECK(std::is_sorted(all.begin(), all.end()));
  CAF_CHECK_EQUAL(all.size(), commands().size() + 1);  // and the alias
  for (const auto& c : commands())
    CAF_CHECK(std::find(all.begin(), all.end(), std::string(c.name)) != all.end());
  CAF_CHECK(std::find(all.begin(), all.end(), "exit") != all.end());
}

CAF_TEST(help_text_lists_every_command_aligned) {
  auto text = help_text();
  std::size_t width = 0;
  for (const auto& c : commands()) width = std::max(width, c.usage.size());
  for (const auto& c : commands()) {
    std::string line = "\n" + std::string(c.usage);
    line.append(width + 2 - c.usage.size(), ' ');
    line += std::string(c.summary) + "\n";
    CAF_CHECK(contains(text, line));
  }
  CAF_CHECK(contains(text, "sha1"));
  CAF_CHECK(contains(text, "0x"));
  CAF_CHECK(contains(text, "';'"));
  CAF_CHECK_EQUAL(text.back(), '\n');
  CAF_CHECK(text.find("help [COMMAND]") < text.find("bootstrap HOST:PORT [HOST:PORT...]"));
}

CAF_TEST(help_text_for_one_command) {
  auto get = help_text("get");
  CAF_REQUIRE(get);
  CAF_CHECK_EQUAL(get->substr(0, 15), "usage: get KEY\n");
  CAF_CHECK(contains(*get, std::string(find_command("get")->summary)));
  CAF_CHECK(contains(*get, std::string(find_command("get")->details)));
  CAF_CHECK(contains(*get, "sha1"));
  auto exit = help_text("exit");
  auto quit = help_text("quit");
  CAF_REQUIRE(exit && quit);
  CAF_CHECK_EQUAL(*exit, *quit);
  CAF_CHECK(contains(*exit, "usage: quit\n"));
  CAF_CHECK(contains(*exit, "exit"));
  CAF_CHECK(!help_text("nope"));
  CAF_CHECK(!help_text(""));
}

CAF_TEST(parse_key_hashes_text_or_reads_raw_ids) {
  auto abc = parse_key("abc");
  CAF_REQUIRE(abc);
  CAF_CHECK_EQUAL(abc->to_hex(), "a9993e364706816aba3e25717850c26c9cd0d89d");  // FIPS 180
  auto asr = parse_key("asr/cpu");
  CAF_REQUIRE(asr);
  CAF_CHECK(*asr == sova::net::node_id::digest("asr/cpu"));
  std::string hex = "00112233445566778899aabbccddeeff01234567";
  auto raw = parse_key("0x" + hex);
  CAF_REQUIRE(raw);
  CAF_CHECK_EQUAL(raw->to_hex(), hex);
  auto upper = parse_key("0X00112233445566778899AABBCCDDEEFF01234567");
  CAF_REQUIRE(upper);
  CAF_CHECK_EQUAL(upper->to_hex(), hex);
  CAF_CHECK(!parse_key(""));
  CAF_CHECK(!parse_key("0x"));
  CAF_CHECK(!parse_key("0x" + hex.substr(1)));  // 39 digits
  CAF_CHECK(!parse_key("0x" + hex + "8"));      // 41 digits
  CAF_CHECK(!parse_key("0x" + hex.substr(1) + "g"));
  CAF_CHECK(!parse_key("0x " + hex.substr(1)));
}

// ---- script parsing ----

CAF_TEST(script_splits_commands_at_semicolons_and_newlines) {
  auto s = parse_script("info; peers\nget asr/cpu\n\n  ;; \t\r\n  stats  \n");
  CAF_CHECK_EQUAL(s.error, "");
  CAF_CHECK_EQUAL(words_of(s), std::vector<strings>({{"info"}, {"peers"}, {"get", "asr/cpu"},
                                                     {"stats"}}));
  CAF_CHECK_EQUAL(lines_of(s), std::vector<std::size_t>({1, 1, 2, 5}));
  auto empty = parse_script("");
  CAF_CHECK_EQUAL(empty.error, "");
  CAF_CHECK(empty.commands.empty());
  auto blank = parse_script(" ;\n\t; \n");
  CAF_CHECK_EQUAL(blank.error, "");
  CAF_CHECK(blank.commands.empty());
  auto late = parse_script("  \n ; peers");
  CAF_CHECK_EQUAL(lines_of(late), std::vector<std::size_t>({2}));
}

CAF_TEST(script_comments) {
  auto s = parse_script("# header\ninfo # trailing; peers\nput a#b c\n  #x\n;'#' \"#\" \\#");
  CAF_CHECK_EQUAL(s.error, "");
  CAF_CHECK_EQUAL(words_of(s),
                  std::vector<strings>({{"info"}, {"put", "a#b", "c"}, {"#", "#", "#"}}));
  CAF_CHECK_EQUAL(lines_of(s), std::vector<std::size_t>({2, 3, 5}));
}

CAF_TEST(script_quotes_and_escapes) {
  auto s = parse_script(R"(put key 'a b;c' "say \"hi\" \\ \n" x'y'"z")");
  CAF_CHECK_EQUAL(s.error, "");
  CAF_CHECK_EQUAL(words_of(s),
                  std::vector<strings>({{"put", "key", "a b;c", R"(say "hi" \ \n)", "xyz"}}));
  auto single = parse_script(R"(echo 'a\b "c"')");
  CAF_CHECK_EQUAL(words_of(single), std::vector<strings>({{"echo", R"(a\b "c")"}}));
  auto bare = parse_script(R"(put a\ b c\;d \'e \\)");
  CAF_CHECK_EQUAL(words_of(bare), std::vector<strings>({{"put", "a b", "c;d", "'e", "\\"}}));
  auto semicolon = parse_script("put k 'x;y' \"u;v\"; info");
  CAF_CHECK_EQUAL(words_of(semicolon),
                  std::vector<strings>({{"put", "k", "x;y", "u;v"}, {"info"}}));
}

CAF_TEST(script_keeps_empty_quoted_words) {
  auto s = parse_script(R"(put key "" '' a''b)");
  CAF_CHECK_EQUAL(s.error, "");
  CAF_CHECK_EQUAL(words_of(s), std::vector<strings>({{"put", "key", "", "", "ab"}}));
  auto only = parse_script("''");
  CAF_CHECK_EQUAL(words_of(only), std::vector<strings>({{""}}));
}

CAF_TEST(script_line_numbers_count_newlines_in_quotes) {
  auto s = parse_script("info\nput k 'one\ntwo'\nstats\nput k \\\n  v\nget \"a\nb\" ; peers");
  CAF_CHECK_EQUAL(s.error, "");
  CAF_CHECK_EQUAL(words_of(s), std::vector<strings>({{"info"},
                                                     {"put", "k", "one\ntwo"},
                                                     {"stats"},
                                                     {"put", "k", "v"},
                                                     {"get", "a\nb"},
                                                     {"peers"}}));
  CAF_CHECK_EQUAL(lines_of(s), std::vector<std::size_t>({1, 2, 4, 5, 7, 8}));
}

CAF_TEST(script_errors_drop_every_command) {
  auto single = parse_script("info\nput k 'abc\ndef");
  CAF_CHECK_EQUAL(single.error, "line 2: unterminated ' quote");
  CAF_CHECK(single.commands.empty());
  auto dbl = parse_script("info; peers\n\nget \"a\\\"");
  CAF_CHECK_EQUAL(dbl.error, "line 3: unterminated \" quote");
  CAF_CHECK(dbl.commands.empty());
  auto backslash = parse_script("info\nget k\\");
  CAF_CHECK_EQUAL(backslash.error, "line 2: backslash at the end of the text");
  CAF_CHECK(backslash.commands.empty());
  auto commented = parse_script("info # it's fine\n");
  CAF_CHECK_EQUAL(commented.error, "");
  CAF_CHECK_EQUAL(words_of(commented), std::vector<strings>({{"info"}}));
}

// ---- rendering ----

CAF_TEST(render_nested_object) {
  auto text = render(R"({"id": "ab12", "version": "0.3.0", "uptime_s": 42, "draining": false,
    "endpoints": {"udp": "0.0.0.0:4000", "http": "0.0.0.0:8080", "admin": null},
    "tags": ["a", "b", 3], "load": 0.5})");
  CAF_CHECK_EQUAL(text,
                  "id        ab12\n"
                  "version   0.3.0\n"
                  "uptime_s  42\n"
                  "draining  no\n"
                  "endpoints:\n"
                  "  udp    0.0.0.0:4000\n"
                  "  http   0.0.0.0:8080\n"
                  "  admin  -\n"
                  "tags      a, b, 3\n"
                  "load      0.5\n");
  auto deep = render(R"({"a": {"b": {"c": 1}, "d": true}})");
  CAF_CHECK_EQUAL(deep, "a:\n  b:\n    c  1\n  d  yes\n");
}

CAF_TEST(render_table_with_missing_keys) {
  auto text = render(R"({"count": 3, "contacts": [
    {"id": "aa", "address": "1.2.3.4:5"},
    {"id": "bbbb", "rtt_ms": 1.25, "tags": ["x", "y"]},
    {"id": "c", "address": null, "meta": {"k": 1}}]})");
  CAF_CHECK_EQUAL(text,
                  "count  3\n"
                  "contacts:\n"
                  "  id    address    rtt_ms  tags  meta\n"
                  "  aa    1.2.3.4:5  -       -     -\n"
                  "  bbbb  -          1.25    x, y  -\n"
                  "  c     -          -       -     {\"k\":1}\n");
  auto nested = render(R"({"dht": {"buckets": [{"range": "0-1", "n": 2}, {"n": 10}]}})");
  CAF_CHECK_EQUAL(nested,
                  "dht:\n"
                  "  buckets:\n"
                  "    range  n\n"
                  "    0-1    2\n"
                  "    -      10\n");
  auto cells = render(R"([{"a": [{"x": 1}], "b": [], "c": "last"}])");
  CAF_CHECK_EQUAL(cells,
                  "a          b       c\n"
                  "[{\"x\":1}]  (none)  last\n");
}

CAF_TEST(render_scalars) {
  auto floats = render(R"({"a": 1.5, "b": 0.125, "c": 12.0, "d": 0.001, "e": 1234.5678,
    "f": 0.0004, "g": -2.5, "h": -0.0001, "i": -7, "j": 18446744073709551615})");
  CAF_CHECK_EQUAL(floats,
                  "a  1.5\nb  0.125\nc  12\nd  0.001\ne  1234.568\n"
                  "f  0\ng  -2.5\nh  0\ni  -7\nj  18446744073709551615\n");
  auto flags = render(R"({"draining": true, "healthy": false, "since": null, "name": ""})");
  CAF_CHECK_EQUAL(flags, "draining  yes\nhealthy   no\nsince     -\nname\n");
  CAF_CHECK_EQUAL(render("\"hello\""), "hello\n");
  CAF_CHECK_EQUAL(render("3.14159"), "3.142\n");
  CAF_CHECK_EQUAL(render("true"), "yes\n");
  CAF_CHECK_EQUAL(render("null"), "-\n");
}

CAF_TEST(render_empty_values) {
  CAF_CHECK_EQUAL(render("{}"), "");
  CAF_CHECK_EQUAL(render(R"({"peers": [], "n": 0, "meta": {}})"),
                  "peers  (none)\nn      0\nmeta   (none)\n");
  CAF_CHECK_EQUAL(render("[]"), "(none)\n");
  CAF_CHECK_EQUAL(render("[{}, {}]"), "(none)\n");
  CAF_CHECK_EQUAL(render(R"({"rows": [{}]})"), "rows:\n  (none)\n");
  CAF_CHECK_EQUAL(render(R"({"m": [1, [2, 3], {"x": 1}]})"), "m  1, [2,3], {\"x\":1}\n");
}

CAF_TEST(render_top_level_arrays) {
  CAF_CHECK_EQUAL(render(R"([{"a": 1, "b": "x"}, {"a": 22}])"), "a   b\n1   x\n22  -\n");
  CAF_CHECK_EQUAL(render(R"(["x", 1, true, 0.25])"), "x\n1\nyes\n0.25\n");
}

CAF_TEST(render_keeps_member_order) {
  json j;
  j["zeta"] = 1;
  j["alpha"] = 2;
  CAF_CHECK_EQUAL(render_text(j), "zeta   1\nalpha  2\n");
}
