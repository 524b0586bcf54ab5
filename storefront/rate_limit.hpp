// A counter of events per key (a phone, a client address) in fixed windows, on an
// injected clock. Reusable for any route that must not be tried without limit: logins,
// code requests, anonymous objections.
#pragma once

#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

#include "core/clock.hpp"
#include "storefront/http.hpp"

namespace cunhuo::storefront {

struct RateLimit {
  int max_events = 0;          // events a key may have in one window
  std::int64_t window_ms = 0;  // a window starts at a key's first event
};

class RateLimiter {
 public:
  // Keys tracked at once. A limiter full of live keys refuses new ones (fail closed)
  // rather than forgetting counts an attacker could then reset by flooding.
  static constexpr std::size_t kMaxKeys = 100'000;

  RateLimiter(RateLimit limit, const Clock& clock) : limit_(limit), clock_(clock) {}

  // Seconds until `key` may act again; nullopt when it may act now. Counts nothing.
  std::optional<std::int64_t> blocked(const std::string& key);
  // Counts one event for `key`.
  void record(const std::string& key);
  // blocked(), and when not blocked, record(): for limits on attempts.
  std::optional<std::int64_t> take(const std::string& key);
  // Forgets `key`'s events, e.g. after a successful login.
  void reset(const std::string& key);

 private:
  struct Window {
    std::int64_t start_ms = 0;
    int events = 0;
  };
  std::optional<std::int64_t> blocked_locked(const std::string& key, std::int64_t now);
  bool make_room(std::int64_t now);
  static std::int64_t seconds_until(std::int64_t ms);

  const RateLimit limit_;
  const Clock& clock_;
  std::mutex mu_;
  std::unordered_map<std::string, Window> windows_;
};

// A 429 that says when to come back.
Response too_many_requests(std::int64_t retry_after_seconds, std::string_view message);

}  // namespace cunhuo::storefront
