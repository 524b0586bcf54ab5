#include "core/log.hpp"

#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/base_sink.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/sinks/stdout_sinks.h>

#include <ctime>
#include <mutex>

#include "core/json.hpp"
#include "core/privacy.hpp"

namespace cunhuo {
namespace {

thread_local std::string t_request_id = "-";

class RequestIdFlag final : public spdlog::custom_flag_formatter {
 public:
  void format(const spdlog::details::log_msg&, const std::tm&,
              spdlog::memory_buf_t& dest) override {
    dest.append(t_request_id.data(), t_request_id.data() + t_request_id.size());
  }
  std::unique_ptr<custom_flag_formatter> clone() const override {
    return std::make_unique<RequestIdFlag>();
  }
};

// One JSON object per line; the message is already redacted by the sink that wraps this.
class JsonFormatter final : public spdlog::formatter {
 public:
  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
    const auto ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(msg.time.time_since_epoch()).count();
    const std::time_t seconds = static_cast<std::time_t>(ms / 1000);
    std::tm utc{};
    gmtime_r(&seconds, &utc);
    char time[40];
    std::snprintf(time, sizeof time, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", utc.tm_year + 1900,
                  utc.tm_mon + 1, utc.tm_mday, utc.tm_hour, utc.tm_min, utc.tm_sec,
                  static_cast<int>(ms % 1000));
    const auto level = spdlog::level::to_string_view(msg.level);
    std::string line = "{\"time\":\"" + std::string(time) + "\",\"level\":\"" +
                       std::string(level.data(), level.size()) + "\",\"request_id\":";
    if (t_request_id == "-")
      line += "null";
    else
      append_json_string(line, t_request_id);
    line += ",\"message\":";
    append_json_string(line, std::string_view(msg.payload.data(), msg.payload.size()));
    line += "}\n";
    dest.append(line.data(), line.data() + line.size());
  }
  std::unique_ptr<spdlog::formatter> clone() const override {
    return std::make_unique<JsonFormatter>();
  }
};

// Masks personal data in the message before the wrapped sink formats it.
class RedactingSink final : public spdlog::sinks::base_sink<std::mutex> {
 public:
  explicit RedactingSink(spdlog::sink_ptr inner) : inner_(std::move(inner)) {}

 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override {
    std::string clean = redact(std::string_view(msg.payload.data(), msg.payload.size()));
    spdlog::details::log_msg copy = msg;
    copy.payload = clean;
    inner_->log(copy);
  }
  void flush_() override { inner_->flush(); }
  void set_pattern_(const std::string& pattern) override { inner_->set_pattern(pattern); }
  void set_formatter_(std::unique_ptr<spdlog::formatter> f) override {
    inner_->set_formatter(std::move(f));
  }

 private:
  spdlog::sink_ptr inner_;
};

}  // namespace

std::shared_ptr<spdlog::logger> make_logger(spdlog::sink_ptr inner, std::string_view level,
                                            LogFormat format) {
  if (format == LogFormat::json) {
    inner->set_formatter(std::make_unique<JsonFormatter>());
  } else {
    auto formatter = std::make_unique<spdlog::pattern_formatter>(spdlog::pattern_time_type::utc);
    formatter->add_flag<RequestIdFlag>('*').set_pattern("%Y-%m-%dT%H:%M:%S.%eZ %^%l%$ [%*] %v");
    inner->set_formatter(std::move(formatter));
  }
  auto logger = std::make_shared<spdlog::logger>("cunhuo", std::make_shared<RedactingSink>(inner));
  logger->set_level(spdlog::level::from_str(std::string(level)));
  logger->flush_on(spdlog::level::warn);
  return logger;
}

void init_logging(std::string_view level, LogFormat format) {
  // No colour codes inside JSON lines.
  spdlog::sink_ptr sink;
  if (format == LogFormat::json)
    sink = std::make_shared<spdlog::sinks::stderr_sink_mt>();
  else
    sink = std::make_shared<spdlog::sinks::stderr_color_sink_mt>();
  spdlog::set_default_logger(make_logger(sink, level, format));
}

void set_request_id(std::string_view id) { t_request_id = id.empty() ? "-" : std::string(id); }
const std::string& current_request_id() { return t_request_id; }

}  // namespace cunhuo
