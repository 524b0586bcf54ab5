// Time comes from an injectable clock so tests can move it. The store keeps UTC as
// milliseconds since the Unix epoch; pages show Asia/Shanghai (UTC+8, no DST).
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace cunhuo {

using TimePoint = std::chrono::time_point<std::chrono::system_clock, std::chrono::milliseconds>;

class Clock {
 public:
  virtual ~Clock() = default;
  virtual TimePoint now() const = 0;
  std::int64_t now_ms() const { return now().time_since_epoch().count(); }
};

class SystemClock final : public Clock {
 public:
  TimePoint now() const override;
};

// A clock that only moves when told to; for tests and replays. A test moves it while the
// service's threads (housekeeping, the outbox dispatcher, request handlers) read it.
class ManualClock final : public Clock {
 public:
  explicit ManualClock(std::int64_t start_ms) : now_ms_(start_ms) {}
  TimePoint now() const override { return TimePoint(std::chrono::milliseconds(now_ms_.load())); }
  void advance(std::chrono::milliseconds by) { now_ms_ += by.count(); }

 private:
  std::atomic<std::int64_t> now_ms_;
};

// "2026-11-25T00:41:26.000Z"
std::string format_utc(std::int64_t epoch_ms);
// "2026-11-25T08:41:26+08:00"
std::string format_shanghai(std::int64_t epoch_ms);

// A calendar day in Asia/Shanghai: business days, bills and statement periods.
struct LocalDate {
  int year = 1970;
  unsigned month = 1, day = 1;
  auto operator<=>(const LocalDate&) const = default;
};
LocalDate shanghai_date(std::int64_t epoch_ms);
// 00:00 of `date` in Shanghai, in UTC milliseconds.
std::int64_t shanghai_midnight_ms(LocalDate date);
// "2026-11-25" → that date, or nothing when it is not a real date (2026-02-30).
std::optional<LocalDate> parse_date(std::string_view text);
std::string format_date(LocalDate date);

}  // namespace cunhuo
