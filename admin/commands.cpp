#include "admin/commands.hpp"

#include <algorithm>
#include <array>
#include <utility>

namespace sova::admin {

namespace {

constexpr std::size_t max_list = 64;  // cap on repeated arguments (VALUE..., HOST:PORT...)

std::vector<command_info> make_catalogue() {
  return {
    {"help", "help [COMMAND]", "list the commands, or describe one in full",
     "Without an argument: every command with its usage and a one-line summary.\n"
     "With COMMAND: its usage, summary and these details.",
     0, 1, true},
    {"info", "info", "this node: id, endpoints, version, uptime, draining",
     "Prints the node id, the version, the UDP (DHT), HTTP and admin endpoints, the\n"
     "process id, the uptime, whether the node is draining and the bucket size k.",
     0, 0, false},
    {"peers", "peers", "the contacts in the routing table",
     "Prints how many contacts there are, then one row per contact: its node id and\n"
     "its UDP address.",
     0, 0, false},
    {"table", "table", "the routing table bucket by bucket",
     "One row per bucket: the id prefix (range) it covers, how many contacts and\n"
     "replacements (contacts waiting for a slot) it holds, how long it has been idle;\n"
     "then every contact and replacement with its bucket.",
     0, 0, false},
    {"records", "records [KEY]", "the records this node stores, with their expiry",
     "Without KEY: every record this node stores; with KEY: only those under KEY.\n"
     "One row per value: its key, the value and the seconds until it expires.",
     0, 1, false},
    {"services", "services [asr|tts]", "the backends the network offers, with their health",
     "For asr and tts (or only the one given): the backends the network offers, each\n"
     "with its health (circuit breaker state), requests in flight, latency and what\n"
     "answers at its address (peer: node, plain, unknown); then the backends this node\n"
     "announces itself, with their owner's queue (capacity, running, queued, wait_s).",
     0, 1, false},
    {"lookup", "lookup KEY", "an iterative DHT lookup of KEY",
     "Runs a node lookup for KEY and prints the closest nodes found (id, address),\n"
     "the number of rounds, the queries sent and the queries that failed.",
     1, 1, false},
    {"get", "get KEY", "the values stored under KEY in the network",
     "Looks KEY up and prints every value found under it, with the rounds and\n"
     "queries it took. Fails when the network holds no value for KEY.",
     1, 1, false},
    {"put", "put KEY VALUE [VALUE...]", "store values under KEY in the network",
     "Stores each VALUE under KEY on the nodes closest to KEY. The values are added\n"
     "to the set already there; they expire unless put again. Prints how many nodes\n"
     "were tried and stored them, and whether this node stored them too.",
     2, max_list, false},
    {"ping", "ping HOST:PORT", "a DHT ping: the node's id and round-trip time",
     "Sends a DHT ping to the node at HOST:PORT (its UDP port) and prints its node id\n"
     "and the round-trip time.",
     1, 1, false},
    {"bootstrap", "bootstrap HOST:PORT [HOST:PORT...]", "join (again) through these nodes",
     "Contacts each HOST:PORT (a node's UDP port), adds the nodes that answer to the\n"
     "routing table and looks up this node's own id to fill it. Prints how many\n"
     "contacts the table holds; fails when no node answered and the table is empty.",
     1, max_list, false},
    {"stats", "stats", "counters: DHT, records, directory, HTTP",
     "Prints the uptime and the counters: DHT datagrams and RPCs (sent, answered,\n"
     "timed out, dropped), stored records, the service directory, the backends and\n"
     "HTTP requests (served, rejected, refused while draining).",
     0, 0, false},
    {"log-level", "log-level [LEVEL]", "show or set the node's log level",
     "Without LEVEL: the current level. With LEVEL (trace, debug, info, warn, error,\n"
     "critical or off): sets it and prints the previous and the new level.",
     0, 1, false},
    {"drain", "drain", "stop taking new requests and announcing backends",
     "New requests are refused and this node's backends are no longer announced;\n"
     "requests in flight finish. Lasts until `undrain` or a restart. Prints the new\n"
     "and the previous state and the requests still in flight.",
     0, 0, false},
    {"undrain", "undrain", "take requests and announce backends again",
     "Ends `drain`: the node takes new requests and announces its backends again.",
     0, 0, false},
    {"quit", "quit", "leave the console (the node keeps running)",
     "Closes the console; the node is not affected. Alias: exit.", 0, 0, true},
  };
}

struct alias {
  std::string_view name;
  std::string_view target;
};
constexpr std::array<alias, 1> aliases{{{"exit", "quit"}}};

// Every name the console accepts: the commands, then the aliases.
std::vector<std::string_view> all_names() {
  std::vector<std::string_view> names;
  for (const auto& c : commands()) names.push_back(c.name);
  for (const auto& a : aliases) names.push_back(a.name);
  return names;
}

std::size_t levenshtein(std::string_view a, std::string_view b) {
  // One row of the classic table is enough.
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diagonal = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      std::size_t above = row[j];
      std::size_t substitute = diagonal + (a[i - 1] == b[j - 1] ? 0 : 1);
      row[j] = std::min({above + 1, row[j - 1] + 1, substitute});
      diagonal = above;
    }
  }
  return row[b.size()];
}

bool starts_with(std::string_view text, std::string_view prefix) {
  return text.substr(0, prefix.size()) == prefix;
}

std::optional<std::string_view> nearest_by_edits(std::string_view name) {
  std::optional<std::string_view> best;
  std::size_t best_distance = 3;  // suggest at most two edits away
  for (auto candidate : all_names()) {
    auto d = levenshtein(name, candidate);
    if (d < best_distance && d < name.size()) {
      best = candidate;
      best_distance = d;
    }
  }
  return best;
}

std::optional<std::string_view> unique_prefix_match(std::string_view name) {
  if (name.size() < 2) return std::nullopt;
  std::optional<std::string_view> found;
  for (auto candidate : all_names()) {
    if (!starts_with(candidate, name)) continue;
    if (found) return std::nullopt;  // ambiguous: suggesting one would be a guess
    found = candidate;
  }
  return found;
}

std::string plural(std::size_t n, std::string_view word) {
  std::string text = std::to_string(n) + " " + std::string(word);
  if (n != 1) text += "s";
  return text;
}

// "get takes 1 argument", "help takes at most 1 argument", "info takes no arguments".
std::string arity_text(const command_info& c) {
  std::string text = std::string(c.name) + " takes ";
  if (c.max_args == 0) return text + "no arguments";
  if (c.min_args == c.max_args) return text + plural(c.max_args, "argument");
  return text + "at most " + plural(c.max_args, "argument");
}

bool is_hex(std::string_view text) {
  return std::all_of(text.begin(), text.end(), [](char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
  });
}

}  // namespace

const std::vector<command_info>& commands() {
  static const std::vector<command_info> catalogue = make_catalogue();
  return catalogue;
}

const command_info* find_command(std::string_view name) {
  for (const auto& a : aliases)
    if (a.name == name) name = a.target;
  const auto& all = commands();
  auto it = std::find_if(all.begin(), all.end(), [&](const auto& c) { return c.name == name; });
  return it == all.end() ? nullptr : &*it;
}

std::optional<std::string_view> closest_command(std::string_view name) {
  if (name.empty()) return std::nullopt;
  if (auto near = nearest_by_edits(name)) return near;
  return unique_prefix_match(name);
}

std::vector<std::string> complete_command(std::string_view prefix) {
  std::vector<std::string> out;
  for (auto name : all_names())
    if (starts_with(name, prefix)) out.emplace_back(name);
  std::sort(out.begin(), out.end());
  return out;
}

check_result check_command(std::string_view name, std::size_t argc) {
  if (name.empty())
    return {check_status::unknown_command, "no command given; 'help' lists the commands"};
  const command_info* c = find_command(name);
  if (!c) {
    std::string message = "unknown command '" + std::string(name) + "'; ";
    if (auto near = closest_command(name))
      message += "did you mean '" + std::string(*near) + "'? ('help' lists the commands)";
    else
      message += "'help' lists the commands";
    return {check_status::unknown_command, std::move(message)};
  }
  std::string usage = "usage: " + std::string(c->usage);
  if (argc < c->min_args) return {check_status::bad_arguments, std::move(usage)};
  if (argc > c->max_args) {
    auto message = arity_text(*c) + ", got " + std::to_string(argc) + "; " + usage;
    return {check_status::bad_arguments, std::move(message)};
  }
  return {};
}

std::string help_text() {
  std::size_t width = 0;
  for (const auto& c : commands()) width = std::max(width, c.usage.size());
  width += 2;
  std::string out = "Commands ('help COMMAND' for details):\n";
  for (const auto& c : commands()) {
    out += c.usage;
    out.append(width - c.usage.size(), ' ');
    out += c.summary;
    out += '\n';
  }
  out += "KEY is text hashed with sha1 (asr/cpu) or 0x and 40 hex digits (a raw id).\n";
  out += "Separate commands with ';' or newlines.\n";
  return out;
}

std::optional<std::string> help_text(std::string_view name) {
  const command_info* c = find_command(name);
  if (!c) return std::nullopt;
  std::string out = "usage: " + std::string(c->usage) + "\n";
  out += std::string(c->summary) + "\n\n";
  out += std::string(c->details) + "\n";
  if (c->usage.find("KEY") != std::string_view::npos)
    out += "KEY: text hashed with sha1 (asr/cpu), or 0x and 40 hex digits for a raw id.\n";
  return out;
}

std::optional<net::node_id> parse_key(std::string_view text) {
  if (text.empty()) return std::nullopt;
  if (starts_with(text, "0x") || starts_with(text, "0X")) {
    auto hex = text.substr(2);
    if (!is_hex(hex)) return std::nullopt;
    return net::node_id::from_hex(hex);  // refuses anything but 40 digits
  }
  return net::node_id::digest(text);
}

}  // namespace sova::admin
