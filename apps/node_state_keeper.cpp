#include "apps/node_state_keeper.hpp"

#include <cstdio>
#include <ctime>

#include <caf/actor_system.hpp>
#include <caf/scoped_actor.hpp>
#include <spdlog/spdlog.h>

namespace sova::apps {

std::optional<net::node_state> load_node_state(const std::string& dir) {
  auto path = net::node_state_path(dir);
  auto text = net::read_file_if_exists(path);
  if (!text) return std::nullopt;
  std::string why;
  auto state = net::decode_node_state(*text, &why);
  if (state) return state;
  auto aside = path + ".bad-" + std::to_string(std::time(nullptr));
  if (std::rename(path.c_str(), aside.c_str()) != 0) aside = "(could not move it aside)";
  spdlog::error("{} is damaged ({}): starting with a new id; the file is kept as {}", path, why,
                aside);
  return std::nullopt;
}

node_state_keeper::node_state_keeper(std::string dir, net::node_id id,
                                     std::vector<net::contact> saved)
    : dir_(std::move(dir)), id_(id), last_(std::move(saved)) {}

bool node_state_keeper::save(caf::actor_system& sys, const actors::routing_table_actor& table) {
  const auto& dir = dir_;
  net::node_state state;
  state.id = id_;
  state.saved_at_unix = std::time(nullptr);
  caf::scoped_actor self{sys};
  bool asked = false;
  self->request(table, std::chrono::seconds(5), actors::table_atom::value)
      .receive([&](const actors::contacts& cs) {
                 state.contacts = cs;
                 asked = true;
               },
               [&](const caf::error& e) {
                 spdlog::warn("saving the node state: the routing table did not answer ({})",
                              sys.render(e));
               });
  if (!asked) return false;
  if (state.contacts.empty())
    state.contacts = last_;
  else
    last_ = state.contacts;
  try {
    net::write_file_atomically(net::node_state_path(dir), net::encode_node_state(state));
  } catch (const std::exception& e) {
    spdlog::warn("saving the node state: {}", e.what());
    return false;
  }
  spdlog::debug("node state saved to {} ({} contacts)", net::node_state_path(dir),
                state.contacts.size());
  return true;
}

}  // namespace sova::apps
