#pragma once
// Every typed actor interface of a node, the atoms they use and the message types
// they exchange. One header so that the whole message graph reads in one place.

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <caf/allowed_unsafe_message_type.hpp>
#include <caf/atom.hpp>
#include <caf/error.hpp>
#include <caf/replies_to.hpp>
#include <caf/timespan.hpp>
#include <caf/typed_actor.hpp>

#include "http/reservation.hpp"
#include "net/contact.hpp"
#include "net/node_id.hpp"
#include "net/service_record.hpp"
#include "serving/backend_cell.hpp"

namespace sova::actors {

using net::contact;
using net::endpoint;
using net::node_id;
using strings = std::vector<std::string>;
using contacts = std::vector<contact>;
using node_ids = std::vector<node_id>;
using net::service_record;
using service_records = std::vector<service_record>;

// -- atoms (CAF 0.17: at most 10 characters) ---------------------------------

using datagram_atom = caf::atom_constant<caf::atom("datagram")>;
using ping_atom = caf::atom_constant<caf::atom("ping")>;
using store_atom = caf::atom_constant<caf::atom("store")>;
using find_node_atom = caf::atom_constant<caf::atom("find_node")>;
using find_value_atom = caf::atom_constant<caf::atom("find_val")>;
using stun_atom = caf::atom_constant<caf::atom("stun")>;
using call_timeout_atom = caf::atom_constant<caf::atom("call_tmo")>;
using local_atom = caf::atom_constant<caf::atom("local")>;
using stats_atom = caf::atom_constant<caf::atom("stats")>;
using tick_atom = caf::atom_constant<caf::atom("tick")>;
using seen_atom = caf::atom_constant<caf::atom("seen")>;
using remove_atom = caf::atom_constant<caf::atom("remove")>;
using closest_atom = caf::atom_constant<caf::atom("closest")>;
using handover_atom = caf::atom_constant<caf::atom("handover")>;
using stale_atom = caf::atom_constant<caf::atom("stale")>;
using table_atom = caf::atom_constant<caf::atom("table")>;
using run_atom = caf::atom_constant<caf::atom("run")>;
using bootstrap_atom = caf::atom_constant<caf::atom("bootstrap")>;
using lookup_atom = caf::atom_constant<caf::atom("lookup")>;
using dht_get_atom = caf::atom_constant<caf::atom("dht_get")>;
using dht_put_atom = caf::atom_constant<caf::atom("dht_put")>;
using subscribe_atom = caf::atom_constant<caf::atom("tsubscr")>;
using backends_atom = caf::atom_constant<caf::atom("backends")>;
using forward_atom = caf::atom_constant<caf::atom("forward")>;
using forwarded_atom = caf::atom_constant<caf::atom("forwarded")>;
using reserved_atom = caf::atom_constant<caf::atom("reserved")>;
using health_atom = caf::atom_constant<caf::atom("health")>;
using forwarders_atom = caf::atom_constant<caf::atom("fwders")>;
using half_open_atom = caf::atom_constant<caf::atom("half_open")>;
using announce_atom = caf::atom_constant<caf::atom("announce")>;
using probed_atom = caf::atom_constant<caf::atom("probed")>;
using reprobe_atom = caf::atom_constant<caf::atom("reprobe")>;
using services_atom = caf::atom_constant<caf::atom("services")>;
using buckets_atom = caf::atom_constant<caf::atom("buckets")>;
using records_atom = caf::atom_constant<caf::atom("records")>;
using drain_atom = caf::atom_constant<caf::atom("drain")>;
using admin_atom = caf::atom_constant<caf::atom("admin")>;
using failed_atom = caf::atom_constant<caf::atom("failed")>;
using known_backends_atom = caf::atom_constant<caf::atom("known_bknd")>;
using read_atom = caf::atom_constant<caf::atom("read")>;
using answer_atom = caf::atom_constant<caf::atom("answer")>;
using refused_atom = caf::atom_constant<caf::atom("refused")>;
using own_atom = caf::atom_constant<caf::atom("own")>;
using announced_atom = caf::atom_constant<caf::atom("announced")>;
using http_port_atom = caf::atom_constant<caf::atom("http_port")>;
using reserve_atom = caf::atom_constant<caf::atom("reserve")>;
using claim_atom = caf::atom_constant<caf::atom("claim")>;
using cancel_atom = caf::atom_constant<caf::atom("cancel")>;
using queue_atom = caf::atom_constant<caf::atom("queue")>;
using check_atom = caf::atom_constant<caf::atom("check")>;

// -- errors -------------------------------------------------------------------

enum class dht_errc : std::uint8_t {
  timeout = 1,     // the peer did not answer in time
  bad_reply,       // the peer answered something that is not a valid reply
  too_large,       // the request body is over rpcudp's 8192 bytes
  no_contacts,     // nobody to ask: the routing table is empty
  overloaded,      // too many calls of ours are waiting for answers already
  stopped,         // the transport stopped before the call ended
};
caf::error make_error(dht_errc x);
const char* to_string(dht_errc x);

/// Why an admin command failed; the error's context holds the message for the operator.
enum class admin_errc : std::uint8_t {
  unknown_command = 1,  // not a command of the catalogue (admin/commands.hpp)
  bad_arguments,        // wrong count, bad key, bad address, bad level
  failed,               // the operation ran and failed: not found, no answer, ...
  unavailable,          // a part of the node did not answer in time
};
caf::error make_error(admin_errc x, std::string message);
/// The code the admin port's error replies carry: "unknown_command", ...
const char* to_string(admin_errc x);
/// Human-readable text for any error, ours included.
std::string describe(const caf::error& e);

// -- message types ------------------------------------------------------------

/// The reply to a find_value call: the value set, or contacts closer to the key.
struct find_value_reply {
  bool found = false;
  strings values;
  contacts closer;
};
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, find_value_reply& x) {
  return f(caf::meta::type_name("find_value_reply"), x.found, x.values, x.closer);
}

/// What the routing table answers when a contact was seen.
struct seen_result {
  bool is_new = false;
  bool must_ping = false;  // the bucket is full: ping `candidate`, it goes if it fails
  contact candidate;
};
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, seen_result& x) {
  return f(caf::meta::type_name("seen_result"), x.is_new, x.must_ping, x.candidate);
}

/// The outcome of one iterative lookup.
struct lookup_result {
  node_id target;
  contacts closest;  // up to k contacts that answered, closest first
  bool found = false;
  strings values;  // find_value: merged set (our own local values first)
  std::uint32_t queries = 0;
  std::uint32_t failures = 0;
  std::uint32_t rounds = 0;
};
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, lookup_result& x) {
  return f(caf::meta::type_name("lookup_result"), x.target, x.closest, x.found, x.values,
           x.queries, x.failures, x.rounds);
}

/// The outcome of a put: on how many nodes the values landed.
struct put_result {
  std::uint32_t stored_remote = 0;  // peers that answered `true`
  std::uint32_t tried_remote = 0;   // peers asked
  bool stored_local = false;        // we are among the closest and hold it too
};
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, put_result& x) {
  return f(caf::meta::type_name("put_result"), x.stored_remote, x.tried_remote,
           x.stored_local);
}

/// Counters of the rpc transport (for logs, /metrics and the admin console).
struct transport_stats {
  std::uint64_t datagrams_in = 0;
  std::uint64_t datagrams_out = 0;
  std::uint64_t requests_in = 0;
  std::uint64_t replies_in = 0;
  std::uint64_t dropped_malformed = 0;    // not a frame, or a body that does not decode
  std::uint64_t dropped_unsolicited = 0;  // a reply to a call we never made (or late)
  std::uint64_t calls_sent = 0;
  std::uint64_t calls_timed_out = 0;
  std::uint64_t stores_accepted = 0;
  std::uint64_t stores_refused = 0;
  std::uint64_t records_keys = 0;
  std::uint64_t records_values = 0;
  std::uint64_t dropped_rate_limited = 0;   // requests over their address's rate
  std::uint64_t dropped_backlog = 0;        // datagrams that found the backlog full
  std::uint64_t replies_deferred = 0;       // held until the caller answered our ping
  std::uint64_t replies_withheld = 0;       // never sent: the caller did not answer
  std::uint64_t handovers = 0;              // newcomers given our keys
  std::uint64_t handovers_skipped = 0;      // over the hand-over rate
};
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, transport_stats& x) {
  return f(caf::meta::type_name("transport_stats"), x.datagrams_in, x.datagrams_out,
           x.requests_in, x.replies_in, x.dropped_malformed, x.dropped_unsolicited,
           x.calls_sent, x.calls_timed_out, x.stores_accepted, x.stores_refused,
           x.records_keys, x.records_values, x.dropped_rate_limited, x.dropped_backlog,
           x.replies_deferred, x.replies_withheld, x.handovers, x.handovers_skipped);
}

/// Counters of the service directory.
struct directory_stats {
  std::uint64_t requests = 0;
  std::uint64_t answered_from_cache = 0;  // no lookup waited on
  std::uint64_t lookups_started = 0;
  std::uint64_t lookups_failed = 0;
  std::uint64_t values_ignored = 0;  // malformed, wrong key, or loopback
  std::uint64_t keys_cached = 0;
};
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, directory_stats& x) {
  return f(caf::meta::type_name("directory_stats"), x.requests, x.answered_from_cache,
           x.lookups_started, x.lookups_failed, x.values_ignored, x.keys_cached);
}

/// The backends the directory holds for one DHT key ("asr/cpu") from its last lookup.
struct cached_key {
  std::string key;
  service_records backends;
};
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, cached_key& x) {
  return f(caf::meta::type_name("cached_key"), x.key, x.backends);
}

/// What the directory knows, read without side effects: its counters and every key a
/// lookup has answered, in key order.
struct directory_view {
  directory_stats stats;
  std::vector<cached_key> keys;
};
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, directory_view& x) {
  return f(caf::meta::type_name("directory_view"), x.stats, x.keys);
}

/// One attempt of a client request, as a forwarder sends it to its backend.
struct forward_request {
  net::service service = net::service::asr;  // asr: POST /asr; tts: POST /synthesize/
  std::string content_type;  // as the client sent it (ASR: multipart with its boundary)
  // As the client sent it. Moved in, never copied (CAF 0.17 does not copy a message sent
  // to one receiver): it comes back in forward_outcome::request_body for a retry.
  std::string body;
  caf::timespan timeout = std::chrono::seconds(30);  // this attempt, connect included
  std::string via;           // the Via header to send (http/hop_guard); "" for none
  // Late binding: the id of the reservation another node's owner granted for this job
  // (header Sova-Reservation, http/reservation.hpp); "" for none. Initialised, so that
  // aggregate inits of the fields above stay free of -Wmissing-field-initializers.
  std::string reservation = {};
};
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, forward_request& x) {
  return f(caf::meta::type_name("forward_request"), x.service, x.content_type, x.body, x.via,
           x.timeout, x.reservation);
}

/// How one attempt ended.
enum class forward_status : std::uint8_t {
  served,    // HTTP 200 with JSON of the service's shape: pass it to the client
  failed,    // connect error, timeout, broken HTTP: counts against the backend at once
  refused,   // the breaker is open: nothing was sent
  // The backend answered, but not with a reply of its service (another status, an HTML
  // page, the wrong shape). Retried elsewhere; since the request may be at fault (a real
  // SOVA TTS answers a body it cannot read with 500), it counts against the backend only
  // when another backend then serves the same request.
  unusable,
  // The backend said it is busy (429, or 503 with Retry-After): retried elsewhere, never
  // counted against it; it is left alone for the time it asked.
  busy,
};
const char* to_string(forward_status x);  // CAF serializes enums as their underlying type

struct forward_outcome {
  forward_status status = forward_status::failed;
  unsigned http_status = 0;  // when the backend answered
  std::string body;          // the backend's, byte for byte
  std::string reason;        // why it failed or was refused, for logs and 502 messages
  caf::timespan latency{0};
  caf::timespan retry_after{0};  // busy: how long the backend asked to be left alone
  bool timed_out = false;        // failed: the backend did not answer within the timeout
  // Set by this node's owner: the own backend that ran the job ("tts/cpu/127.0.0.1:8899").
  std::string backend;
  // The attempt's forward_request::body, given back on every path so that the sender
  // retries elsewhere without having kept a copy; lost only if the forwarder ends with
  // the attempt in flight (then the reply is a "forwarder stopped" failure or a CAF error).
  std::string request_body;
};
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, forward_outcome& x) {
  return f(caf::meta::type_name("forward_outcome"), x.status, x.http_status, x.body, x.reason,
           x.latency, x.retry_after, x.timed_out, x.backend, x.request_body);
}

/// Late binding (docs/owner-queue.md): an entry node asks an owner to hold a slot of one of
/// its backends for a job whose body it keeps; the owner answers when the slot is free.
struct reservation_request {
  std::string id;  // the entry node's, unique (http/reservation.hpp)
  net::service service = net::service::asr;
  net::wanted_kind wanted = net::wanted_kind::any;
  caf::timespan timeout = std::chrono::seconds(60);  // how long it may wait in the queue
  // At another node: the Via header the forwarder sends it with (http/hop_guard); "" for
  // none. Initialised, so that aggregate inits of the four fields above stay warning-free.
  std::string via = {};
  // At this node's owner: own backends ("tts/cpu/127.0.0.1:8899") an earlier attempt of the
  // request failed on, which its job must not go to again. Not sent to other nodes.
  strings avoid = {};
};
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, reservation_request& x) {
  return f(caf::meta::type_name("reservation_request"), x.id, x.service, x.wanted, x.timeout,
           x.via, x.avoid);
}

// granted, full, no_backend, expired, not_a_node, failed: defined with the wire that
// carries it (http/reservation.hpp), which reads an owner's HTTP answer into it.
using http::reservation_status;

struct reservation_answer {
  reservation_status status = reservation_status::failed;
  caf::timespan retry_after{0};  // full: how long the owner expects its queue to stay full
  std::string reason;            // not granted: why, for logs and 502/503 messages
};
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, reservation_answer& x) {
  return f(caf::meta::type_name("reservation_answer"), x.status, x.retry_after, x.reason);
}

/// One of this node's own backends as its owner's queue sees it now.
struct owned_backend_state {
  service_record backend;
  std::uint32_t capacity = 1;
  std::uint32_t running = 0;  // jobs on it, held reservations included
  std::uint64_t queued = 0;   // jobs waiting that it could serve
  double wait_s = 0;          // how long a job it could serve, offered now, would wait
  double service_s = 0;       // moving average of its service times
  bool up = true;             // down: it stopped answering; it gets probes, not jobs
  std::uint64_t served = 0;   // jobs it answered with a reply of its service
  std::uint64_t failed = 0;   // jobs that failed on it (timeouts included)
};
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, owned_backend_state& x) {
  return f(caf::meta::type_name("owned_backend_state"), x.backend, x.capacity, x.running,
           x.queued, x.wait_s, x.service_s, x.up, x.served, x.failed);
}
using owned_backend_states = std::vector<owned_backend_state>;

/// One k-bucket as the admin console shows it.
struct bucket_view {
  node_id prefix;                 // the ids whose first prefix_len bits equal prefix's
  std::uint32_t prefix_len = 0;
  contacts members;               // least recently seen first
  contacts replacements;          // oldest first
  std::int64_t idle_ms = 0;       // since the bucket last saw one of its contacts
};
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, bucket_view& x) {
  return f(caf::meta::type_name("bucket_view"), x.prefix, x.prefix_len, x.members,
           x.replacements, x.idle_ms);
}
using bucket_views = std::vector<bucket_view>;

/// One value of the local record store and when it expires unless stored again.
struct stored_value {
  node_id key;
  std::string value;
  std::int64_t expires_in_ms = 0;
};
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, stored_value& x) {
  return f(caf::meta::type_name("stored_value"), x.key, x.value, x.expires_in_ms);
}
using stored_values = std::vector<stored_value>;

/// The state of one of this node's own backends (`--services`), as the announcer sees it.
struct own_service {
  service_record backend;
  bool alive = false;           // answered the last probe, or is busy serving this node
  std::string last_error;       // why the last probe failed (also while kept as busy)
  std::uint64_t announcements = 0;  // puts that stored the record somewhere
};
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, own_service& x) {
  return f(caf::meta::type_name("own_service"), x.backend, x.alive, x.last_error,
           x.announcements);
}
using own_services = std::vector<own_service>;

// -- interfaces ----------------------------------------------------------------

/// Owns the datagram port and the record store: encodes and sends calls, matches
/// replies by message id, times calls out, answers the five RPCs.
using rpc_transport_actor = caf::typed_actor<
    // a datagram arrived from the network
    caf::reacts_to<datagram_atom, endpoint, std::string>,
    // outgoing calls; they fail with dht_errc::timeout after the rpc timeout
    caf::replies_to<ping_atom, endpoint>::with<node_id>,
    caf::replies_to<store_atom, contact, node_id, strings>::with<bool>,
    caf::replies_to<find_node_atom, contact, node_id>::with<contacts>,
    caf::replies_to<find_value_atom, contact, node_id>::with<find_value_reply>,
    caf::replies_to<stun_atom, endpoint>::with<endpoint>,
    // our own record store
    caf::replies_to<local_atom, node_id>::with<strings>,
    caf::replies_to<local_atom, store_atom, node_id, strings>::with<bool>,
    caf::replies_to<stats_atom>::with<transport_stats>,
    caf::replies_to<records_atom>::with<stored_values>,
    // internal: a call's timer ran out (message id as raw bytes); expiry tick
    caf::reacts_to<call_timeout_atom, std::string>,
    caf::reacts_to<tick_atom>>;

/// The k-buckets. Passive: it never sends, it answers.
using routing_table_actor = caf::typed_actor<
    caf::replies_to<seen_atom, contact>::with<seen_result>,
    caf::reacts_to<remove_atom, node_id>,
    // n closest to key; `exclude` (port 0: none) is the caller of a find_node
    caf::replies_to<closest_atom, node_id, std::uint32_t, contact>::with<contacts>,
    // which of `keys` a newly seen contact should be handed
    caf::replies_to<handover_atom, contact, node_ids>::with<node_ids>,
    // random ids in the buckets not refreshed lately (marks them refreshed)
    caf::replies_to<stale_atom>::with<node_ids>,
    caf::replies_to<table_atom>::with<contacts>,
    caf::replies_to<table_atom, buckets_atom>::with<bucket_views>>;

/// One iterative lookup; answers `run` once, then ends.
using lookup_actor = caf::typed_actor<caf::replies_to<run_atom>::with<lookup_result>>;

/// A node's DHT facade: bootstrap, lookups, put and get, periodic refresh.
using dht_actor = caf::typed_actor<
    caf::replies_to<bootstrap_atom, std::vector<endpoint>>::with<std::uint32_t>,
    caf::replies_to<lookup_atom, node_id>::with<lookup_result>,
    caf::replies_to<dht_get_atom, node_id>::with<lookup_result>,
    caf::replies_to<dht_put_atom, node_id, strings>::with<put_result>,
    caf::reacts_to<tick_atom>>;

/// For a service and the kind of backend wanted (cpu, gpu or any): the backends the
/// network offers, from a cache that background lookups keep fresh.
using service_directory_actor = caf::typed_actor<
    // a use of the keys: keeps them cached, looks up on a miss
    caf::replies_to<backends_atom, net::service, net::wanted_kind>::with<service_records>,
    caf::replies_to<stats_atom>::with<directory_stats>,
    // read-only, for /status, /metrics and the console: no use, no lookup
    caf::replies_to<known_backends_atom>::with<directory_view>,
    // this node's HTTP endpoints as it announced them ("host:port") and its own backends
    // alive now: records naming the endpoints stand for those backends, listed first
    caf::reacts_to<own_atom, strings, service_records>,
    caf::reacts_to<tick_atom>>;

/// One per backend address: sends attempts to it over a keep-alive pool, and writes its
/// backend's cell (in flight, latency EWMA, circuit breaker, counts).
using backend_forwarder_actor = caf::typed_actor<
    caf::replies_to<forward_atom, forward_request>::with<forward_outcome>,
    // late binding at a node endpoint: POST /v1/reservations, answered when the owner
    // grants the slot or refuses; DELETE /v1/reservations/<id> (nothing to answer)
    caf::replies_to<reserve_atom, reservation_request>::with<reservation_answer>,
    caf::reacts_to<cancel_atom, std::string>,
    // internal: a reservation's exchange completed (call id, the answer, and what answered
    // at the address: a node, a plain server, or unknown when nothing did)
    caf::reacts_to<reserved_atom, std::uint64_t, reservation_answer, serving::peer_kind>,
    // count a failure of this backend that happened outside this actor: an unusable
    // answer of an earlier attempt turned out to be the backend's fault (another backend
    // served the request)
    caf::reacts_to<failed_atom, std::string>,
    // internal: an HTTP exchange completed (call id); the breaker's pause ended
    caf::reacts_to<forwarded_atom, std::uint64_t, forward_outcome>,
    caf::reacts_to<half_open_atom>>;

/// A backend as its users reach it: the forwarder that sends to it and its cell.
struct backend_link {
  backend_forwarder_actor forwarder;
  std::shared_ptr<serving::backend_cell> cell;
};
using backend_links = std::vector<backend_link>;

/// The backend forwarder and cell of each address, created on first use.
using backend_pool_actor = caf::typed_actor<
    caf::replies_to<forwarders_atom, service_records>::with<backend_links>,
    // every cell, read now (/status, /metrics, the console, the announcer)
    caf::replies_to<health_atom>::with<serving::backend_readings>,
    // forget forwarders unused for a long time
    caf::reacts_to<tick_atom>>;

/// What a liveness probe of an own backend found.
struct probe_verdict {
  bool alive = false;      // HTTP 200 with a reply of its service
  bool timed_out = false;  // no answer within the probe timeout (a busy one-worker backend)
  std::string error;       // why not alive: what came back, or the transport failure
  unsigned workers = 0;    // the jobs it says it runs at once (Sova-Workers, capped at
                           // owned_backend::max_capacity by probe_verdict_of); 0: not said
};
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, probe_verdict& x) {
  return f(caf::meta::type_name("probe_verdict"), x.alive, x.timed_out, x.error, x.workers);
}

/// The owner of this node's own backends (--services, --announce node): the one place
/// that queues work for them (serving/owner_queue.hpp) and hands each at most its capacity
/// of jobs. Every job for an own backend goes through it.
using owner_actor = caf::typed_actor<
    // a job without a reservation (a request another node forwarded): queued, run on the
    // first free fitting backend, its one attempt's outcome answered
    caf::replies_to<run_atom, forward_request, net::wanted_kind>::with<forward_outcome>,
    // late binding: answered when a slot is held for the id, or at once when refused
    caf::replies_to<reserve_atom, reservation_request>::with<reservation_answer>,
    // the job of a granted reservation: run on the slot held for it
    caf::replies_to<claim_atom, std::string, forward_request>::with<forward_outcome>,
    // the entry node gave the reservation up: withdrawn if waiting, its slot freed if held
    caf::reacts_to<cancel_atom, std::string>,
    // an unusable answer of an own backend (named) turned out to be its fault: told to its
    // forwarder, as a request tells any other backend's
    caf::reacts_to<failed_atom, std::string, std::string>,
    // read-only, for /status, /metrics and the console
    caf::replies_to<queue_atom>::with<owned_backend_states>,
    // whether an own backend works, for the announcer: an idle one is probed on one of its
    // slots (no job waits behind the probe inside the backend), a busy one is alive, a
    // down one is not until the owner's probes bring it back
    caf::replies_to<check_atom, service_record>::with<probe_verdict>,
    // internal: a probe's verdict (backend index); the timer that finds hung jobs and
    // due probes
    caf::reacts_to<probed_atom, std::uint32_t, probe_verdict>,
    caf::reacts_to<tick_atom>>;

/// What this node announces in the DHT now, and where other nodes send its requests.
struct announce_view {
  std::string mode;      // "node": this node's HTTP endpoint; "backends": each backend's address
  std::string endpoint;  // node: the endpoint announced ("host:port"); "" when none
  std::string source;    // node: where it comes from: "public-address", "stun" or "bind"
  std::string why_none;  // node: why nothing is announced (for the log and /status)
  strings records;       // the values announced at the last round, "tts/cpu/host:port"
};
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, announce_view& x) {
  return f(caf::meta::type_name("announce_view"), x.mode, x.endpoint, x.source, x.why_none,
           x.records);
}

/// Probes this node's own backends and announces the live ones in the DHT, again and
/// again, so that a dead one expires from the network.
using service_announcer_actor = caf::typed_actor<
    caf::replies_to<services_atom>::with<own_services>,
    caf::replies_to<announced_atom>::with<announce_view>,
    // the node's HTTP port, once bound (--http-port 0 picks one)
    caf::reacts_to<http_port_atom, std::uint16_t>,
    // internal: node mode without an address yet: ask the peers again how they see the node
    caf::reacts_to<stun_atom>,
    // draining (true): keep probing, announce nothing, so that the records expire
    caf::reacts_to<drain_atom, bool>,
    // internal: time to probe and announce; a probe's answer (index, verdict); time to
    // probe again a backend that did not answer (index)
    caf::reacts_to<announce_atom>,
    caf::reacts_to<probed_atom, std::uint32_t, probe_verdict>,
    caf::reacts_to<reprobe_atom, std::uint32_t>>;

/// What the HTTP front end counts, for /status, /metrics and the console's `stats`.
struct http_counters {
  std::uint64_t requests = 0;
  std::uint64_t in_flight = 0;  // ASR/TTS requests not answered yet
  std::uint64_t rejected = 0;   // answered 4xx by the node itself
  std::uint64_t refused_draining = 0;
  bool draining = false;  // new ASR/TTS requests get 503, those in flight finish
};
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, http_counters& x) {
  return f(caf::meta::type_name("http_counters"), x.requests, x.in_flight, x.rejected,
           x.refused_draining, x.draining);
}

/// One HTTP request inside the front end (actors/http_frontend.cpp), handed from the
/// server's read to the front end and back from whoever answers it. Local only.
struct frontend_exchange;
using frontend_exchange_ptr = std::shared_ptr<frontend_exchange>;

/// The node's HTTP API (actors/http_frontend.hpp): the server hands it every request it
/// reads; it answers the cheap ones, and spawns a request actor for each ASR/TTS one.
using http_frontend_actor = caf::typed_actor<
    // drain (true) or undrain (false); answers whether it was draining
    caf::replies_to<drain_atom, bool>::with<bool>,
    caf::replies_to<stats_atom>::with<http_counters>,
    // internal: a request the server read; its reply, ready; the server refused one itself
    caf::reacts_to<read_atom, frontend_exchange_ptr>,
    caf::reacts_to<answer_atom, frontend_exchange_ptr>,
    caf::reacts_to<refused_atom>>;

/// The node's control surface for `sova-dc admin`, served on the admin port by
/// actors/admin_port.hpp. One message carries every command (name, arguments) and answers
/// one JSON object as text, or an admin_errc error, so that a console and a node of
/// different versions still talk and unknown commands fail cleanly.
using admin_actor =
    caf::typed_actor<caf::replies_to<admin_atom, std::string, strings>::with<std::string>>;

/// The one clock: sends `tick` to every subscriber at a fixed interval.
using refresh_timer_actor = caf::typed_actor<
    caf::reacts_to<subscribe_atom, caf::actor>,
    caf::reacts_to<tick_atom>>;

}  // namespace sova::actors

// Within one process only: a cell is shared, never sent over a network.
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(sova::actors::backend_links)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(sova::actors::frontend_exchange_ptr)
