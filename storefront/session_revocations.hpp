// Session revocations shared by every process on one store. Each process keeps the sessions
// it checked recently in memory (Auth's cache); a logout, an ended session or an account
// whose fields changed is written here, in order, by whichever process did it, and every
// process applies the revocations committed before a cached session is used:
//
//   seq         1, 2, 3, ... with no gaps, in commit order (each increments one counter row
//               first and holds its lock to commit; on Galera two nodes writing the counter
//               conflict at certification and one is retried), so "everything after the last
//               seq I applied" is exact.
//   account_id  whose cached sessions go
//   token_hash  that one session, or "" for all of the account's but keep_hash
//
// A process catches up with one small read shared by the requests that arrived while it was
// waiting for a previous read: a request never uses a read that began before it arrived, so
// a logout committed anywhere is refused everywhere from the next request on, at the cost
// of one primary-key range read per wave of requests rather than per request.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <span>
#include <string>

#include "core/clock.hpp"
#include "core/db/database.hpp"
#include "core/db/migrations.hpp"

namespace cunhuo::storefront {

struct Revocation {
  std::int64_t seq = 0, account_id = 0;
  std::string token_hash, keep_hash;  // token_hash "": all but keep_hash
};

class SessionRevocations {
 public:
  static constexpr std::int64_t kReadBatch = 1000;  // more behind than this: forget them all
  // Kept for a day: a process further behind than that has restarted or cleared its cache.
  static constexpr std::int64_t kRetentionMs = 24LL * 3600 * 1000;
  static constexpr int kPruneBatch = 1000;

  static std::span<const db::Migration> migrations();
  // Records a revocation in the caller's transaction (the one that ends the session).
  static Status record(db::Session& tx, std::int64_t account_id, const std::string& token_hash,
                       const std::string& keep_hash, const Clock& clock);
  static Result<std::int64_t> prune(db::Session& tx, std::int64_t now_ms);

  // `apply(r)` drops what the process cached for `r`; `forget_all()` drops everything.
  SessionRevocations(db::Database& db, std::function<void(const Revocation&)> apply,
                     std::function<void()> forget_all)
      : db_(db), apply_(std::move(apply)), forget_all_(std::move(forget_all)) {}

  // Returns once every revocation committed before the call has been applied.
  Status catch_up();
  // Changes before any revocation is applied; -1 before the first catch-up. A session read
  // from the store may be cached only if this did not change across the read (nothing was
  // revoked meanwhile): the cache checks it and inserts under its own lock, under which
  // `apply` also runs, so a revocation is never applied before a stale entry goes in.
  std::int64_t generation() const { return generation_.load(); }

 private:
  Status read_and_apply();

  db::Database& db_;
  std::function<void(const Revocation&)> apply_;
  std::function<void()> forget_all_;
  mutable std::mutex mu_;
  std::condition_variable done_;
  std::int64_t started_ = 0, finished_ = 0;  // reads begun and the last one finished
  bool reading_ = false;
  Status last_;            // the outcome of read `finished_`
  std::int64_t seq_ = -1;  // applied through; only the reading thread writes it
  std::atomic<std::int64_t> generation_{-1};
};

}  // namespace cunhuo::storefront
