#include "serving/logging.hpp"

#include <atomic>
#include <cmath>
#include <ctime>

#include <nlohmann/json.hpp>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

namespace sova::serving {

namespace {

using json = nlohmann::ordered_json;

// Set once at start; log_request reads it on every request.
std::atomic<bool> json_lines{false};

constexpr const char* request_logger = "request";
// Set by setup_logging before any thread starts; without it requests go to the default.
std::shared_ptr<spdlog::logger> request_sink;

/// A JSON string of `s`; bytes that are not UTF-8 become U+FFFD instead of throwing.
std::string quoted(std::string_view s) {
  return json(std::string(s)).dump(-1, ' ', false, json::error_handler_t::replace);
}

void append(spdlog::memory_buf_t& dest, std::string_view s) { dest.append(s.data(), s.data() + s.size()); }

class json_formatter final : public spdlog::formatter {
public:
  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
    append(dest, "{\"time\": \"");
    append(dest, utc_time(msg.time));
    append(dest, "\", \"level\": \"");
    auto level = spdlog::level::to_string_view(msg.level);
    append(dest, std::string_view(level.data(), level.size()));
    append(dest, "\", ");
    std::string_view payload(msg.payload.data(), msg.payload.size());
    std::string_view logger(msg.logger_name.data(), msg.logger_name.size());
    // The request logger's payload is already a JSON object (request_log_json): its
    // members go in as they are, so collectors can filter on status or backend.
    if (logger == request_logger && payload.size() >= 2 && payload.front() == '{') {
      append(dest, "\"msg\": \"request\", ");
      append(dest, payload.substr(1));
    } else {
      append(dest, "\"msg\": ");
      append(dest, quoted(payload));
      append(dest, "}");
    }
    append(dest, "\n");
  }
  std::unique_ptr<spdlog::formatter> clone() const override {
    return std::make_unique<json_formatter>();
  }

private:
  /// ISO 8601 in UTC with milliseconds; the second's text is cached (many lines share it).
  std::string_view utc_time(spdlog::log_clock::time_point t) {
    auto secs = std::chrono::time_point_cast<std::chrono::seconds>(t);
    if (secs != cached_second_) {
      std::time_t tt = spdlog::log_clock::to_time_t(secs);
      std::tm tm{};
      gmtime_r(&tt, &tm);
      std::strftime(cached_text_, sizeof cached_text_, "%Y-%m-%dT%H:%M:%S", &tm);
      cached_second_ = secs;
    }
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(t - secs).count();
    std::snprintf(text_, sizeof text_, "%s.%03dZ", cached_text_, static_cast<int>(ms));
    return text_;
  }
  std::chrono::time_point<spdlog::log_clock, std::chrono::seconds> cached_second_{};
  char cached_text_[32] = {};
  char text_[40] = {};
};

std::string duration_ms(double seconds) { return fmt::format("{:.1f}", seconds * 1000); }

bool is_work(const std::string& service) { return service == "asr" || service == "tts"; }

}  // namespace

std::unique_ptr<spdlog::formatter> make_json_formatter() {
  return std::make_unique<json_formatter>();
}

void setup_logging(const std::string& level, log_format format) {
  auto sink = std::make_shared<spdlog::sinks::stderr_color_sink_mt>();
  auto main = std::make_shared<spdlog::logger>("sova-dc", sink);
  auto requests = std::make_shared<spdlog::logger>(request_logger, sink);
  json_lines = format == log_format::json;
  for (const auto& l : {main, requests}) {
    if (json_lines)
      l->set_formatter(make_json_formatter());
    else
      l->set_pattern("%Y-%m-%d %H:%M:%S.%e %^%-5l%$ %v");
    l->set_level(spdlog::level::from_str(level));
  }
  // Registered, so that spdlog::set_level (the admin's log-level) reaches it too.
  spdlog::drop(request_logger);
  spdlog::register_logger(requests);
  request_sink = requests;
  spdlog::set_default_logger(main);
}

std::string request_log_text(const request_log_entry& e) {
  auto out = fmt::format("request {} {} {} from {}: {}", e.id, e.method, e.target, e.remote,
                         e.status);
  if (!e.error_code.empty()) out += " " + e.error_code;
  if (!e.backends.empty())
    out += fmt::format(" via {}", fmt::join(e.backends, ","));
  out += " in " + duration_ms(e.seconds) + " ms";
  if (is_work(e.service))
    out += fmt::format(", {} attempt{}", e.attempts, e.attempts == 1 ? "" : "s");
  return out;
}

std::string request_log_json(const request_log_entry& e) {
  json j;
  j["request_id"] = e.id;
  j["method"] = e.method;
  j["path"] = e.target;
  j["remote"] = e.remote;
  j["service"] = e.service;
  j["status"] = e.status;
  j["error"] = e.error_code;
  j["attempts"] = e.attempts;
  j["backends"] = e.backends;
  j["duration_ms"] = std::round(e.seconds * 1e4) / 10;  // 0.1 ms
  j["bytes_in"] = e.bytes_in;
  j["bytes_out"] = e.bytes_out;
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

void log_request(const request_log_entry& e) {
  auto level = e.status >= 500                         ? spdlog::level::warn
               : is_work(e.service) || e.status >= 400 ? spdlog::level::info
                                                       : spdlog::level::debug;
  auto* logger = request_sink ? request_sink.get() : spdlog::default_logger_raw();
  if (!logger->should_log(level)) return;  // formatted only when it is written
  logger->log(level, json_lines ? request_log_json(e) : request_log_text(e));
}

}  // namespace sova::serving
