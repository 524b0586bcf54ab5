#include "storefront/session_revocations.hpp"

#include <algorithm>
#include <optional>
#include <vector>

#include "core/assert.hpp"

namespace cunhuo::storefront {
namespace {

constexpr db::Migration kMigrations[] = {
    {"storefront", 16, "session revocations seen by every process",
     "CREATE TABLE IF NOT EXISTS session_revocations (\n"
     "  seq BIGINT NOT NULL PRIMARY KEY,\n"
     "  account_id BIGINT NOT NULL,\n"
     "  token_hash VARCHAR(64) NOT NULL,\n"
     "  keep_hash VARCHAR(64) NOT NULL,\n"
     "  revoked_at BIGINT NOT NULL\n"
     ");\n"
     "CREATE INDEX IF NOT EXISTS session_revocations_age ON session_revocations (revoked_at);\n"},
    // The last seq handed out, in one row every revoker updates: revokers queue on that row's
    // lock (no gap locks on the newest row, which deadlocked) and conflict on Galera.
    {"storefront", 18, "session revocations numbered from one counter",
     "CREATE TABLE IF NOT EXISTS session_revocation_seq (\n"
     "  id INT NOT NULL PRIMARY KEY,\n"
     "  last_seq BIGINT NOT NULL\n"
     ");\n"
     "INSERT INTO session_revocation_seq (id, last_seq) SELECT 1, m.n FROM (SELECT "
     "COALESCE(MAX(seq), 0) AS n FROM session_revocations) m WHERE NOT EXISTS (SELECT 1 FROM "
     "session_revocation_seq);\n"},
};

}  // namespace

std::span<const db::Migration> SessionRevocations::migrations() { return kMigrations; }

Status SessionRevocations::record(db::Session& tx, std::int64_t account_id,
                                  const std::string& token_hash, const std::string& keep_hash,
                                  const Clock& clock) {
  // The counter's row, written first: a second revoker on this node waits for this one to
  // commit (so seq follows commit order), and one on another Galera node loses certification
  // and is retried. A transaction that rolls back gives its number back with it: no gaps.
  CUNHUO_TRY(tx.exec("UPDATE session_revocation_seq SET last_seq = last_seq + 1 WHERE id = 1", {}));
  auto counter =
      CUNHUO_TRY(tx.query_one("SELECT last_seq FROM session_revocation_seq WHERE id = 1", {}));
  CUNHUO_ASSERT(counter.has_value());  // made by the migration
  const std::int64_t seq = counter->i64(0);
  CUNHUO_TRY(tx.exec(
      "INSERT INTO session_revocations (seq, account_id, token_hash, keep_hash, revoked_at) "
      "VALUES (?, ?, ?, ?, ?)",
      {seq, account_id, token_hash, keep_hash, clock.now_ms()}));
  return {};
}

Result<std::int64_t> SessionRevocations::prune(db::Session& tx, std::int64_t now_ms) {
  auto span = CUNHUO_TRY(tx.query_one("SELECT MIN(seq), MAX(seq) FROM session_revocations"));
  if (!span || span->is_null(0)) return std::int64_t{0};
  // The newest row stays whatever its age (the counter numbers new ones; a reader's
  // "after the last seq I applied" needs the newest).
  const std::int64_t below = std::min(span->i64(1), span->i64(0) + kPruneBatch);
  auto gone = CUNHUO_TRY(tx.exec("DELETE FROM session_revocations WHERE revoked_at < ? AND seq < ?",
                                 {now_ms - kRetentionMs, below}));
  return gone.affected_rows;
}

Status SessionRevocations::catch_up() {
  std::unique_lock lock(mu_);
  const std::int64_t need = started_ + 1;  // a read that begins after this call
  while (finished_ < need) {
    if (reading_) {
      done_.wait(lock);
      continue;
    }
    reading_ = true;
    const std::int64_t mine = ++started_;
    lock.unlock();
    Status st = read_and_apply();
    lock.lock();
    reading_ = false;
    finished_ = mine;
    last_ = st;
    done_.notify_all();
  }
  return last_;
}

Status SessionRevocations::read_and_apply() {
  struct Read {
    std::vector<Revocation> revocations;  // in seq order
    std::optional<std::int64_t> newest;   // instead: forget everything, applied through this
  };
  std::int64_t from = 0;
  {
    std::lock_guard lock(mu_);
    from = seq_;
  }
  auto read = CUNHUO_TRY(db_.read([&](db::Session& s) -> Result<Read> {
    CUNHUO_CHECK(s.read_latest());  // a logout through another node counts at once
    Read out;
    if (from >= 0) {
      auto rows = CUNHUO_TRY(s.query(
          "SELECT seq, account_id, token_hash, keep_hash FROM session_revocations WHERE seq > ? "
          "ORDER BY seq LIMIT ?",
          {from, kReadBatch + 1}));
      for (const auto& r : rows)
        out.revocations.push_back(Revocation{.seq = r.i64(0),
                                             .account_id = r.i64(1),
                                             .token_hash = r.str(2),
                                             .keep_hash = r.str(3)});
      if (rows.size() <= static_cast<std::size_t>(kReadBatch)) return out;
    }
    // The first read, or too far behind to go one by one: only where the sequence stands.
    auto row = CUNHUO_TRY(s.query_one("SELECT COALESCE(MAX(seq), 0) FROM session_revocations"));
    out.newest = row->i64(0);
    return out;
  }));
  std::int64_t through = from;
  if (read.newest || !read.revocations.empty()) ++generation_;
  if (read.newest) {
    forget_all_();
    through = *read.newest;
  } else {
    for (const auto& r : read.revocations) apply_(r);
    if (!read.revocations.empty()) through = read.revocations.back().seq;
  }
  std::lock_guard lock(mu_);
  seq_ = through;
  if (generation_.load() < 0) generation_ = 0;
  return {};
}

}  // namespace cunhuo::storefront
