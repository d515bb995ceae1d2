#pragma once
// The seed corpora, generated at build time (no binary files in the repository): the
// captured datagrams of the original network, and small hand-written examples.

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace sova::fuzz::seeds {

/// Writes <root>/<harness>/<name>.
class writer {
public:
  explicit writer(std::filesystem::path root) : root_(std::move(root)) {}
  void put(std::string_view harness, std::string_view name, std::string_view bytes) const;

private:
  std::filesystem::path root_;
};

/// One datagram of ../shared/protocol/kademlia-2.2.2-capture.jsonl.
struct datagram {
  bool is_response = false;
  std::string msg_id;  // 20 bytes
  std::string body;    // msgpack
  /// rpcudp's frame: 0x00 request / 0x01 response, message id, body.
  std::string frame() const;
};
/// Throws std::runtime_error on an unreadable file or a malformed line.
std::vector<datagram> read_capture(const std::filesystem::path& jsonl);

void wire_seeds(const writer& out, const std::vector<datagram>& capture);
void dht_seeds(const writer& out, const std::vector<datagram>& capture);
void http_seeds(const writer& out);
void body_seeds(const writer& out);     // multipart, json_check, sova_reply
void console_seeds(const writer& out);  // admin_script, node_state

}  // namespace sova::fuzz::seeds
