#include "storefront/rate_limit.hpp"

#include <algorithm>

namespace cunhuo::storefront {

std::int64_t RateLimiter::seconds_until(std::int64_t ms) {
  return std::max<std::int64_t>(1, (ms + 999) / 1000);
}

std::optional<std::int64_t> RateLimiter::blocked_locked(const std::string& key, std::int64_t now) {
  auto it = windows_.find(key);
  if (it == windows_.end()) {
    if (windows_.size() >= kMaxKeys && !make_room(now)) return seconds_until(limit_.window_ms);
    return std::nullopt;
  }
  const std::int64_t ends = it->second.start_ms + limit_.window_ms;
  if (ends <= now) {
    windows_.erase(it);
    return std::nullopt;
  }
  if (it->second.events < limit_.max_events) return std::nullopt;
  return seconds_until(ends - now);
}

// Drops windows that have ended; true when there is room for one more key.
bool RateLimiter::make_room(std::int64_t now) {
  std::erase_if(windows_,
                [&](const auto& entry) { return entry.second.start_ms + limit_.window_ms <= now; });
  return windows_.size() < kMaxKeys;
}

std::optional<std::int64_t> RateLimiter::blocked(const std::string& key) {
  std::lock_guard lock(mu_);
  return blocked_locked(key, clock_.now_ms());
}

void RateLimiter::record(const std::string& key) {
  std::lock_guard lock(mu_);
  const std::int64_t now = clock_.now_ms();
  if (blocked_locked(key, now) && !windows_.contains(key)) return;  // full: nothing to count in
  auto [it, fresh] = windows_.try_emplace(key, Window{now, 0});
  ++it->second.events;
}

std::optional<std::int64_t> RateLimiter::take(const std::string& key) {
  std::lock_guard lock(mu_);
  const std::int64_t now = clock_.now_ms();
  if (auto wait = blocked_locked(key, now)) return wait;
  auto [it, fresh] = windows_.try_emplace(key, Window{now, 0});
  ++it->second.events;
  return std::nullopt;
}

void RateLimiter::reset(const std::string& key) {
  std::lock_guard lock(mu_);
  windows_.erase(key);
}

Response too_many_requests(std::int64_t retry_after_seconds, std::string_view message) {
  auto r = error_response(429, "too_many_requests", message);
  r.headers.emplace_back("Retry-After", std::to_string(retry_after_seconds));
  return r;
}

}  // namespace cunhuo::storefront
