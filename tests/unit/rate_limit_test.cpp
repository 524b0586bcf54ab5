// The rate limiter on a manual clock, and the work pool's bounded queue.
#include "storefront/rate_limit.hpp"

#include <catch2/catch.hpp>
#include <future>

#include "storefront/work_pool.hpp"

using namespace cunhuo;
using namespace cunhuo::storefront;

TEST_CASE("a key is blocked after its events fill the window, until the window ends",
          "[rate-limit]") {
  ManualClock clock(1'790'000'000'000);
  RateLimiter limiter(RateLimit{.max_events = 3, .window_ms = 60'000}, clock);
  for (int i = 0; i < 3; ++i) CHECK_FALSE(limiter.take("10.0.0.1").has_value());
  clock.advance(std::chrono::milliseconds(20'000));
  CHECK(limiter.take("10.0.0.1") == std::optional<std::int64_t>(40));  // seconds left in the window
  CHECK_FALSE(limiter.take("10.0.0.2").has_value());                   // other keys are apart
  clock.advance(std::chrono::milliseconds(40'000));
  CHECK_FALSE(limiter.take("10.0.0.1").has_value());
}

TEST_CASE("blocked() counts nothing, record() counts, and reset() forgets", "[rate-limit]") {
  ManualClock clock(1'790'000'000'000);
  RateLimiter limiter(RateLimit{.max_events = 2, .window_ms = 1000}, clock);
  for (int i = 0; i < 5; ++i) CHECK_FALSE(limiter.blocked("13900000001").has_value());
  limiter.record("13900000001");
  limiter.record("13900000001");
  CHECK(limiter.blocked("13900000001") == std::optional<std::int64_t>(1));
  limiter.reset("13900000001");
  CHECK_FALSE(limiter.blocked("13900000001").has_value());
}

TEST_CASE("a limiter full of live keys refuses new keys instead of forgetting old counts",
          "[rate-limit]") {
  ManualClock clock(1'790'000'000'000);
  RateLimiter limiter(RateLimit{.max_events = 1, .window_ms = 1000}, clock);
  for (std::size_t i = 0; i < RateLimiter::kMaxKeys; ++i) limiter.record(std::to_string(i));
  CHECK(limiter.take("new").has_value());
  CHECK(limiter.blocked("0").has_value());  // an old count is still there
  clock.advance(std::chrono::milliseconds(1000));
  CHECK_FALSE(limiter.take("new").has_value());  // ended windows make room
}

TEST_CASE("a 429 says when to come back", "[rate-limit]") {
  auto r = too_many_requests(17, "slow down");
  CHECK(r.status == 429);
  REQUIRE(r.headers.size() == 1);
  CHECK(r.headers[0] == std::pair<std::string, std::string>{"Retry-After", "17"});
}

TEST_CASE("a work pool refuses work beyond its queue at once, and runs what it took",
          "[work-pool]") {
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  std::promise<void> started;
  std::atomic<int> ran{0};
  {
    WorkPool pool(1, 2);
    REQUIRE(pool.try_submit([&] {
      started.set_value();
      released.wait();
      ++ran;
    }));
    started.get_future().wait();  // the one thread is busy now
    CHECK(pool.try_submit([&] { ++ran; }));
    CHECK(pool.try_submit([&] { ++ran; }));
    CHECK_FALSE(pool.try_submit([&] { ++ran; }));  // the queue holds two
    release.set_value();
  }  // the destructor runs what was queued
  CHECK(ran == 3);
  CHECK(pool_full_response("busy").status == 503);
}
