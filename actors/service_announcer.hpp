#pragma once
// The service announcer: this node's own backends (`--services`). At start and then every
// interval it probes each one with the request the original node used, which a real SOVA
// server answers cheaply (ASR: POST /asr with an empty form; TTS: POST /synthesize/ with
// {"text": "", "voice": "Natasha"}); alive means HTTP 200 with a reply of the service
// (http/backend_reply.hpp), so a backend entered at the wrong port is never announced.
// It stores the live ones in the DHT under sha1("asr/cpu") etc. A one-worker backend busy
// with this node's requests can leave a probe waiting past its timeout: while the pool
// says it has requests in flight or served one since the last probe (and its breaker is
// not open), it stays announced. A backend that stops answering is no longer announced,
// so its record expires from the network; one that does not answer (at start, or any
// time later) is probed again on a short backoff, so that it is announced within seconds
// of coming up.
//
// What it announces (announcer_config::announce): `backends`, each live backend's own
// address, as the original node did; or `node`, this node's HTTP endpoint
// ("tts/cpu/<node host>:<http port>"), one record per service/kind pair of --services
// while at least one backend of the pair is alive, so that other nodes (ours and the
// original Python ones) send the requests to this node, which owns the backends. The
// endpoint's address is decided by net/announce_address.hpp: --public-address, else the
// IP a peer sees this node from (asked with the `stun` RPC of a neighbour at start, and
// of a peer again while unknown, on the probes' backoff), else --bind; when none may be announced, the
// log and /status say why. The directory is told every endpoint announced, so that
// records naming this node stand for its own backends. With an owner (node mode), the
// announcer asks it instead of probing (announcer_peers::owner): the owner alone sends
// work and probes to its backends, a probe on a free slot of an idle backend only.

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <caf/fwd.hpp>
#include <caf/timespan.hpp>

#include "actors/interfaces.hpp"
#include "http/client.hpp"
#include "net/contact.hpp"

namespace sova::actors {

struct announcer_config {
  caf::timespan interval = std::chrono::seconds(30);  // probe and re-announce period
  // A backend that does not answer is probed again after this, then after twice as long,
  // and so on up to `interval`.
  caf::timespan first_retry = std::chrono::seconds(1);
  enum class what { node, backends };
  what announce = what::backends;  // the node's CLI default is node (--announce)
  std::string public_host;         // --public-address ("" when not given)
  std::uint16_t public_port = 0;   // its port (0: the HTTP port)
  std::string bind_host;           // --bind
  std::uint16_t http_port = 0;     // 0: told later (http_port_atom)
  std::vector<net::endpoint> neighbours;  // asked how they see this node (stun) at start
};

/// Where the announcer of node mode learns its address and its backends' liveness, and
/// says what it announced. Any of them may be invalid (no peers, no stun, nobody told,
/// no owner: the backends are probed straight).
struct announcer_peers {
  routing_table_actor table;
  rpc_transport_actor transport;
  service_directory_actor directory;
  owner_actor owner;
};

/// Probes one backend; `done` runs exactly once, on any thread.
using backend_probe = std::function<void(const service_record& backend,
                                         std::function<void(probe_verdict)> done)>;
/// The probe's request for `backend`'s service.
http::client_request probe_request(const service_record& backend,
                                   std::chrono::milliseconds timeout);
/// What a probe's exchange says of `backend`.
probe_verdict probe_verdict_of(const service_record& backend, const http::client_result& r);
/// The real probe over HTTP, each probe bounded by `timeout`.
backend_probe http_probe_over(std::shared_ptr<http::client> client,
                              std::chrono::milliseconds timeout);

/// `pool` (may be invalid: no busy rule) tells how the node's requests to its own
/// backends are going.
service_announcer_actor spawn_service_announcer(caf::actor_system& sys, announcer_config cfg,
                                                std::vector<service_record> own, dht_actor dht,
                                                backend_probe probe, backend_pool_actor pool = {},
                                                announcer_peers peers = {});

}  // namespace sova::actors
