#pragma once
// The node's logs: human-readable lines by default, or one JSON object per line
// (--log-format json) for log collectors; and the one line every HTTP request gets.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <spdlog/formatter.h>

namespace sova::serving {

enum class log_format { text, json };

/// Logs to stderr (stdout carries command output that scripts read) at `level`
/// ("trace" ... "off") in `format`; also sets up the "request" logger.
void setup_logging(const std::string& level, log_format format = log_format::text);

/// {"time": "2026-11-24T10:00:00.123Z", "level": "info", "msg": "..."} per line; lines of
/// the "request" logger carry their fields as members instead of a message.
std::unique_ptr<spdlog::formatter> make_json_formatter();

/// One HTTP request as its log line tells it.
struct request_log_entry {
  std::string id;       // X-Request-Id, the client's or ours
  std::string method;
  std::string target;   // as received, query included
  std::string remote;   // "ip:port"
  std::string service;  // "asr", "tts", or the route: "healthz", "status", "metrics", "" if none
  unsigned status = 0;
  std::string error_code;  // "" when served; else the code of our error reply
  std::uint32_t attempts = 0;
  std::vector<std::string> backends;  // tried, in order
  double seconds = 0;
  std::size_t bytes_in = 0;
  std::size_t bytes_out = 0;
};

/// "request 4f1c... POST /synthesize from 127.0.0.1:5123: 200 via tts/cpu/10.0.0.5:8899 in
/// 12.3 ms, 1 attempt"
std::string request_log_text(const request_log_entry& e);
/// The same as one JSON object: request_id, method, path, remote, service, status, error,
/// attempts, backends, duration_ms, bytes_in, bytes_out.
std::string request_log_json(const request_log_entry& e);
/// Logs `e` once: 5xx as warn; ASR/TTS work and refusals as info; /healthz, /status and
/// /metrics answered 2xx as debug (probes and scrapes would drown the rest).
void log_request(const request_log_entry& e);

}  // namespace sova::serving
