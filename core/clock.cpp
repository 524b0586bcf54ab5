#include "core/clock.hpp"

#include <cstdio>

namespace cunhuo {
namespace {

struct CivilTime {
  std::int64_t year;
  unsigned month, day, hour, minute, second, millis;
};

// Days-from-civil inverse (Howard Hinnant's algorithm), valid for the proleptic Gregorian calendar.
CivilTime to_civil(std::int64_t epoch_ms) {
  std::int64_t ms = epoch_ms % 1000;
  std::int64_t secs = epoch_ms / 1000;
  if (ms < 0) { ms += 1000; secs -= 1; }
  std::int64_t days = secs / 86400;
  std::int64_t sod = secs % 86400;
  if (sod < 0) { sod += 86400; days -= 1; }
  days += 719468;
  const std::int64_t era = (days >= 0 ? days : days - 146096) / 146097;
  const auto doe = static_cast<unsigned>(days - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  const unsigned d = doy - (153 * mp + 2) / 5 + 1;
  const unsigned m = mp < 10 ? mp + 3 : mp - 9;
  const std::int64_t y = static_cast<std::int64_t>(yoe) + era * 400 + (m <= 2 ? 1 : 0);
  return CivilTime{y, m, d, static_cast<unsigned>(sod / 3600), static_cast<unsigned>(sod % 3600 / 60),
                   static_cast<unsigned>(sod % 60), static_cast<unsigned>(ms)};
}

}  // namespace

TimePoint SystemClock::now() const {
  return std::chrono::time_point_cast<std::chrono::milliseconds>(std::chrono::system_clock::now());
}

std::string format_utc(std::int64_t epoch_ms) {
  CivilTime t = to_civil(epoch_ms);
  char buf[40];
  std::snprintf(buf, sizeof buf, "%04lld-%02u-%02uT%02u:%02u:%02u.%03uZ", static_cast<long long>(t.year), t.month,
                t.day, t.hour, t.minute, t.second, t.millis);
  return buf;
}

std::string format_shanghai(std::int64_t epoch_ms) {
  constexpr std::int64_t kOffsetMs = 8 * 3600 * 1000;
  CivilTime t = to_civil(epoch_ms + kOffsetMs);
  char buf[40];
  std::snprintf(buf, sizeof buf, "%04lld-%02u-%02uT%02u:%02u:%02u+08:00", static_cast<long long>(t.year), t.month,
                t.day, t.hour, t.minute, t.second);
  return buf;
}

}  // namespace cunhuo
