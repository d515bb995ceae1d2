// Where a node's settings come from (apps/config_layers): flag > environment variable >
// config file > default, for every option; the file's errors name the file and the key.
#define CAF_SUITE config_layers
#include "caf/test/unit_test.hpp"

#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include "apps/config_layers.hpp"
#include "process.hpp"

using namespace sova::apps;

namespace {

constexpr const char* prefix = "SOVA_DC_TEST_";

/// A command like `sova-dc node` with one option of each shape.
struct settings {
  int port = 5678;
  std::string bind = "0.0.0.0";
  std::vector<std::string> neighbours;
  bool allow_loopback = false;
  double grace = 30;
  std::string config;
};

struct fixture {
  CLI::App app{"test"};
  CLI::App* cmd = nullptr;
  settings s;
  std::string dir = sova::testing::temp_dir();
  std::vector<std::string> env_set;

  fixture() {
    cmd = app.add_subcommand("node", "a node");
    cmd->add_option("--port", s.port, "UDP port")->capture_default_str();
    cmd->add_option("--bind", s.bind, "address")->capture_default_str();
    cmd->add_option("--neighbours", s.neighbours, "peers")->delimiter(',');
    cmd->add_flag("--allow-loopback", s.allow_loopback, "loopback backends");
    cmd->add_option("--grace-period", s.grace, "seconds")->check(CLI::Range(0.0, 3600.0));
    add_config_layers(*cmd, s.config, prefix);
  }
  ~fixture() {
    for (const auto& name : env_set) unsetenv(name.c_str());
    std::system(("rm -rf '" + dir + "'").c_str());
  }

  void env(const std::string& name, const std::string& value) {
    setenv((prefix + name).c_str(), value.c_str(), 1);
    env_set.push_back(prefix + name);
  }
  std::string file(const std::string& text) {
    auto path = dir + "/node.toml";
    std::ofstream(path) << text;
    return path;
  }
  /// Parses `args` after "test node"; the error's message, or "" on success.
  std::string parse(std::vector<std::string> args) {
    args.insert(args.begin(), {"test", "node"});
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    try {
      parse_layered(app, static_cast<int>(argv.size()), argv.data(), *cmd, s.config);
    } catch (const CLI::ParseError& e) {
      return e.what();
    }
    return "";
  }
};

}  // namespace

CAF_TEST_FIXTURE_SCOPE(config_layers_tests, fixture)

CAF_TEST(defaults_hold_when_nothing_is_given) {
  CAF_CHECK_EQUAL(parse({}), "");
  CAF_CHECK_EQUAL(s.port, 5678);
  CAF_CHECK_EQUAL(s.bind, "0.0.0.0");
  CAF_CHECK(s.neighbours.empty());
  CAF_CHECK(!s.allow_loopback);
}

CAF_TEST(every_option_gets_a_variable_and_help_shows_it) {
  CAF_CHECK_EQUAL(env_name("SOVA_DC_", "http-port"), "SOVA_DC_HTTP_PORT");
  auto help = cmd->help();
  for (const char* v : {"SOVA_DC_TEST_PORT", "SOVA_DC_TEST_BIND", "SOVA_DC_TEST_NEIGHBOURS",
                        "SOVA_DC_TEST_ALLOW_LOOPBACK", "SOVA_DC_TEST_GRACE_PERIOD",
                        "SOVA_DC_TEST_CONFIG"})
    CAF_CHECK(sova::testing::contains(help, v));
  CAF_CHECK(sova::testing::contains(help, "=5678"));  // defaults too
}

CAF_TEST(the_file_beats_the_default) {
  auto path = file("# a node\nport = 7000\nbind = \"127.0.0.2\"\n"
                   "neighbours = [\"10.0.0.1:5678\", \"10.0.0.2:5678\"]\n"
                   "allow_loopback = true\ngrace-period = 5.5\n");
  CAF_CHECK_EQUAL(parse({"--config", path}), "");
  CAF_CHECK_EQUAL(s.port, 7000);
  CAF_CHECK_EQUAL(s.bind, "127.0.0.2");
  CAF_CHECK_EQUAL(s.neighbours, (std::vector<std::string>{"10.0.0.1:5678", "10.0.0.2:5678"}));
  CAF_CHECK(s.allow_loopback);
  CAF_CHECK_EQUAL(s.grace, 5.5);
}

CAF_TEST(the_environment_beats_the_file) {
  auto path = file("port = 7000\nbind = \"127.0.0.2\"\nallow_loopback = true\n");
  env("PORT", "7100");
  env("ALLOW_LOOPBACK", "false");
  env("NEIGHBOURS", "10.0.0.3:1,10.0.0.4:2");
  CAF_CHECK_EQUAL(parse({"--config", path}), "");
  CAF_CHECK_EQUAL(s.port, 7100);
  CAF_CHECK_EQUAL(s.bind, "127.0.0.2");  // only in the file
  CAF_CHECK(!s.allow_loopback);
  CAF_CHECK_EQUAL(s.neighbours, (std::vector<std::string>{"10.0.0.3:1", "10.0.0.4:2"}));
}

CAF_TEST(a_flag_beats_the_environment_and_the_file) {
  auto path = file("port = 7000\nneighbours = [\"10.0.0.1:5678\"]\n");
  env("PORT", "7100");
  CAF_CHECK_EQUAL(parse({"--config", path, "--port", "7200", "--neighbours", "10.0.0.9:9"}), "");
  CAF_CHECK_EQUAL(s.port, 7200);
  CAF_CHECK_EQUAL(s.neighbours, (std::vector<std::string>{"10.0.0.9:9"}));
}

CAF_TEST(the_config_file_itself_can_come_from_the_environment) {
  env("CONFIG", file("port = 7300\n"));
  CAF_CHECK_EQUAL(parse({}), "");
  CAF_CHECK_EQUAL(s.port, 7300);
}

CAF_TEST(a_section_named_after_the_command_is_read) {
  CAF_CHECK_EQUAL(parse({"--config", file("[node]\nport = 7400\n")}), "");
  CAF_CHECK_EQUAL(s.port, 7400);
}

CAF_TEST(an_unknown_key_is_an_error_naming_it_and_the_file) {
  auto path = file("port = 7000\nprot = 7001\n");
  auto e = parse({"--config", path});
  CAF_CHECK(sova::testing::contains(e, "unknown key 'prot'"));
  CAF_CHECK(sova::testing::contains(e, path));
  CAF_CHECK(sova::testing::contains(parse({"--config", file("[other]\nport = 1\n")}),
                                    "unknown key 'other.port'"));
  CAF_CHECK(sova::testing::contains(parse({"--config", file("config = \"x\"\n")}),
                                    "unknown key 'config'"));
}

CAF_TEST(bad_values_in_the_file_are_errors_naming_the_file) {
  auto e = parse({"--config", file("port = \"many\"\n")});
  CAF_CHECK(sova::testing::contains(e, "config file"));
  CAF_CHECK(sova::testing::contains(e, "--port"));
  CAF_CHECK(sova::testing::contains(parse({"--config", file("grace_period = 99999\n")}),
                                    "config file"));
  CAF_CHECK(sova::testing::contains(parse({"--config", file("port = [1, 2]\n")}),
                                    "takes one value"));
  CAF_CHECK(sova::testing::contains(parse({"--config", file("port = 1\nport = 2\n")}),
                                    "gives it twice"));
  CAF_CHECK(sova::testing::contains(parse({"--config", file("port = 1\nPORT = 2\nport_x = 1\n")}),
                                    "unknown key 'PORT'"));
  CAF_CHECK(sova::testing::contains(
      parse({"--config", file("grace_period = 1\ngrace-period = 2\n")}), "given twice"));
}

CAF_TEST(a_missing_file_is_an_error_naming_it) {
  auto e = parse({"--config", dir + "/nothing.toml"});
  CAF_CHECK(sova::testing::contains(e, dir + "/nothing.toml"));
  CAF_CHECK(sova::testing::contains(e, "No such file"));
}

CAF_TEST_FIXTURE_SCOPE_END()
