// The bounded cache behind the open statistics: entries expire, and memory stays bounded
// whatever keys clients send.
#include <catch2/catch.hpp>

#include "storefront/ttl_cache.hpp"

using namespace cunhuo;
using cunhuo::storefront::TtlCache;

TEST_CASE("a cached answer is served until its time is up", "[cache]") {
  ManualClock clock(1'000);
  TtlCache<int> cache(clock, 60'000, 4);
  cache.put("620621/12", 7);
  clock.advance(std::chrono::milliseconds(59'999));
  CHECK(cache.get("620621/12") == 7);
  clock.advance(std::chrono::milliseconds(1));
  CHECK_FALSE(cache.get("620621/12").has_value());
}

TEST_CASE("a full cache drops expired entries first, then the one expiring soonest", "[cache]") {
  ManualClock clock(1'000);
  TtlCache<int> cache(clock, 60'000, 2);
  cache.put("a", 1);
  clock.advance(std::chrono::milliseconds(10));
  cache.put("b", 2);
  cache.put("c", 3);  // full: "a" expires soonest and goes
  CHECK_FALSE(cache.get("a").has_value());
  CHECK(cache.get("b") == 2);
  CHECK(cache.get("c") == 3);
  for (int i = 0; i < 1000; ++i) cache.put("k" + std::to_string(i), i);
  CHECK(cache.get("k999") == 999);
  CHECK(cache.get("k998") == 998);
  CHECK_FALSE(cache.get("b").has_value());
}
