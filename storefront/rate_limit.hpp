// A counter of events per key (a phone, a client address) in fixed windows, on an
// injected clock. Reusable for any route that must not be tried without limit: logins,
// code requests, anonymous objections. A limiter may keep its counts in the store
// (InStore): then every process serving the store counts into the same windows, so N
// processes behind a round-robin proxy do not give N times the tries.
#pragma once

#include <cstdint>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <unordered_map>

#include "core/clock.hpp"
#include "core/db/database.hpp"
#include "core/db/migrations.hpp"
#include "storefront/http.hpp"

namespace cunhuo::storefront {

struct RateLimit {
  int max_events = 0;          // events a key may have in one window
  std::int64_t window_ms = 0;  // a window starts at a key's first event
};

// Where a shared limiter keeps its counts: a row per (limit, key) in rate_limit_windows.
// Keys are stored only as a keyed hash (the one-time codes' key, shared by every process
// of the store): no phone or address sits in the table in clear.
struct InStore {
  db::Database& db;
  std::string_view name;  // the limit's name, e.g. "wrong_passwords": at most 32 bytes
};

class RateLimiter {
 public:
  // Keys tracked at once. A limiter full of live keys refuses new ones (fail closed)
  // rather than forgetting counts an attacker could then reset by flooding.
  static constexpr std::size_t kMaxKeys = 100'000;
  static constexpr std::size_t kMaxNameBytes = 32;  // the stored limit name's width
  static constexpr int kPruneBatch = 1000;          // ended windows per pruning transaction

  RateLimiter(RateLimit limit, const Clock& clock) : limit_(limit), clock_(clock) {}
  // Counts in the store. Should the store fail, the process's own count stands in (with a
  // warning), so a store hiccup neither lifts the limit nor refuses everyone.
  RateLimiter(RateLimit limit, const Clock& clock, InStore store);

  static std::span<const db::Migration> migrations();
  // Deletes windows that have ended, a batch at a time; returns how many went.
  static Result<std::int64_t> prune(db::Session& tx, std::int64_t now_ms);

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
  // The process's own count (also the fallback of a shared limiter).
  std::optional<std::int64_t> local_blocked(const std::string& key);
  void local_record(const std::string& key);
  std::optional<std::int64_t> local_take(const std::string& key);
  // The store's count: one event for `key` unless it already has `cap` in its window.
  Result<std::optional<std::int64_t>> stored_count(const std::string& key, int cap);
  Result<std::optional<std::int64_t>> stored_blocked(const std::string& key);
  std::string stored_key(const std::string& key) const;

  const RateLimit limit_;
  const Clock& clock_;
  db::Database* store_ = nullptr;  // null: counted in this process only
  std::string name_;
  std::mutex mu_;
  std::unordered_map<std::string, Window> windows_;
};

// A 429 that says when to come back.
Response too_many_requests(std::int64_t retry_after_seconds, std::string_view message);

}  // namespace cunhuo::storefront
