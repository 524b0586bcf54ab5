#include <catch2/catch.hpp>

#include <atomic>
#include <thread>
#include <vector>

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

TEST_CASE("a manual clock moved by several threads while another reads it loses no step "
          "and never goes back", "[clock]") {
  cunhuo::ManualClock clock(0);
  constexpr int kMovers = 4, kSteps = 100'000;
  std::atomic<bool> went_back{false}, done{false};
  std::thread reader([&] {
    std::int64_t last = 0;
    while (!done.load()) {
      const std::int64_t now = clock.now_ms();
      if (now < last) went_back = true;
      last = now;
    }
  });
  std::vector<std::thread> movers;
  for (int t = 0; t < kMovers; ++t)
    movers.emplace_back([&] {
      for (int i = 0; i < kSteps; ++i) clock.advance(std::chrono::milliseconds(1));
    });
  for (auto& m : movers) m.join();
  done = true;
  reader.join();
  CHECK(clock.now_ms() == kMovers * kSteps);
  CHECK_FALSE(went_back.load());
}
