#pragma once
// The handles of a node's long-lived actors and the facts about it that /status, /metrics,
// /v1/models, the view fan-in and the admin actor need: one named struct, so that none of
// them includes the HTTP front end to get at it.

#include <string>

#include "actors/interfaces.hpp"

namespace sova::actors {

struct node_handles {
  std::string node_id;       // hex
  std::string udp_endpoint;  // "127.0.0.2:5678"
  std::string http_endpoint;
  std::string version;
  routing_table_actor table;
  service_directory_actor directory;
  backend_pool_actor pool;
  service_announcer_actor announcer;  // invalid when the node has no --services
  rpc_transport_actor transport;      // DHT statistics (/metrics, the admin's stats)
  owner_actor owner;  // the own backends' queue; invalid without --services or with --announce backends
};

}  // namespace sova::actors
