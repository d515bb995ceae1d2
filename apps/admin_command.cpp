#include "apps/admin_command.hpp"

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <iterator>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

// libedit's readline-compatible API: line editing, history, completion.
#include <editline/readline.h>

#include <nlohmann/json.hpp>

#include "admin/commands.hpp"
#include "admin/http_api.hpp"
#include "admin/render.hpp"
#include "admin/script.hpp"
#include "apps/common.hpp"
#include "http/client.hpp"
#include "net/udp_port.hpp"

namespace sova::apps {

struct admin_options {
  std::string connect = "127.0.0.1:5700";
  std::string commands;  // -c
  std::string script;    // --script
  bool json = false;
  bool keep_going = false;
  double timeout_s = 120;
};

namespace {

using json = nlohmann::ordered_json;
using strings = std::vector<std::string>;
using admin::script_command;

/// How one command ended.
struct outcome {
  int status = exit_ok;  // exit_ok, exit_failed or exit_usage
  bool fatal = false;    // nothing more can run (no node, connection lost, quit)
};

/// The console's side of one session: where the node is, the connection once made,
/// and how results are printed.
class session {
public:
  session(const admin_options& opts, bool numbered) : opts_(opts), numbered_(numbered) {}

  /// Finds the node unless found: exit_ok, or after saying why not exit_usage (a bad
  /// --connect) or exit_failed (nobody there, or not a node's admin port).
  int connect() {
    if (client_) return exit_ok;
    auto ep = net::parse_host_port(opts_.connect);
    if (!ep) {
      report_error("connect", "bad_arguments",
                   "--connect needs HOST:PORT with a port 1-65535, got '" + opts_.connect + "'",
                   0);
      return exit_usage;
    }
    // The node answers requests addressed to an IP (its guard against DNS rebinding).
    auto resolved = net::resolve_endpoints({opts_.connect}, nullptr);
    if (resolved.empty()) {
      report_error("connect", "connection", "cannot resolve '" + ep->host + "'", 0);
      return exit_failed;
    }
    node_ = resolved.front();
    http::client::options o;
    o.max_idle_per_host = 1;
    o.idle_expiry = std::chrono::minutes(10);
    auto client = http::client::create(o);
    http::client_request hello;
    hello.method = "GET";
    hello.target = std::string(admin::hello_path);
    hello.timeout = timeout();
    hello.follow_redirect = false;
    auto r = http::send_and_wait(*client, node_.host, node_.port, hello);
    if (!r.ok || !admin::is_hello(r.response.status, r.response.body)) {
      report_error("connect", "connection", connect_failure(r), 0);
      return exit_failed;
    }
    client_ = std::move(client);
    return exit_ok;
  }

  outcome run(const script_command& cmd) {
    const auto& name = cmd.words[0];
    strings args(cmd.words.begin() + 1, cmd.words.end());
    auto check = admin::check_command(name, args.size());
    if (check.status != admin::check_status::ok) {
      auto code = check.status == admin::check_status::unknown_command ? "unknown_command"
                                                                       : "bad_arguments";
      report_error(name, code, check.message, cmd.line);
      return {exit_usage, false};
    }
    const auto* info = admin::find_command(name);
    if (info->name == "quit") return {exit_ok, true};
    if (info->name == "help") return help(args);
    if (info->name == "ping" || info->name == "bootstrap") {
      if (auto bad = resolve_addresses(args)) {
        report_error(name, "bad_arguments", *bad, cmd.line);
        return {exit_usage, false};
      }
    }
    if (auto status = connect(); status != exit_ok) return {status, true};
    return ask(name, args, cmd.line);
  }

  const std::string& address() const { return opts_.connect; }

private:
  std::chrono::milliseconds timeout() const {
    return std::chrono::milliseconds(static_cast<std::int64_t>(opts_.timeout_s * 1000));
  }

  std::string connect_failure(const http::client_result& r) {
    if (!r.ok && r.error == http::client_errc::connect_failed)
      return "no node is listening for admin connections at " + opts_.connect +
             ". Is the node running? Its admin port is --admin-port (default 5700) on "
             "--admin-bind (default 127.0.0.1, or the node's --bind when that is loopback)";
    auto why = r.ok ? "it answered HTTP " + std::to_string(r.response.status)
                    : http::describe_failure(r);
    return "cannot talk to a node's admin port at " + opts_.connect + " (" + why +
           "): is that really a sova-dc node's --admin-port?";
  }

  /// ping and bootstrap take HOST:PORT; names are resolved here, not in the node's actor.
  static std::optional<std::string> resolve_addresses(strings& args) {
    for (auto& a : args) {
      std::vector<std::string> bad;
      auto eps = net::resolve_endpoints({a}, &bad);
      if (eps.empty())
        return "cannot resolve '" + a + "': give HOST:PORT with a port 1-65535";
      a = eps.front().to_string();
    }
    return std::nullopt;
  }

  outcome help(const strings& args) {
    std::string text;
    if (args.empty()) {
      text = admin::help_text();
    } else if (auto one = admin::help_text(args[0])) {
      text = *one;
    } else {
      report_error("help", "unknown_command", admin::check_command(args[0], 0).message, 0);
      return {exit_usage, false};
    }
    if (opts_.json)
      print_json("help", args, json{{"text", text}});
    else
      print_text(text.empty() || text.back() == '\n' ? text : text + "\n");
    return {};
  }

  outcome ask(const std::string& name, const strings& args, std::size_t line) {
    http::client_request req;
    req.target = std::string(admin::command_path);
    req.content_type = "application/json";
    req.body = admin::encode_call({name, args});
    req.timeout = timeout();
    req.follow_redirect = false;
    auto r = http::send_and_wait(*client_, node_.host, node_.port, std::move(req));
    if (!r.ok && r.error == http::client_errc::timeout) {
      report_error(name, "timeout",
                   "the node did not answer within " + fmt_seconds(opts_.timeout_s) +
                       " s (--timeout)",
                   line);
      return {exit_failed, false};
    }
    if (!r.ok) {
      report_error(name, "connection",
                   "lost the connection to the node at " + opts_.connect + " (" +
                       http::describe_failure(r) + ")",
                   line);
      return {exit_failed, true};
    }
    auto reply = admin::read_reply(r.response.status, r.response.body);
    if (!reply.ok) {
      report_error(name, reply.code, reply.message, line);
      bool usage = reply.code == "unknown_command" || reply.code == "bad_arguments";
      return {usage ? exit_usage : exit_failed, reply.code == "connection"};
    }
    auto result = json::parse(reply.result);
    if (opts_.json)
      print_json(name, args, result);
    else
      print_text(admin::render_text(result));
    return {};
  }

  static std::string fmt_seconds(double s) {
    std::ostringstream o;
    o << s;
    return o.str();
  }

  /// Results of several commands are set apart by a blank line.
  void print_text(const std::string& text) {
    if (printed_++ > 0) std::cout << "\n";
    std::cout << text << std::flush;
  }

  void print_json(const std::string& name, const strings& args, json result) {
    json line = {{"command", name}, {"args", args}, {"ok", true}, {"result", std::move(result)}};
    std::cout << line.dump() << "\n" << std::flush;
  }

  /// JSON mode: one object on stdout like every result; text: a line on stderr.
  void report_error(const std::string& name, const std::string& code, const std::string& message,
                    std::size_t line) {
    if (opts_.json) {
      json j = {{"command", name},
                {"ok", false},
                {"error", {{"code", code}, {"message", message}}}};
      if (numbered_ && line > 0) j["line"] = line;
      std::cout << j.dump() << "\n" << std::flush;
      return;
    }
    std::cerr << "error: ";
    if (numbered_ && line > 0) std::cerr << "line " << line << ": ";
    std::cerr << message << "\n";
  }

  const admin_options& opts_;
  bool numbered_;  // scripts from files and stdin: errors name their line
  net::endpoint node_;                   // --connect, resolved
  std::shared_ptr<http::client> client_;  // once the node answered the hello
  int printed_ = 0;
};

/// Runs a whole script; stops at the first failure unless --keep-going.
int run_script(session& s, const std::string& text, bool keep_going) {
  auto parsed = admin::parse_script(text);
  if (!parsed.error.empty()) {
    std::cerr << "error: " << parsed.error << "\n";
    return exit_usage;
  }
  int status = exit_ok;
  for (const auto& cmd : parsed.commands) {
    auto o = s.run(cmd);
    if (o.status != exit_ok && status == exit_ok) status = o.status;
    if (o.fatal || (o.status != exit_ok && !keep_going)) break;
  }
  return status;
}

// -- interactive ------------------------------------------------------------------

/// Candidates for the word being completed, given what precedes it on the line.
std::vector<std::string> candidates(const std::string& before, const std::string& word) {
  auto parsed = admin::parse_script(before);
  std::vector<std::string> words;
  if (parsed.error.empty() && !parsed.commands.empty() &&
      !(before.empty() || before.back() == ';' || before.back() == '\n'))
    words = parsed.commands.back().words;
  if (words.empty()) return admin::complete_command(word);
  std::vector<std::string> options;
  if (words[0] == "help" && words.size() == 1) return admin::complete_command(word);
  if (words[0] == "services" && words.size() == 1) options = {"asr", "tts"};
  if (words[0] == "log-level" && words.size() == 1)
    options = {"trace", "debug", "info", "warn", "error", "critical", "off"};
  std::vector<std::string> out;
  for (const auto& o : options)
    if (o.rfind(word, 0) == 0) out.push_back(o);
  return out;
}

std::vector<std::string> completion_matches;  // readline's generator protocol is stateful

char* next_match(const char*, int state) {
  static std::size_t next = 0;
  if (state == 0) next = 0;
  if (next >= completion_matches.size()) return nullptr;
  return ::strdup(completion_matches[next++].c_str());
}

char** complete(const char* text, int start, int) {
  rl_attempted_completion_over = 1;  // no file-name completion
  completion_matches = candidates(std::string(rl_line_buffer, static_cast<std::size_t>(start)), text);
  return rl_completion_matches(text, next_match);
}

std::string history_file() {
  const char* home = std::getenv("HOME");
  return home ? std::string(home) + "/.sova_dc_admin_history" : std::string{};
}

int run_interactive(session& s) {
  if (auto status = s.connect(); status != exit_ok) return status;
  std::cout << "connected to the node's admin port at " << s.address()
            << "; 'help' lists the commands, Tab completes them, Ctrl-D or 'quit' leaves\n";
  rl_readline_name = "sova-dc";
  rl_attempted_completion_function = complete;
  using_history();
  stifle_history(1000);
  auto history = history_file();
  if (!history.empty()) read_history(history.c_str());
  auto prompt = "sova-dc " + s.address() + "> ";
  int status = exit_ok;
  while (char* raw = readline(prompt.c_str())) {
    std::string line(raw);
    std::free(raw);
    if (line.find_first_not_of(" \t") == std::string::npos) continue;
    add_history(line.c_str());
    auto parsed = admin::parse_script(line);
    if (!parsed.error.empty()) {
      std::cerr << "error: " << parsed.error.substr(parsed.error.find(": ") + 2) << "\n";
      continue;
    }
    bool leave = false;
    for (const auto& cmd : parsed.commands) {
      auto o = s.run(cmd);
      status = o.status;
      if (o.fatal) {
        leave = true;
        break;
      }
    }
    if (leave) break;
  }
  if (!history.empty()) write_history(history.c_str());
  return status;
}

std::optional<std::string> read_all(std::istream& in) {
  std::string text{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  if (in.bad()) return std::nullopt;
  return text;
}

}  // namespace

admin_command add_admin_command(CLI::App& app) {
  admin_command a;
  a.options = std::make_shared<admin_options>();
  auto& o = *a.options;
  a.cmd = app.add_subcommand(
      "admin",
      "Console onto a running node: inspect and steer it interactively, or run commands "
      "from -c, --script or standard input ('sova-dc admin -c help' lists the commands)");
  a.cmd->add_option("--connect", o.connect, "The node's admin port, HOST:PORT")
      ->capture_default_str();
  auto* c = a.cmd->add_option("-c,--commands", o.commands,
                              "Commands to run, separated by ';' or newlines, then exit");
  a.cmd->add_option("--script", o.script, "A file of commands to run, then exit")
      ->check(CLI::ExistingFile)
      ->excludes(c);
  a.cmd->add_flag("--json", o.json,
                  "Print each result as one JSON object per line: "
                  "{\"command\",\"args\",\"ok\",\"result\"} or {\"command\",\"ok\":false,\"error\"}");
  a.cmd->add_flag("--keep-going", o.keep_going,
                  "Run the remaining commands after one fails (the exit status is still the "
                  "first failure's)");
  a.cmd->add_option("--timeout", o.timeout_s, "Seconds to wait for each command's answer")
      ->capture_default_str()
      ->check(CLI::Range(0.1, 3600.0));
  return a;
}

int run_admin(const admin_command& a) {
  const auto& o = *a.options;
  if (!o.commands.empty()) {
    session s{o, false};
    return run_script(s, o.commands, o.keep_going);
  }
  if (!o.script.empty()) {
    std::ifstream in(o.script);
    auto text = in ? read_all(in) : std::nullopt;
    if (!text) {
      std::cerr << "error: cannot read " << o.script << ": " << std::strerror(errno) << "\n";
      return exit_usage;
    }
    session s{o, true};
    return run_script(s, *text, o.keep_going);
  }
  if (!::isatty(STDIN_FILENO)) {
    auto text = read_all(std::cin);
    if (!text) {
      std::cerr << "error: cannot read standard input\n";
      return exit_usage;
    }
    session s{o, true};
    return run_script(s, *text, o.keep_going);
  }
  session s{o, false};
  return run_interactive(s);
}

}  // namespace sova::apps
