#pragma once
// A node view as the fan-in would gather it, for the renderers' unit tests: one known TTS
// backend with a measured health (another node's endpoint), one known but untried, one own
// ASR backend with its owner's queue.

#include "views/node_view.hpp"

namespace sova::test {

inline net::service_record record(const std::string& text) {
  return *net::parse_service_record(text);
}

inline views::node_view sample_node_view() {
  views::node_view v;
  v.node_id = std::string(40, 'a');
  v.version = "1.2.3";
  v.udp_endpoint = "10.0.0.2:5678";
  v.http_endpoint = "10.0.0.2:5600";
  v.has_announcer = true;
  v.has_owner = true;
  v.routing_table_size = 7;
  auto id = [](char c) { return *net::node_id::from_hex(std::string(40, c)); };
  v.known_nodes = actors::contacts{{id('b'), {"10.0.0.3", 5678}}, {id('c'), {"10.0.0.4", 5679}}};
  actors::transport_stats t;
  t.datagrams_in = 11;
  t.calls_sent = 5;
  t.dropped_backlog = 2;
  v.transport = t;
  actors::directory_view d;
  d.stats.requests = 4;
  d.stats.lookups_started = 2;
  d.stats.keys_cached = 2;
  d.keys = {{"tts/cpu", {record("tts/cpu/10.0.0.5:8899")}},
            {"tts/gpu", {record("tts/gpu/10.0.0.6:8899")}}};
  v.directory = d;
  serving::backend_reading h;
  h.backend = record("tts/cpu/10.0.0.5:8899");
  h.breaker = serving::breaker_state::open;
  h.in_flight = 1;
  h.latency_ms = 250;
  h.served = 9;
  h.failed = 3;
  h.busy = 1;
  h.peer = serving::peer_kind::node;
  v.readings = serving::backend_readings{h};
  actors::own_service own;
  own.backend = record("asr/cpu/10.0.0.7:8888");
  own.alive = true;
  own.announcements = 6;
  v.own = actors::own_services{own};
  actors::owned_backend_state q;
  q.backend = own.backend;
  q.capacity = 2;
  q.running = 2;
  q.queued = 3;
  q.wait_s = 0.5;
  q.service_s = 0.25;
  q.up = true;
  q.served = 8;
  q.failed = 1;
  v.owned_queue = actors::owned_backend_states{q};
  v.http = views::frontend_counters{20, 2, 3, 1, false};
  return v;
}

}  // namespace sova::test
