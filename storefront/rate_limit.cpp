#include "storefront/rate_limit.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <limits>

#include "core/assert.hpp"
#include "core/one_time_code.hpp"

namespace cunhuo::storefront {
namespace {

// A row per (limit, key): the window's end and the events counted in it. Keys are keyed
// hashes (see InStore); windows that ended are pruned by the housekeeping pass.
constexpr db::Migration kMigrations[] = {
    {"storefront", 20, "rate limits counted in the store, shared by every process",
     "CREATE TABLE IF NOT EXISTS rate_limit_windows (\n"
     "  limit_name VARCHAR(32) NOT NULL,\n"
     "  key_hash VARCHAR(64) NOT NULL,\n"
     "  ends_at BIGINT NOT NULL,\n"
     "  events INTEGER NOT NULL,\n"
     "  PRIMARY KEY (limit_name, key_hash)\n"
     ");\n"
     "CREATE INDEX IF NOT EXISTS rate_limit_windows_end ON rate_limit_windows (ends_at);\n"},
};

// What record() counts up to: without a cap.
constexpr int kUncapped = std::numeric_limits<int>::max();

}  // namespace

std::span<const db::Migration> RateLimiter::migrations() { return kMigrations; }

Result<std::int64_t> RateLimiter::prune(db::Session& tx, std::int64_t now_ms) {
  return db::prune_older(tx, "rate_limit_windows", "ends_at", now_ms, kPruneBatch);
}

RateLimiter::RateLimiter(RateLimit limit, const Clock& clock, InStore store)
    : limit_(limit), clock_(clock), store_(&store.db), name_(store.name) {
  CUNHUO_ASSERT(!name_.empty() && name_.size() <= kMaxNameBytes);
}

std::string RateLimiter::stored_key(const std::string& key) const {
  return one_time_code_hash("rate-limit|" + name_, key);
}

// One event for `key` in one short write transaction, unless the window already holds
// `cap`: the conditional UPDATEs are atomic on both stores, so processes counting at once
// never count past the cap. Answers the seconds to wait when it did not count.
Result<std::optional<std::int64_t>> RateLimiter::stored_count(const std::string& key, int cap) {
  const std::string hashed = stored_key(key);
  const std::int64_t now = clock_.now_ms();
  const std::int64_t ends = now + limit_.window_ms;
  return store_->write([&](db::Session& tx) -> Result<std::optional<std::int64_t>> {
    auto count_in_window = [&]() -> Result<bool> {
      auto counted = CUNHUO_TRY(
          tx.exec("UPDATE rate_limit_windows SET events = events + 1 WHERE limit_name = ? AND "
                  "key_hash = ? AND ends_at > ? AND events < ?",
                  {name_, hashed, now, cap}));
      return counted.affected_rows == 1;
    };
    if (CUNHUO_TRY(count_in_window())) return std::optional<std::int64_t>{};
    // A window that ended starts again with this event (a window starts at a key's first).
    auto restarted = CUNHUO_TRY(
        tx.exec("UPDATE rate_limit_windows SET ends_at = ?, events = 1 WHERE limit_name = ? AND "
                "key_hash = ? AND ends_at <= ?",
                {ends, name_, hashed, now}));
    if (restarted.affected_rows == 1) return std::optional<std::int64_t>{};
    auto inserted = CUNHUO_TRY(tx.exec(
        std::string(tx.insert_ignore()) +
            " INTO rate_limit_windows (limit_name, key_hash, ends_at, events) VALUES (?, ?, ?, 1)",
        {name_, hashed, ends}));
    if (inserted.affected_rows == 1) return std::optional<std::int64_t>{};
    // Another process made the row meanwhile: count into it if it has room.
    if (CUNHUO_TRY(count_in_window())) return std::optional<std::int64_t>{};
    auto row = CUNHUO_TRY(
        tx.query_one("SELECT ends_at FROM rate_limit_windows WHERE limit_name = ? AND key_hash = ?",
                     {name_, hashed}));
    return std::optional<std::int64_t>(seconds_until(row ? row->i64(0) - now : 0));
  });
}

Result<std::optional<std::int64_t>> RateLimiter::stored_blocked(const std::string& key) {
  const std::string hashed = stored_key(key);
  const std::int64_t now = clock_.now_ms();
  return store_->read([&](db::Session& s) -> Result<std::optional<std::int64_t>> {
    auto row = CUNHUO_TRY(s.query_one(
        "SELECT ends_at, events FROM rate_limit_windows WHERE limit_name = ? AND key_hash = ?",
        {name_, hashed}));
    if (!row || row->i64(0) <= now || row->i64(1) < limit_.max_events)
      return std::optional<std::int64_t>{};
    return std::optional<std::int64_t>(seconds_until(row->i64(0) - now));
  });
}

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
  if (store_ != nullptr) {
    auto stored = stored_blocked(key);
    if (stored.ok()) return *stored;
    spdlog::warn("rate limit {}: the store's count failed, this process counts", name_);
  }
  return local_blocked(key);
}

// The process counts every event too, even when the store counts it: should the store fail
// later, the fallback then judges by this process's real history, not by an empty map.
void RateLimiter::record(const std::string& key) {
  local_record(key);
  if (store_ != nullptr && !stored_count(key, kUncapped).ok())
    spdlog::warn("rate limit {}: the store's count failed, this process counts", name_);
}

std::optional<std::int64_t> RateLimiter::take(const std::string& key) {
  const auto local = local_take(key);
  if (store_ != nullptr) {
    auto stored = stored_count(key, limit_.max_events);
    if (stored.ok()) return *stored;  // every process's count: at least this one's
    spdlog::warn("rate limit {}: the store's count failed, this process counts", name_);
  }
  return local;
}

void RateLimiter::reset(const std::string& key) {
  if (store_ != nullptr) {
    auto gone = store_->write([&](db::Session& tx) {
      return tx.exec("DELETE FROM rate_limit_windows WHERE limit_name = ? AND key_hash = ?",
                     {name_, stored_key(key)});
    });
    if (!gone.ok()) spdlog::warn("rate limit {}: forgetting a key in the store failed", name_);
  }
  std::lock_guard lock(mu_);
  windows_.erase(key);
}

std::optional<std::int64_t> RateLimiter::local_blocked(const std::string& key) {
  std::lock_guard lock(mu_);
  return blocked_locked(key, clock_.now_ms());
}

void RateLimiter::local_record(const std::string& key) {
  std::lock_guard lock(mu_);
  const std::int64_t now = clock_.now_ms();
  if (blocked_locked(key, now) && !windows_.contains(key)) return;  // full: nothing to count in
  auto [it, fresh] = windows_.try_emplace(key, Window{now, 0});
  ++it->second.events;
}

std::optional<std::int64_t> RateLimiter::local_take(const std::string& key) {
  std::lock_guard lock(mu_);
  const std::int64_t now = clock_.now_ms();
  if (auto wait = blocked_locked(key, now)) return wait;
  auto [it, fresh] = windows_.try_emplace(key, Window{now, 0});
  ++it->second.events;
  return std::nullopt;
}

Response too_many_requests(std::int64_t retry_after_seconds, std::string_view message) {
  auto r = error_response(429, "too_many_requests", message);
  r.headers.emplace_back("Retry-After", std::to_string(retry_after_seconds));
  return r;
}

}  // namespace cunhuo::storefront
