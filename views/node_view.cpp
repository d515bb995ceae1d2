#include "views/node_view.hpp"

namespace sova::views {

const char* to_string(node_part part) {
  switch (part) {
    case node_part::routing_table: return "routing_table";
    case node_part::transport: return "transport";
    case node_part::directory: return "directory";
    case node_part::backend_pool: return "backend_pool";
    case node_part::announcer: return "announcer";
    case node_part::owner: return "owner";
  }
  return "unknown";
}

actors::service_records known_backends(const node_view& v, net::service service) {
  actors::service_records out;
  if (!v.directory) return out;
  for (auto kind : {net::kind::cpu, net::kind::gpu}) {
    auto key = net::key_text(service, kind);
    for (const auto& k : v.directory->keys)
      if (k.key == key) out.insert(out.end(), k.backends.begin(), k.backends.end());
  }
  return out;
}

const missing_part* missing(const node_view& v, node_part part) {
  for (const auto& m : v.unavailable)
    if (m.part == part) return &m;
  return nullptr;
}

}  // namespace sova::views
