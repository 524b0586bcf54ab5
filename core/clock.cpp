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
  if (ms < 0) {
    ms += 1000;
    secs -= 1;
  }
  std::int64_t days = secs / 86400;
  std::int64_t sod = secs % 86400;
  if (sod < 0) {
    sod += 86400;
    days -= 1;
  }
  days += 719468;
  const std::int64_t era = (days >= 0 ? days : days - 146096) / 146097;
  const auto doe = static_cast<unsigned>(days - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  const unsigned d = doy - (153 * mp + 2) / 5 + 1;
  const unsigned m = mp < 10 ? mp + 3 : mp - 9;
  const std::int64_t y = static_cast<std::int64_t>(yoe) + era * 400 + (m <= 2 ? 1 : 0);
  return CivilTime{y,
                   m,
                   d,
                   static_cast<unsigned>(sod / 3600),
                   static_cast<unsigned>(sod % 3600 / 60),
                   static_cast<unsigned>(sod % 60),
                   static_cast<unsigned>(ms)};
}

// Howard Hinnant's days-from-civil: days since 1970-01-01.
std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d) {
  y -= m <= 2 ? 1 : 0;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const auto yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

constexpr std::int64_t kShanghaiOffsetMs = 8 * 3600 * 1000;

}  // namespace

LocalDate shanghai_date(std::int64_t epoch_ms) {
  CivilTime t = to_civil(epoch_ms + kShanghaiOffsetMs);
  return LocalDate{static_cast<int>(t.year), t.month, t.day};
}

std::int64_t shanghai_midnight_ms(LocalDate date) {
  return days_from_civil(date.year, date.month, date.day) * 86'400'000 - kShanghaiOffsetMs;
}

std::optional<LocalDate> parse_date(std::string_view text) {
  if (text.size() != 10 || text[4] != '-' || text[7] != '-') return std::nullopt;
  for (std::size_t i : {0, 1, 2, 3, 5, 6, 8, 9})
    if (text[i] < '0' || text[i] > '9') return std::nullopt;
  auto num = [&](std::size_t at, std::size_t n) {
    int v = 0;
    for (std::size_t i = at; i < at + n; ++i) v = v * 10 + (text[i] - '0');
    return v;
  };
  LocalDate date{num(0, 4), static_cast<unsigned>(num(5, 2)), static_cast<unsigned>(num(8, 2))};
  if (date.year < 2000 || date.month < 1 || date.month > 12 || date.day < 1) return std::nullopt;
  // A real date round-trips through the day count.
  if (shanghai_date(shanghai_midnight_ms(date)) != date) return std::nullopt;
  return date;
}

std::string format_date(LocalDate date) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02u", date.year, date.month, date.day);
  return buf;
}

TimePoint SystemClock::now() const {
  return std::chrono::time_point_cast<std::chrono::milliseconds>(std::chrono::system_clock::now());
}

std::string format_utc(std::int64_t epoch_ms) {
  CivilTime t = to_civil(epoch_ms);
  char buf[40];
  std::snprintf(buf, sizeof buf, "%04lld-%02u-%02uT%02u:%02u:%02u.%03uZ",
                static_cast<long long>(t.year), t.month, t.day, t.hour, t.minute, t.second,
                t.millis);
  return buf;
}

std::string format_shanghai(std::int64_t epoch_ms) {
  constexpr std::int64_t kOffsetMs = 8 * 3600 * 1000;
  CivilTime t = to_civil(epoch_ms + kOffsetMs);
  char buf[40];
  std::snprintf(buf, sizeof buf, "%04lld-%02u-%02uT%02u:%02u:%02u+08:00",
                static_cast<long long>(t.year), t.month, t.day, t.hour, t.minute, t.second);
  return buf;
}

}  // namespace cunhuo
