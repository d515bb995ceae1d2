#include "net/node_state.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <limits>
#include <set>
#include <stdexcept>
#include <system_error>

#include <nlohmann/json.hpp>

namespace sova::net {

namespace {

using json = nlohmann::json;
// Keeps the members in the documented order, so the file reads top-down.
using ordered_json = nlohmann::ordered_json;

constexpr std::string_view format_name = "sova-dc node state";
constexpr std::int64_t format_version = 1;

std::nullopt_t refuse(std::string* why, std::string reason) {
  if (why) *why = std::move(reason);
  return std::nullopt;
}

/// The member `key` of object `obj`, or null when absent.
const json* member(const json& obj, const char* key) {
  auto it = obj.find(key);
  return it == obj.end() ? nullptr : &*it;
}

/// A JSON integer that fits int64 (not a float, not a string), else nothing.
std::optional<std::int64_t> as_int64(const json& v) {
  if (v.is_number_unsigned()) {
    auto u = v.get<std::uint64_t>();
    if (u > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()))
      return std::nullopt;
    return static_cast<std::int64_t>(u);
  }
  if (v.is_number_integer()) return v.get<std::int64_t>();
  return std::nullopt;
}

std::optional<node_id> as_id(const json* v) {
  if (!v || !v->is_string()) return std::nullopt;
  return node_id::from_hex(v->get_ref<const std::string&>());
}

// inet_pton stops at a NUL, so "10.0.0.2\0junk" would pass is_ip_literal alone.
bool valid_host(const std::string& host) {
  return host.find('\0') == std::string::npos && is_ip_literal(host);
}

/// Decodes one entry of "contacts"; `field` is its name in messages ("contacts[3]").
std::optional<contact> decode_contact(const json& c, const node_id& self,
                                      const std::string& field, std::string* why) {
  if (!c.is_object()) return refuse(why, field + ": not an object");
  auto id = as_id(member(c, "id"));
  if (!id) return refuse(why, field + ".id: not 40 hex digits");
  if (*id == self) return refuse(why, field + ".id: the node's own id");
  const json* host = member(c, "host");
  if (!host || !host->is_string() || !valid_host(host->get_ref<const std::string&>()))
    return refuse(why, field + ".host: not a numeric IP address");
  const json* port_value = member(c, "port");
  auto port = port_value ? as_int64(*port_value) : std::nullopt;
  if (!port || *port < 1 || *port > 65535)
    return refuse(why, field + ".port: not an integer in 1..65535");
  return contact{*id, endpoint{host->get<std::string>(), static_cast<std::uint16_t>(*port)}};
}

[[noreturn]] void fail(const std::string& path, const std::string& what, int err) {
  throw std::runtime_error(path + ": " + what + ": " +
                           std::error_code(err, std::generic_category()).message());
}

struct fd_guard {
  int fd = -1;
  ~fd_guard() {
    if (fd >= 0) ::close(fd);
  }
  /// Closes now, reporting the error (a deferred write error can surface here).
  int close() {
    int r = ::close(fd);
    fd = -1;
    return r;
  }
};

/// The directory part of `path` ("." for a bare name).
std::string dir_of(const std::string& path) {
  auto slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}

}  // namespace

std::string encode_node_state(const node_state& s) {
  // Writes only what decode accepts: one bad contact would otherwise make the whole
  // file unreadable, and the node would lose its id with it.
  ordered_json contacts = ordered_json::array();
  std::set<node_id> seen;
  for (const auto& c : s.contacts) {
    if (c.id == s.id || c.ep.port == 0 || !valid_host(c.ep.host) || !seen.insert(c.id).second)
      continue;
    ordered_json entry = ordered_json::object();
    entry["id"] = c.id.to_hex();
    entry["host"] = c.ep.host;
    entry["port"] = c.ep.port;
    contacts.push_back(std::move(entry));
  }
  ordered_json doc = ordered_json::object();
  doc["format"] = format_name;
  doc["version"] = format_version;
  doc["node_id"] = s.id.to_hex();
  doc["saved_at"] = s.saved_at_unix;
  doc["contacts"] = std::move(contacts);
  return doc.dump(2) + "\n";
}

std::optional<node_state> decode_node_state(std::string_view text, std::string* why) {
  auto doc = json::parse(text.begin(), text.end(), nullptr, false);
  if (doc.is_discarded()) return refuse(why, "not JSON");
  if (!doc.is_object()) return refuse(why, "not a JSON object");

  const json* format = member(doc, "format");
  if (!format || !format->is_string() || format->get_ref<const std::string&>() != format_name)
    return refuse(why, "format: not \"" + std::string(format_name) + "\"");
  const json* version = member(doc, "version");
  if (!version || as_int64(*version) != format_version)
    return refuse(why, "version: not " + std::to_string(format_version) +
                           (version ? " (found " + version->dump() + ")" : std::string()));

  node_state s;
  auto id = as_id(member(doc, "node_id"));
  if (!id) return refuse(why, "node_id: not 40 hex digits");
  s.id = *id;
  const json* saved_at = member(doc, "saved_at");
  auto seconds = saved_at ? as_int64(*saved_at) : std::nullopt;
  if (!seconds || *seconds < 0)
    return refuse(why, "saved_at: not a whole number of seconds since the epoch");
  s.saved_at_unix = *seconds;

  const json* contacts = member(doc, "contacts");
  if (!contacts || !contacts->is_array()) return refuse(why, "contacts: not an array");
  std::set<node_id> seen;
  for (std::size_t i = 0; i < contacts->size(); ++i) {
    auto c = decode_contact((*contacts)[i], s.id, "contacts[" + std::to_string(i) + "]", why);
    if (!c) return std::nullopt;
    if (seen.insert(c->id).second) s.contacts.push_back(std::move(*c));
  }
  return s;
}

std::string node_state_path(const std::string& dir) {
  if (!dir.empty() && dir.back() == '/') return dir + "node-state.json";
  return dir + "/node-state.json";
}

void write_file_atomically(const std::string& path, std::string_view content) {
  std::string dir = dir_of(path);
  if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST)
    fail(path, "cannot create directory " + dir, errno);

  // The temporary lives beside the target so that rename() stays within one filesystem.
  std::string temp = path + ".XXXXXX";
  fd_guard file{::mkostemp(temp.data(), O_CLOEXEC)};
  if (file.fd < 0) fail(path, "cannot create a temporary file", errno);
  struct unlink_guard {
    const std::string* name;
    ~unlink_guard() {
      if (name) ::unlink(name->c_str());
    }
  } remove_temp{&temp};

  while (!content.empty()) {
    ssize_t n = ::write(file.fd, content.data(), content.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      fail(path, "cannot write " + temp, errno);
    }
    content.remove_prefix(static_cast<std::size_t>(n));
  }
  if (::fsync(file.fd) != 0) fail(path, "cannot fsync " + temp, errno);
  if (file.close() != 0) fail(path, "cannot close " + temp, errno);
  if (::rename(temp.c_str(), path.c_str()) != 0) fail(path, "cannot rename " + temp, errno);
  remove_temp.name = nullptr;  // it is the target now

  // Without this the rename itself may not survive a crash.
  fd_guard d{::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC)};
  if (d.fd < 0) fail(path, "cannot open directory " + dir, errno);
  if (::fsync(d.fd) != 0) fail(path, "cannot fsync directory " + dir, errno);
}

std::optional<std::string> read_file_if_exists(const std::string& path) {
  fd_guard file{::open(path.c_str(), O_RDONLY | O_CLOEXEC)};
  if (file.fd < 0) {
    if (errno == ENOENT) return std::nullopt;
    fail(path, "cannot open", errno);
  }
  struct stat st {};
  if (::fstat(file.fd, &st) != 0) fail(path, "cannot stat", errno);
  if (S_ISDIR(st.st_mode)) fail(path, "cannot read", EISDIR);
  std::string out;
  char buf[65536];
  for (;;) {
    ssize_t n = ::read(file.fd, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      fail(path, "cannot read", errno);
    }
    if (n == 0) return out;
    out.append(buf, static_cast<std::size_t>(n));
  }
}

}  // namespace sova::net
