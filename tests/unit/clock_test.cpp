#include <catch2/catch.hpp>

#include "core/clock.hpp"

TEST_CASE("times print in UTC and in Shanghai time", "[clock]") {
  // 2026-11-25T00:41:26.123Z
  const std::int64_t ms = 1795567286123;
  CHECK(cunhuo::format_utc(ms) == "2026-11-25T00:41:26.123Z");
  CHECK(cunhuo::format_shanghai(ms) == "2026-11-25T08:41:26+08:00");
  CHECK(cunhuo::format_utc(0) == "1970-01-01T00:00:00.000Z");
  CHECK(cunhuo::format_utc(951782400000) == "2000-02-29T00:00:00.000Z");
}

TEST_CASE("a manual clock moves only when told", "[clock]") {
  cunhuo::ManualClock clock(1000);
  CHECK(clock.now_ms() == 1000);
  clock.advance(std::chrono::seconds(2));
  CHECK(clock.now_ms() == 3000);
}
