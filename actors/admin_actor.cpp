#include "actors/admin_actor.hpp"

#include <unistd.h>

#include <algorithm>
#include <map>
#include <string_view>

#include <caf/actor_system.hpp>
#include <caf/send.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "actors/node_view_fan_in.hpp"
#include "admin/commands.hpp"
#include "views/console_json.hpp"

namespace sova::actors {

namespace {

using json = nlohmann::ordered_json;
using reply = caf::typed_response_promise<std::string>;
using caf_result = caf::result<std::string>;

struct admin_state {
  admin_sources src;
  caf::actor_clock::time_point started;  // the actor clock's, so that simulated time works in tests
  static inline const char* name = "admin";
};

using self_ptr = admin_actor::stateful_pointer<admin_state>;

double seconds_since(self_ptr self, caf::actor_clock::time_point t) {
  return std::chrono::duration<double>(self->clock().now() - t).count();
}

double ms_to_s(std::int64_t ms) { return static_cast<double>(ms) / 1000.0; }

caf::error failed(std::string message) { return make_error(admin_errc::failed, std::move(message)); }

caf::error bad_arguments(std::string message) {
  return make_error(admin_errc::bad_arguments, std::move(message));
}

/// The names the console has always given the node's parts.
const char* part_name(views::node_part part) {
  switch (part) {
    case views::node_part::routing_table: return "routing table";
    case views::node_part::transport: return "rpc transport";
    case views::node_part::directory: return "service directory";
    case views::node_part::backend_pool: return "backend pool";
    case views::node_part::announcer: return "service announcer";
    case views::node_part::owner: return "owner queue";
  }
  return "a part of the node";
}

/// Another actor of the node did not answer (or failed): say which and why.
caf::error part_unavailable(const std::string& part, const std::string& why) {
  return make_error(admin_errc::unavailable, part + " did not answer: " + why);
}

caf::error part_failed(const char* part, const caf::error& e) {
  return part_unavailable(part, describe(e));
}

std::optional<node_id> key_argument(const std::string& text, caf::error* err) {
  auto key = admin::parse_key(text);
  if (!key)
    *err = bad_arguments("bad KEY '" + text +
                         "': give text (hashed with sha1, like asr/cpu) or 0x and 40 hex digits");
  return key;
}

/// HOST:PORT with a numeric host: the console resolves names, since resolving here
/// would block the actor.
std::optional<endpoint> address_argument(const std::string& text, caf::error* err) {
  auto ep = net::parse_host_port(text);
  if (ep && net::is_ip_literal(ep->host)) return ep;
  *err = bad_arguments("bad address '" + text +
                       "': give HOST:PORT with a numeric IP address and a port 1-65535");
  return std::nullopt;
}

json contact_json(const contact& c) { return {{"id", c.id.to_hex()}, {"address", c.ep.to_string()}}; }

json contacts_json(const contacts& cs) {
  auto list = json::array();
  for (const auto& c : cs) list.push_back(contact_json(c));
  return list;
}

/// The first `len` bits of `prefix` as 0s and 1s ("" for the whole id space: "*").
std::string prefix_bits(const node_id& prefix, std::uint32_t len) {
  if (len == 0) return "*";
  std::string out;
  for (std::uint32_t i = 0; i < len; ++i) out += prefix.bit(i) ? '1' : '0';
  return out;
}

// -- the commands ---------------------------------------------------------------

/// Runs `then` with the HTTP front end's counters (none: no front end, or no answer).
template <class F>
void with_counters(self_ptr self, F then) {
  const auto& s = self->state.src;
  if (!s.frontend) return then(std::optional<http_counters>{});
  self->request(s.frontend, s.ask_timeout, stats_atom::value)
      .then([then](const http_counters& c) mutable { then(std::optional<http_counters>{c}); },
            [then](const caf::error&) mutable { then(std::optional<http_counters>{}); });
}

caf_result info(self_ptr self, const strings&) {
  auto rp = self->make_response_promise<std::string>();
  with_counters(self, [self, rp](std::optional<http_counters> c) mutable {
    const auto& s = self->state.src;
    auto admin_port = s.admin_port ? s.admin_port->load() : 0;
    json j = {{"id", s.node.node_id},
              {"version", s.node.version},
              {"udp", s.node.udp_endpoint},
              {"http", s.node.http_endpoint},
              {"admin", s.admin_host + ":" + std::to_string(admin_port)},
              {"pid", static_cast<long>(::getpid())},
              {"uptime_s", seconds_since(self, self->state.started)},
              {"draining", c && c->draining},
              {"k", s.k}};
    rp.deliver(j.dump());
  });
  return rp;
}

caf_result peers(self_ptr self, const strings&) {
  auto rp = self->make_response_promise<std::string>();
  self->request(self->state.src.node.table, self->state.src.ask_timeout, table_atom::value)
      .then(
          [rp](const contacts& cs) mutable {
            json j = {{"count", cs.size()}, {"peers", contacts_json(cs)}};
            rp.deliver(j.dump());
          },
          [rp](const caf::error& e) mutable { rp.deliver(part_failed("routing table", e)); });
  return rp;
}

caf_result table(self_ptr self, const strings&) {
  auto rp = self->make_response_promise<std::string>();
  const auto& s = self->state.src;
  self->request(s.node.table, s.ask_timeout, table_atom::value, buckets_atom::value)
      .then(
          [rp, self_id = s.node.node_id, k = s.k](const bucket_views& bs) mutable {
            auto buckets = json::array();
            auto members = json::array();
            std::size_t total = 0;
            for (std::size_t i = 0; i < bs.size(); ++i) {
              const auto& b = bs[i];
              buckets.push_back({{"bucket", i},
                                 {"prefix", prefix_bits(b.prefix, b.prefix_len)},
                                 {"contacts", b.members.size()},
                                 {"replacements", b.replacements.size()},
                                 {"idle_s", ms_to_s(b.idle_ms)}});
              total += b.members.size();
              for (const auto& c : b.members)
                members.push_back({{"bucket", i}, {"id", c.id.to_hex()},
                                   {"address", c.ep.to_string()}, {"replacement", false}});
              for (const auto& c : b.replacements)
                members.push_back({{"bucket", i}, {"id", c.id.to_hex()},
                                   {"address", c.ep.to_string()}, {"replacement", true}});
            }
            json j = {{"self", self_id}, {"k", k},        {"size", total},
                      {"buckets", std::move(buckets)},    {"contacts", std::move(members)}};
            rp.deliver(j.dump());
          },
          [rp](const caf::error& e) mutable { rp.deliver(part_failed("routing table", e)); });
  return rp;
}

caf_result records(self_ptr self, const strings& args) {
  std::optional<node_id> only;
  if (!args.empty()) {
    caf::error err;
    only = key_argument(args[0], &err);
    if (!only) return err;
  }
  auto rp = self->make_response_promise<std::string>();
  self->request(self->state.src.node.transport, self->state.src.ask_timeout, records_atom::value)
      .then(
          [rp, only](const stored_values& vs) mutable {
            auto list = json::array();
            std::map<node_id, int> keys;
            for (const auto& v : vs) {
              if (only && v.key != *only) continue;
              ++keys[v.key];
              list.push_back({{"key", v.key.to_hex()},
                              {"value", v.value},
                              {"expires_in_s", ms_to_s(v.expires_in_ms)}});
            }
            json j = {{"keys", keys.size()}, {"values", list.size()}, {"records", std::move(list)}};
            rp.deliver(j.dump());
          },
          [rp](const caf::error& e) mutable { rp.deliver(part_failed("record store", e)); });
  return rp;
}

/// Gathers a node view for a console command: the answer is `render`'s, or the error
/// of the first part `needed` says did not answer.
template <class Needed, class Render>
caf_result from_node_view(self_ptr self, Needed needed, Render render) {
  auto rp = self->make_response_promise<std::string>();
  with_counters(self, [self, rp, needed, render](std::optional<http_counters> c) mutable {
    const auto& s = self->state.src;
    gather_node_view(self, s.node, c, s.ask_timeout,
                     [rp, needed, render](views::node_view v) mutable {
                       if (const auto* m = needed(v))
                         rp.deliver(part_unavailable(part_name(m->part), m->reason));
                       else
                         rp.deliver(render(v).dump());
                     });
  });
  return rp;
}

caf_result services(self_ptr self, const strings& args) {
  std::vector<net::service> wanted{net::service::asr, net::service::tts};
  if (!args.empty()) {
    auto service = net::parse_service(args[0]);
    if (!service) return bad_arguments("unknown service '" + args[0] + "': give asr or tts");
    wanted = {*service};
  }
  return from_node_view(self, views::services_part_missing, [wanted](const views::node_view& v) {
    return views::services_json(v, wanted);
  });
}

json lookup_json(const node_id& key, const lookup_result& r) {
  return {{"key", key.to_hex()},   {"found", r.found},       {"closest", contacts_json(r.closest)},
          {"rounds", r.rounds},    {"queries", r.queries},   {"failures", r.failures}};
}

caf_result lookup(self_ptr self, const strings& args) {
  caf::error err;
  auto key = key_argument(args[0], &err);
  if (!key) return err;
  auto rp = self->make_response_promise<std::string>();
  self->request(self->state.src.dht, self->state.src.ask_timeout, lookup_atom::value, *key)
      .then([rp, key = *key](const lookup_result& r) mutable {
              auto j = lookup_json(key, r);
              j.erase("found");  // a node lookup finds nodes, not values
              rp.deliver(j.dump());
            },
            [rp](const caf::error& e) mutable { rp.deliver(failed("lookup: " + describe(e))); });
  return rp;
}

caf_result get(self_ptr self, const strings& args) {
  caf::error err;
  auto key = key_argument(args[0], &err);
  if (!key) return err;
  auto rp = self->make_response_promise<std::string>();
  self->request(self->state.src.dht, self->state.src.ask_timeout, dht_get_atom::value, *key)
      .then(
          [rp, key = *key, text = args[0]](const lookup_result& r) mutable {
            if (!r.found) {
              rp.deliver(failed("nothing is stored under '" + text + "' (" + key.to_hex() +
                                ") in the network; " + std::to_string(r.queries) +
                                " node(s) asked"));
              return;
            }
            json j = {{"key", key.to_hex()}, {"values", r.values}, {"rounds", r.rounds},
                      {"queries", r.queries}};
            rp.deliver(j.dump());
          },
          [rp](const caf::error& e) mutable { rp.deliver(failed("get: " + describe(e))); });
  return rp;
}

caf_result put(self_ptr self, const strings& args) {
  caf::error err;
  auto key = key_argument(args[0], &err);
  if (!key) return err;
  strings values(args.begin() + 1, args.end());
  auto rp = self->make_response_promise<std::string>();
  self->request(self->state.src.dht, self->state.src.ask_timeout, dht_put_atom::value, *key,
                values)
      .then(
          [rp, key = *key](const put_result& r) mutable {
            if (r.stored_remote == 0 && !r.stored_local) {
              rp.deliver(failed("nobody stored the value(s): " + std::to_string(r.tried_remote) +
                                " peer(s) asked (a value over 512 bytes or a full store is "
                                "refused)"));
              return;
            }
            json j = {{"key", key.to_hex()},
                      {"stored_remote", r.stored_remote},
                      {"tried_remote", r.tried_remote},
                      {"stored_local", r.stored_local}};
            rp.deliver(j.dump());
          },
          [rp](const caf::error& e) mutable { rp.deliver(failed("put: " + describe(e))); });
  return rp;
}

caf_result ping(self_ptr self, const strings& args) {
  caf::error err;
  auto ep = address_argument(args[0], &err);
  if (!ep) return err;
  auto rp = self->make_response_promise<std::string>();
  auto sent = self->clock().now();
  // The transport times the call out after the DHT's rpc timeout.
  self->request(self->state.src.node.transport, caf::infinite, ping_atom::value, *ep)
      .then(
          [self, rp, sent, ep = *ep](const node_id& id) mutable {
            auto rtt = std::chrono::duration<double, std::milli>(self->clock().now() - sent);
            json j = {{"address", ep.to_string()}, {"id", id.to_hex()}, {"rtt_ms", rtt.count()}};
            rp.deliver(j.dump());
          },
          [rp, ep = *ep](const caf::error& e) mutable {
            rp.deliver(failed("no answer from " + ep.to_string() + ": " + describe(e)));
          });
  return rp;
}

caf_result bootstrap(self_ptr self, const strings& args) {
  std::vector<endpoint> eps;
  for (const auto& a : args) {
    caf::error err;
    auto ep = address_argument(a, &err);
    if (!ep) return err;
    eps.push_back(*ep);
  }
  auto rp = self->make_response_promise<std::string>();
  self->request(self->state.src.dht, self->state.src.ask_timeout, bootstrap_atom::value, eps)
      .then(
          [rp](std::uint32_t known) mutable {
            if (known == 0) {
              rp.deliver(failed("no neighbour answered and the routing table is empty"));
              return;
            }
            rp.deliver(json{{"contacts", known}}.dump());
          },
          [rp](const caf::error& e) mutable { rp.deliver(failed("bootstrap: " + describe(e))); });
  return rp;
}

caf_result stats(self_ptr self, const strings&) {
  auto uptime = seconds_since(self, self->state.started);
  return from_node_view(self, views::stats_part_missing, [uptime](const views::node_view& v) {
    return views::stats_json(v, uptime);
  });
}

caf_result log_level(self_ptr, const strings& args) {
  // In spdlog's enum order, with the names --log-level takes ("warn", not "warning").
  static const strings names{"trace", "debug", "info", "warn", "error", "critical", "off"};
  auto old = names.at(static_cast<std::size_t>(spdlog::get_level()));
  if (args.empty()) return json{{"level", old}}.dump();
  auto it = std::find(names.begin(), names.end(), args[0]);
  if (it == names.end())
    return bad_arguments("unknown level '" + args[0] +
                         "': give trace, debug, info, warn, error, critical or off");
  spdlog::set_level(static_cast<spdlog::level::level_enum>(it - names.begin()));
  spdlog::info("log level set to {} by the admin console (was {})", args[0], old);
  return json{{"level", args[0]}, {"was", old}}.dump();
}

caf_result drain_command(self_ptr self, bool on) {
  const auto& s = self->state.src;
  auto rp = self->make_response_promise<std::string>();
  auto told = [self, rp, on](bool was) mutable {
    with_counters(self, [self, rp, on, was](std::optional<http_counters> c) mutable {
      auto in_flight = c ? c->in_flight : 0;
      if (was != on)
        spdlog::warn(on ? "draining (admin console): new requests are refused, {} in flight "
                          "finish"
                        : "undrained (admin console): taking requests again ({} in flight)",
                     in_flight);
      json j = {{"draining", on},
                {"was_draining", was},
                {"in_flight", in_flight},
                {"announcing", !on && static_cast<bool>(self->state.src.node.announcer)}};
      rp.deliver(j.dump());
    });
  };
  if (!s.frontend) {
    if (s.node.announcer) self->send(s.node.announcer, drain_atom::value, on);
    told(false);
    return rp;
  }
  ask_drain(self, s.frontend, s.node.announcer, on, s.ask_timeout)
      .then([told](bool was) mutable { told(was); },
            [rp](const caf::error& e) mutable { rp.deliver(part_failed("HTTP front end", e)); });
  return rp;
}

caf_result drain(self_ptr self, const strings&) { return drain_command(self, true); }
caf_result undrain(self_ptr self, const strings&) { return drain_command(self, false); }

using handler = caf_result (*)(self_ptr, const strings&);

const std::map<std::string_view, handler>& handlers() {
  static const std::map<std::string_view, handler> all{
      {"info", info},       {"peers", peers},         {"table", table}, {"records", records},
      {"services", services}, {"lookup", lookup},     {"get", get},     {"put", put},
      {"ping", ping},       {"bootstrap", bootstrap}, {"stats", stats}, {"log-level", log_level},
      {"drain", drain},     {"undrain", undrain}};
  return all;
}

caf_result run(self_ptr self, const std::string& name, const strings& args) {
  auto check = admin::check_command(name, args.size());
  if (check.status == admin::check_status::unknown_command)
    return make_error(admin_errc::unknown_command, check.message);
  if (check.status == admin::check_status::bad_arguments)
    return bad_arguments(check.message);
  const auto* cmd = admin::find_command(name);
  auto it = handlers().find(cmd->name);
  if (cmd->local || it == handlers().end())
    return make_error(admin_errc::unknown_command,
                      "'" + name + "' runs in the console, not on the node");
  spdlog::debug("admin: {} {}", name, fmt::join(args, " "));
  return it->second(self, args);
}

admin_actor::behavior_type admin_behavior(self_ptr self, admin_sources src) {
  self->state.src = std::move(src);
  self->state.started = self->clock().now();
  return {
      [=](admin_atom, const std::string& name, const strings& args) {
        return run(self, name, args);
      },
  };
}

}  // namespace

admin_actor spawn_admin(caf::actor_system& sys, admin_sources sources) {
  return sys.spawn(admin_behavior, std::move(sources));
}

}  // namespace sova::actors
