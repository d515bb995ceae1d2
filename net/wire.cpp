#include "net/wire.hpp"

#include <msgpack.hpp>

#include <exception>
#include <stdexcept>
#include <utility>

namespace sova::net::wire {

namespace {

using msgpack::object;

// ---------------------------------------------------------------------------
// Decoding. The schema checks throw `schema_error`; the public entry points
// catch it (and anything msgpack throws) and turn it into a decode_error, so
// nothing escapes to the caller.

struct schema_error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

[[noreturn]] void fail(const std::string& what) { throw schema_error(what); }

/// No body of the five RPCs nests deeper than request > args > value array.
constexpr std::size_t max_depth = 3;
constexpr std::size_t max_array = 1000;
constexpr std::size_t max_map = 16;
/// A datagram cannot be larger than this anyway.
constexpr std::size_t max_blob = 65535;
/// Longest textual IP we take from a peer (IPv6 with a zone fits easily).
constexpr std::size_t max_ip_text = 64;

/// The whole body must be exactly one msgpack object.
msgpack::object_handle unpack_body(std::string_view body) {
  const msgpack::unpack_limit limit(max_array, max_map, max_blob, max_blob, 0, max_depth);
  std::size_t off = 0;
  auto handle = msgpack::unpack(body.data(), body.size(), off, nullptr, nullptr, limit);
  if (off != body.size()) fail("trailing bytes after the msgpack object");
  return handle;
}

std::string type_name(const object& o) {
  switch (o.type) {
    case msgpack::type::NIL: return "nil";
    case msgpack::type::BOOLEAN: return "bool";
    case msgpack::type::POSITIVE_INTEGER:
    case msgpack::type::NEGATIVE_INTEGER: return "int";
    case msgpack::type::FLOAT32:
    case msgpack::type::FLOAT64: return "float";
    case msgpack::type::STR: return "str";
    case msgpack::type::BIN: return "bin";
    case msgpack::type::ARRAY: return "array";
    case msgpack::type::MAP: return "map";
    case msgpack::type::EXT: return "ext";
  }
  return "unknown";
}

void expect_type(const object& o, msgpack::type::object_type t, const char* what,
                 const char* wanted) {
  if (o.type != t) fail(std::string(what) + ": expected " + wanted + ", got " + type_name(o));
}

const object* expect_array(const object& o, std::size_t n, const char* what) {
  expect_type(o, msgpack::type::ARRAY, what, "array");
  if (o.via.array.size != n)
    fail(std::string(what) + ": expected " + std::to_string(n) + " elements, got " +
         std::to_string(o.via.array.size));
  return o.via.array.ptr;
}

/// Length of the UTF-8 sequence led by `c`, or 0 when `c` cannot lead one.
std::size_t utf8_length(unsigned char c) {
  if (c < 0x80) return 1;
  if (c >= 0xc2 && c <= 0xdf) return 2;
  if (c >= 0xe0 && c <= 0xef) return 3;
  if (c >= 0xf0 && c <= 0xf4) return 4;
  return 0;
}

/// Python decodes every msgpack str as strict UTF-8 and drops the whole message
/// when that fails, so we must never accept (and later forward) invalid text.
bool valid_utf8(std::string_view s) {
  for (std::size_t i = 0; i < s.size();) {
    auto c = static_cast<unsigned char>(s[i]);
    std::size_t n = utf8_length(c);
    if (n == 0 || i + n > s.size()) return false;
    // The second byte's range excludes overlongs, surrogates and > U+10FFFF.
    auto c1 = static_cast<unsigned char>(s[i + (n > 1 ? 1 : 0)]);
    unsigned lo = 0x80, hi = 0xbf;
    if (c == 0xe0) lo = 0xa0;
    if (c == 0xed) hi = 0x9f;
    if (c == 0xf0) lo = 0x90;
    if (c == 0xf4) hi = 0x8f;
    if (n > 1 && (c1 < lo || c1 > hi)) return false;
    for (std::size_t k = 2; k < n; ++k)
      if ((static_cast<unsigned char>(s[i + k]) & 0xc0) != 0x80) return false;
    i += n;
  }
  return true;
}

std::string as_text(const object& o, const char* what) {
  expect_type(o, msgpack::type::STR, what, "str");
  std::string s(o.via.str.ptr, o.via.str.size);
  if (!valid_utf8(s)) fail(std::string(what) + ": str is not valid UTF-8");
  return s;
}

node_id as_id(const object& o, const char* what) {
  expect_type(o, msgpack::type::BIN, what, "bin");
  auto id = node_id::from_bytes(std::string_view(o.via.bin.ptr, o.via.bin.size));
  if (!id)
    fail(std::string(what) + ": expected 20 bytes, got " + std::to_string(o.via.bin.size));
  return *id;
}

std::uint16_t as_port(const object& o, const char* what) {
  if (o.type == msgpack::type::NEGATIVE_INTEGER) fail(std::string(what) + ": negative port");
  expect_type(o, msgpack::type::POSITIVE_INTEGER, what, "int");
  if (o.via.u64 > 65535) fail(std::string(what) + ": port above 65535");
  return static_cast<std::uint16_t>(o.via.u64);
}

std::string as_ip(const object& o, const char* what) {
  auto ip = as_text(o, what);
  if (ip.empty() || ip.size() > max_ip_text)
    fail(std::string(what) + ": ip text of length " + std::to_string(ip.size()));
  return ip;
}

/// A stored value: one str, or an array of str (a merged set).
std::vector<std::string> as_values(const object& o, bool& as_array) {
  as_array = o.type == msgpack::type::ARRAY;
  if (!as_array) return {as_text(o, "value")};
  std::vector<std::string> out;
  out.reserve(o.via.array.size);
  for (std::uint32_t i = 0; i < o.via.array.size; ++i)
    out.push_back(as_text(o.via.array.ptr[i], "value element"));
  return out;
}

endpoint as_endpoint(const object* ip_and_port) {
  return endpoint{as_ip(ip_and_port[0], "ip"), as_port(ip_and_port[1], "port")};
}

contact as_contact(const object& o) {
  const object* f = expect_array(o, 3, "contact");
  return contact{as_id(f[0], "contact id"), as_endpoint(f + 1)};
}

std::vector<contact> as_contacts(const object& o) {
  expect_type(o, msgpack::type::ARRAY, "contact list", "array");
  std::vector<contact> out;
  out.reserve(o.via.array.size);
  for (std::uint32_t i = 0; i < o.via.array.size; ++i) out.push_back(as_contact(o.via.array.ptr[i]));
  return out;
}

std::size_t arg_count(rpc_kind k) {
  switch (k) {
    case rpc_kind::stun: return 0;
    case rpc_kind::ping: return 1;
    case rpc_kind::find_node:
    case rpc_kind::find_value: return 2;
    case rpc_kind::store: return 3;
  }
  return 0;
}

request as_request(const object& root) {
  const object* top = expect_array(root, 2, "request body");
  auto name = as_text(top[0], "function name");
  auto kind = rpc_kind_from_name(name);
  if (!kind) fail("unknown function '" + name + "'");
  request r;
  r.kind = *kind;
  const object* args = expect_array(top[1], arg_count(r.kind), (name + " args").c_str());
  if (r.kind == rpc_kind::stun) return r;
  r.sender = as_id(args[0], "sender id");
  if (r.kind == rpc_kind::ping) return r;
  r.key = as_id(args[1], "key");
  if (r.kind == rpc_kind::store) r.values = as_values(args[2], r.values_as_array);
  return r;
}

/// `{"value": V}` from find_value, else nothing (then it must be a contact list).
bool as_value_map(const object& o, reply& r) {
  if (o.type != msgpack::type::MAP) return false;
  if (o.via.map.size != 1) fail("find_value map: expected 1 entry");
  const auto& kv = o.via.map.ptr[0];
  if (as_text(kv.key, "find_value map key") != "value")
    fail("find_value map: key is not \"value\"");
  r.has_value = true;
  r.values = as_values(kv.val, r.values_as_array);
  return true;
}

reply as_reply(rpc_kind k, const object& o) {
  reply r;
  switch (k) {
    case rpc_kind::ping: r.id = as_id(o, "ping reply"); break;
    case rpc_kind::store:
      expect_type(o, msgpack::type::BOOLEAN, "store reply", "bool");
      r.stored = o.via.boolean;
      break;
    case rpc_kind::find_node: r.contacts = as_contacts(o); break;
    case rpc_kind::find_value:
      if (!as_value_map(o, r)) r.contacts = as_contacts(o);
      break;
    case rpc_kind::stun: r.observed = as_endpoint(expect_array(o, 2, "stun reply")); break;
  }
  return r;
}

/// Runs a decoder, turning every failure into nothing plus a reason.
template <class F>
auto guarded(decode_error* err, F&& decode) -> std::optional<decltype(decode())> {
  std::string why;
  try {
    return decode();
  } catch (const schema_error& e) {
    why = e.what();
  } catch (const std::exception& e) {
    why = std::string("msgpack: ") + e.what();
  } catch (...) {
    why = "unknown decoding failure";
  }
  if (err) err->what = std::move(why);
  return std::nullopt;
}

// ---------------------------------------------------------------------------
// Encoding: the byte choices of Python's msgpack (minimal headers, str for text,
// bin for ids), which msgpack-c's packer makes for these calls too.

class writer {
public:
  writer() : pk_(buf_) {}

  writer& array(std::size_t n) {
    pk_.pack_array(static_cast<std::uint32_t>(n));
    return *this;
  }
  writer& text(std::string_view s) {
    pk_.pack_str(static_cast<std::uint32_t>(s.size()));
    pk_.pack_str_body(s.data(), static_cast<std::uint32_t>(s.size()));
    return *this;
  }
  writer& id(const node_id& x) {
    pk_.pack_bin(static_cast<std::uint32_t>(node_id::size));
    pk_.pack_bin_body(reinterpret_cast<const char*>(x.bytes().data()), node_id::size);
    return *this;
  }
  writer& boolean(bool b) {
    pk_.pack(b);
    return *this;
  }
  writer& port(std::uint16_t p) {
    pk_.pack_uint16(p);
    return *this;
  }
  writer& value_map() {
    pk_.pack_map(1);
    return text("value");
  }
  /// One str when the set was a single str on the wire, else an array of str.
  writer& values(const std::vector<std::string>& vs, bool as_array) {
    if (!as_array && vs.size() == 1) return text(vs.front());
    array(vs.size());
    for (const auto& v : vs) text(v);
    return *this;
  }
  writer& endpoint_fields(const endpoint& ep) { return text(ep.host).port(ep.port); }
  writer& contacts(const std::vector<contact>& cs) {
    array(cs.size());
    for (const auto& c : cs) array(3).id(c.id).endpoint_fields(c.ep);
    return *this;
  }
  std::string str() const { return std::string(buf_.data(), buf_.size()); }

private:
  msgpack::sbuffer buf_;
  msgpack::packer<msgpack::sbuffer> pk_;
};

}  // namespace

const char* to_string(rpc_kind k) {
  switch (k) {
    case rpc_kind::ping: return "ping";
    case rpc_kind::store: return "store";
    case rpc_kind::find_node: return "find_node";
    case rpc_kind::find_value: return "find_value";
    case rpc_kind::stun: return "stun";
  }
  return "?";
}

std::optional<rpc_kind> rpc_kind_from_name(std::string_view name) {
  for (auto k : {rpc_kind::ping, rpc_kind::store, rpc_kind::find_node, rpc_kind::find_value,
                 rpc_kind::stun})
    if (name == to_string(k)) return k;
  return std::nullopt;
}

std::optional<frame> parse_frame(std::string_view datagram) {
  if (datagram.size() <= header_size) return std::nullopt;
  auto flag = static_cast<std::uint8_t>(datagram[0]);
  if (flag > 1) return std::nullopt;
  frame f;
  f.is_response = flag == 1;
  for (std::size_t i = 0; i < msg_id_size; ++i) f.id[i] = static_cast<std::uint8_t>(datagram[1 + i]);
  f.body = std::string(datagram.substr(header_size));
  return f;
}

std::string encode_frame(const frame& f) {
  std::string out;
  out.reserve(header_size + f.body.size());
  out.push_back(f.is_response ? '\x01' : '\x00');
  out.append(reinterpret_cast<const char*>(f.id.data()), f.id.size());
  out.append(f.body);
  return out;
}

std::optional<request> decode_request(std::string_view body, decode_error* err) {
  return guarded(err, [&] {
    // rpcudp never sends more, so a bigger body is not from a well-behaved peer.
    if (body.size() > max_request_body) fail("request body over 8192 bytes");
    auto handle = unpack_body(body);
    return as_request(handle.get());
  });
}

std::string encode_request(const request& r) {
  writer w;
  w.array(2).text(to_string(r.kind)).array(arg_count(r.kind));
  if (r.kind == rpc_kind::stun) return w.str();
  w.id(r.sender);
  if (r.kind == rpc_kind::ping) return w.str();
  w.id(r.key);
  if (r.kind == rpc_kind::store) w.values(r.values, r.values_as_array);
  return w.str();
}

std::optional<reply> decode_reply(rpc_kind k, std::string_view body, decode_error* err) {
  return guarded(err, [&] {
    auto handle = unpack_body(body);
    return as_reply(k, handle.get());
  });
}

std::string encode_reply(rpc_kind k, const reply& r) {
  writer w;
  switch (k) {
    case rpc_kind::ping: w.id(r.id); break;
    case rpc_kind::store: w.boolean(r.stored); break;
    case rpc_kind::find_node: w.contacts(r.contacts); break;
    case rpc_kind::find_value:
      if (r.has_value)
        w.value_map().values(r.values, r.values_as_array);
      else
        w.contacts(r.contacts);
      break;
    case rpc_kind::stun: w.array(2).endpoint_fields(r.observed); break;
  }
  return w.str();
}

}  // namespace sova::net::wire
