// What a stream of hostile datagrams can do to a node's routing table and record store,
// without actors: each decoded request is applied as the transport applies it (learn the
// sender, store, answer find_node / find_value), mixed with the other events a node sees
// (a contact failing to answer, expiry, lookups), while the clock moves on. After every
// step the table and the store must still keep their documented bounds.
//
// Input: records of [op][seconds/8 to advance][source host][op's bytes...]; see
// fuzz/seeds/dht_seeds.cpp for how the seeds spell them.

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "fuzz/byte_reader.hpp"
#include "fuzz/check.hpp"
#include "net/record_store.hpp"
#include "net/routing_table.hpp"
#include "net/wire.hpp"

namespace {

using namespace sova::net;
using sova::fuzz::byte_reader;
using std::chrono::seconds;

// Small bounds, so that a short input reaches full buckets, splits, per-host refusals,
// full keys, source shares, rate limiting and expiry.
constexpr std::size_t k = 4;
constexpr std::size_t replacement_factor = 2;
constexpr std::size_t max_per_host = 6;
constexpr std::size_t hosts = 12;
constexpr seconds ttl{600};
/// Enough steps to fill and split buckets and keys; longer inputs mostly cost time.
constexpr int max_steps = 64;
/// The bounds are checked every few steps and at the end: a broken bound stays broken
/// (nothing repairs it), and checking after every step took most of the run time.
constexpr int check_every = 4;
/// Keys whose hand-over a new contact is checked for (the node checks all it holds).
constexpr std::size_t hand_over_keys = 4;

store_limits limits() {
  store_limits l;
  l.max_keys = 16;
  l.max_values_per_key = 8;
  l.max_values_per_source_per_key = 3;
  l.max_value_bytes = 64;
  l.stores_per_second = 1.0;
  l.store_burst = 20.0;
  l.max_tracked_sources = 6;
  return l;
}

enum class op : std::uint8_t { datagram, seen, remove, store, expire, lookup, count };

/// 0 is the node itself (its own stores carry no source); others are peers' addresses.
std::string host_of(std::uint8_t h) {
  h %= hosts;
  return h == 0 ? std::string() : "10.0.0." + std::to_string(h);
}

/// An id from two bytes: few enough distinct ids that contacts collide and buckets fill.
node_id small_id(std::uint8_t a, std::uint8_t b) {
  node_id::bytes_type raw{};
  raw[0] = a;
  for (std::size_t i = 1; i < raw.size(); ++i) raw[i] = static_cast<std::uint8_t>(b ^ (i * 37));
  return node_id(raw);
}

struct node {
  node_id self = small_id(0x5a, 0xa5);
  std::chrono::steady_clock::time_point now{};
  routing_table table{self, k, now, replacement_factor, max_per_host};
  record_store store{limits(), ttl};
  std::mt19937_64 rng{1};
};

// ---- properties ----

void check_table(const node& n) {
  std::set<node_id> ids;
  std::map<std::string, std::size_t> per_host;
  std::size_t contacts = 0;
  for (const auto& b : n.table.buckets()) {
    FUZZ_CHECK(b.contacts.size() <= k);
    FUZZ_CHECK(b.replacements.size() <= k * replacement_factor);
    contacts += b.contacts.size();
    for (const auto* list : {&b.contacts, &b.replacements})
      for (const auto& c : *list) {
        FUZZ_CHECK(b.covers(c.id));
        FUZZ_CHECK(c.id != n.self);
        FUZZ_CHECK(ids.insert(c.id).second);  // one entry per id, table and caches together
        ++per_host[c.ep.host];
      }
  }
  for (const auto& [host, count] : per_host) FUZZ_CHECK(count <= max_per_host);
  FUZZ_CHECK(n.table.size() == contacts);
  FUZZ_CHECK(n.table.all().size() == contacts);
}

/// The entry of `id`, in a bucket or its replacement cache.
const contact* entry_of(const routing_table& t, const node_id& id) {
  for (const auto& b : t.buckets())
    for (const auto* list : {&b.contacts, &b.replacements})
      for (const auto& c : *list)
        if (c.id == id) return &c;
  return nullptr;
}

void check_closest(const node& n, const node_id& key, std::size_t count, const contact* exclude) {
  auto got = n.table.closest(key, count, exclude);
  std::size_t eligible = 0;
  for (const auto& c : n.table.all())
    if (!exclude || (c.id != exclude->id && c.ep != exclude->ep)) ++eligible;
  FUZZ_CHECK(got.size() == std::min(count, eligible));
  for (std::size_t i = 0; i < got.size(); ++i) {
    if (exclude) FUZZ_CHECK(got[i].id != exclude->id && got[i].ep != exclude->ep);
    if (i > 0) FUZZ_CHECK(closer_to(key, got[i - 1].id, got[i].id));
  }
}

void check_store(const node& n) {
  const auto& l = n.store.limits();
  FUZZ_CHECK(n.store.key_count() <= l.max_keys);
  for (const auto& [key, held] : n.store.records()) {
    FUZZ_CHECK(held.size() <= l.max_values_per_key);
    std::set<std::string> values;
    std::map<std::string, std::size_t> per_source;
    for (const auto& h : held) {
      FUZZ_CHECK(h.value.size() <= l.max_value_bytes);
      FUZZ_CHECK(values.insert(h.value).second);
      if (!h.source.empty()) ++per_source[h.source];
    }
    for (const auto& [source, count] : per_source)
      FUZZ_CHECK(count <= l.max_values_per_source_per_key);
    if (auto live = n.store.get(key, n.now)) {
      FUZZ_CHECK(!live->empty());
      FUZZ_CHECK(std::set<std::string>(live->begin(), live->end()).size() == live->size());
    }
  }
}

// ---- what the node does ----

/// rpc_transport's learn(): add the sender; a full bucket's oldest contact is pinged and
/// removed when it does not answer (`fails`); a new contact is handed the keys it should hold.
void seen(node& n, const contact& c, bool fails) {
  auto r = n.table.add(c, n.now);
  if (!r.refused && c.id != n.self) {
    const contact* e = entry_of(n.table, c.id);
    FUZZ_CHECK(e != nullptr && e->ep == c.ep);  // present, with its current endpoint
  }
  if (r.ping_candidate && fails) {
    n.table.remove(r.ping_candidate->id);
    FUZZ_CHECK(entry_of(n.table, r.ping_candidate->id) == nullptr);
  }
  if (r.is_new) {
    auto keys = n.store.keys(n.now);
    keys.resize(std::min(keys.size(), hand_over_keys));
    for (const auto& key : keys) should_hand_over(n.self, c.id, key, n.table.closest(key, k, &c));
  }
}

void store(node& n, const node_id& key, const std::vector<std::string>& values,
           const std::string& source) {
  auto status = n.store.store(key, values, n.now, source);
  if (status != store_status::stored) return;
  auto live = n.store.get(key, n.now);
  FUZZ_CHECK(live.has_value());
  for (const auto& v : values) FUZZ_CHECK(std::count(live->begin(), live->end(), v) == 1);
}

/// The reply to a find: what the transport would encode must decode to the same contacts.
void answer_find(node& n, wire::rpc_kind kind, const node_id& key, const contact& from) {
  wire::reply rep;
  if (kind == wire::rpc_kind::find_value)
    if (auto values = n.store.get(key, n.now)) {
      rep.has_value = true;
      rep.values = std::move(*values);
    }
  if (!rep.has_value) {
    check_closest(n, key, k, &from);
    rep.contacts = n.table.closest(key, k, &from);
  }
  auto back = wire::decode_reply(kind, wire::encode_reply(kind, rep));
  FUZZ_CHECK(back && back->contacts == rep.contacts && back->values == rep.values);
}

void datagram(node& n, byte_reader& in, const std::string& host) {
  auto body = in.bytes(in.u16());
  auto req = wire::decode_request(body);
  if (!req) return;
  contact from{req->sender, endpoint{host.empty() ? "10.0.0.0" : host, 4000}};
  if (req->kind != wire::rpc_kind::stun) seen(n, from, in.u8() & 1);
  switch (req->kind) {
    case wire::rpc_kind::ping:
    case wire::rpc_kind::stun: break;
    case wire::rpc_kind::store: store(n, req->key, req->values, host); break;
    case wire::rpc_kind::find_node:
    case wire::rpc_kind::find_value: answer_find(n, req->kind, req->key, from); break;
  }
}

std::vector<std::string> values_from(byte_reader& in) {
  std::vector<std::string> out(in.u8() % 5);
  for (auto& v : out) {
    auto pick = in.u8();
    // Mostly a few shared names, so that refreshes and shares come up; sometimes raw bytes.
    v = pick < 240 ? "v" + std::to_string(pick % 24) : std::string(in.bytes(in.u8()));
  }
  return out;
}

void step(node& n, byte_reader& in) {
  auto what = static_cast<op>(in.u8() % static_cast<std::uint8_t>(op::count));
  n.now += seconds(8 * in.u8());
  auto host = host_of(in.u8());
  switch (what) {
    case op::datagram: datagram(n, in, host); break;
    case op::seen: {
      auto id = small_id(in.u8(), in.u8());
      seen(n, contact{id, endpoint{host.empty() ? "10.0.0.0" : host, in.u16()}}, in.u8() & 1);
      break;
    }
    case op::remove: {
      auto all = n.table.all();
      auto id = all.empty() ? small_id(in.u8(), in.u8()) : all[in.u8() % all.size()].id;
      n.table.remove(id);
      FUZZ_CHECK(entry_of(n.table, id) == nullptr);
      break;
    }
    case op::store: store(n, small_id(in.u8() % 24, 0), values_from(in), host); break;
    case op::expire:
      n.store.expire(n.now);
      for (const auto& [key, held] : n.store.records()) {
        FUZZ_CHECK(!held.empty());
        for (const auto& h : held) FUZZ_CHECK(h.expires > n.now);
      }
      break;
    case op::lookup: {
      auto key = small_id(in.u8(), in.u8());
      check_closest(n, key, in.u8() % (2 * k + 1), nullptr);
      // The refresh timer: a lookup for a random id in each stale bucket, which touches it.
      for (const auto& id : n.table.stale_bucket_ids(n.now, seconds(3600), n.rng)) {
        FUZZ_CHECK(n.table.buckets().end() !=
                   std::find_if(n.table.buckets().begin(), n.table.buckets().end(),
                                [&](const k_bucket& b) { return b.covers(id); }));
        n.table.touch(id, n.now);
      }
      break;
    }
    case op::count: break;
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  byte_reader in(data, size);
  node n;
  for (int i = 1; i <= max_steps && !in.empty(); ++i) {
    step(n, in);
    if (i % check_every == 0 || in.empty()) {
      check_table(n);
      check_store(n);
    }
  }
  return 0;
}
