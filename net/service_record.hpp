#pragma once
// SOVA DC service records: "<service>/<backend>/<host>:<port>", e.g. "asr/cpu/10.0.0.5:8888",
// stored in the DHT under sha1("<service>/<backend>") (shared/PROTOCOL.md). The same
// syntax, with an optional capacity that is never announced, is what `--services` takes
// (net/owned_backend.hpp).

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "net/node_id.hpp"
#include "net/service_kind.hpp"

namespace sova::net {

struct service_record {
  net::service service = net::service::asr;
  net::kind kind = net::kind::cpu;
  std::string host;  // name or IP, as announced
  std::uint16_t port = 0;

  /// "asr/cpu": the text whose sha1 is the DHT key.
  std::string key_text() const { return net::key_text(service, kind); }
  node_id key() const { return node_id::digest(key_text()); }
  /// "asr/cpu/host:port": the DHT value.
  std::string to_string() const;
  /// "host:port" (IPv6 in brackets).
  std::string address() const;
  /// localhost, 127.0.0.0/8 or ::1: meaningless to other machines.
  bool is_loopback() const;

  friend bool operator==(const service_record& a, const service_record& b) {
    return a.port == b.port && a.host == b.host && a.kind == b.kind && a.service == b.service;
  }
  friend bool operator!=(const service_record& a, const service_record& b) { return !(a == b); }
  template <class Inspector>
  friend typename Inspector::result_type inspect(Inspector& f, service_record& x) {
    return f(x.service, x.kind, x.host, x.port);
  }
};

/// Strict parse: service asr|tts, backend cpu|gpu, a host, a port 1-65535. On failure
/// `error` says what is wrong with the entry.
std::optional<service_record> parse_service_record(std::string_view text,
                                                   std::string* error = nullptr);

}  // namespace sova::net
