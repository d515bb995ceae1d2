// Seeds from the capture of the original network: whole frames for the codec, and the
// request bodies replayed from several peers for the routing table and record store.

#include <fstream>
#include <stdexcept>

#include <nlohmann/json.hpp>

#include "fuzz/seeds/seeds.hpp"

namespace sova::fuzz::seeds {

namespace {

std::string from_hex(const std::string& hex) {
  if (hex.size() % 2 != 0) throw std::runtime_error("odd hex length: " + hex);
  std::string out;
  for (std::size_t i = 0; i < hex.size(); i += 2)
    out += static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16));
  return out;
}

std::string le16(std::size_t n) {
  return {static_cast<char>(n & 0xff), static_cast<char>((n >> 8) & 0xff)};
}

/// One record of dht_state_fuzz: [op][seconds/8][host][op's bytes].
std::string record(char op, char tick, char host, const std::string& rest) {
  return std::string{op, tick, host} + rest;
}

/// op 0: a datagram's body, then whether a pinged full-bucket contact fails to answer.
std::string replay(const datagram& d, char tick, char host, bool fails) {
  return record(0, tick, host, le16(d.body.size()) + d.body + std::string(1, fails ? 1 : 0));
}

}  // namespace

std::string datagram::frame() const {
  return std::string(1, is_response ? '\x01' : '\x00') + msg_id + body;
}

std::vector<datagram> read_capture(const std::filesystem::path& jsonl) {
  std::ifstream in(jsonl);
  if (!in) throw std::runtime_error("cannot read " + jsonl.string());
  std::vector<datagram> out;
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    auto j = nlohmann::json::parse(line);
    datagram d;
    d.is_response = j.at("kind").get<std::string>() == "response";
    d.msg_id = from_hex(j.at("msg_id").get<std::string>());
    d.body = from_hex(j.at("body_hex").get<std::string>());
    if (d.msg_id.size() != 20) throw std::runtime_error("msg_id is not 20 bytes: " + line);
    out.push_back(std::move(d));
  }
  if (out.empty()) throw std::runtime_error(jsonl.string() + " holds no datagram");
  return out;
}

void wire_seeds(const writer& out, const std::vector<datagram>& capture) {
  for (std::size_t i = 0; i < capture.size(); ++i)
    out.put("wire_codec", "capture-" + std::to_string(i), capture[i].frame());
}

void dht_seeds(const writer& out, const std::vector<datagram>& capture) {
  std::string all, flood, churn;
  int n = 0;
  for (const auto& d : capture) {
    if (d.is_response) continue;
    ++n;
    all += replay(d, 1, static_cast<char>(1 + n % 11), false);
    flood += replay(d, 0, 3, n % 2 == 0);  // one address, no time passing: rate limits
    churn += replay(d, static_cast<char>(n * 7), static_cast<char>(1 + n % 5), n % 3 == 0);
    if (n % 4 == 0) churn += record(4, 30, 0, "");                  // expire
    if (n % 5 == 0) churn += record(2, 1, 0, std::string(1, n));    // a contact failed
  }
  out.put("dht_state", "capture-requests", all);
  out.put("dht_state", "capture-flood", flood);
  out.put("dht_state", "capture-churn", churn);

  // Without msgpack: contacts filling buckets, stores from several sources, lookups.
  std::string synthetic;
  for (int i = 0; i < 40; ++i)
    synthetic += record(1, 0, static_cast<char>(1 + i % 7),
                        std::string{static_cast<char>(i * 29), static_cast<char>(i)} + le16(4000 + i) +
                            std::string(1, i % 2));
  for (int i = 0; i < 12; ++i)
    synthetic += record(3, 2, static_cast<char>(1 + i % 4),
                        std::string{static_cast<char>(i % 3), 3, static_cast<char>(i), 
                                    static_cast<char>(i + 1), static_cast<char>(i + 2)});
  synthetic += record(5, 0, 0, std::string{1, 2, 4});
  synthetic += record(4, 100, 0, "");
  out.put("dht_state", "synthetic", synthetic);
}

}  // namespace sova::fuzz::seeds
