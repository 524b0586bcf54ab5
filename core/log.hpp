// Logging through spdlog. Every line carries the current request id, and every
// message passes through redact() so personal data never reaches a log.
#pragma once

#include <spdlog/spdlog.h>

#include <string>
#include <string_view>

namespace cunhuo {

// How a line is written: text for a person at a terminal ("2026-11-25T00:41:26.123Z info
// [REQUEST-ID] message"), or one JSON object per line for a log collector (journald,
// Loki): {"time":"2026-11-25T00:41:26.123Z","level":"info","request_id":"..."|null,
// "message":"..."}.
enum class LogFormat { text, json };

// Installs the redacting stderr logger as spdlog's default. Safe to call again.
void init_logging(std::string_view level, LogFormat format = LogFormat::text);
// A logger that redacts every message and tags it with the request id, writing to `sink`.
std::shared_ptr<spdlog::logger> make_logger(spdlog::sink_ptr sink, std::string_view level,
                                            LogFormat format = LogFormat::text);

// The request id shown on log lines from this thread ("-" when none).
void set_request_id(std::string_view id);
const std::string& current_request_id();

// Sets the request id for a scope and restores the previous one after.
class RequestIdScope {
 public:
  explicit RequestIdScope(std::string_view id) : previous_(current_request_id()) {
    set_request_id(id);
  }
  ~RequestIdScope() { set_request_id(previous_); }
  RequestIdScope(const RequestIdScope&) = delete;
  RequestIdScope& operator=(const RequestIdScope&) = delete;

 private:
  std::string previous_;
};

}  // namespace cunhuo
