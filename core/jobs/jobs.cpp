#include "core/jobs/jobs.hpp"

#include <sodium.h>
#include <unistd.h>

#include "core/assert.hpp"

namespace cunhuo::jobs {
namespace {

constexpr db::Migration kMigrations[] = {
    {"core", 2, "job runs and leases shared by processes",
     "CREATE TABLE IF NOT EXISTS job_runs (\n"
     "  job VARCHAR(64) NOT NULL,\n"
     "  period VARCHAR(16) NOT NULL,\n"
     "  holder VARCHAR(64) NOT NULL,\n"
     "  state VARCHAR(8) NOT NULL,\n"
     "  claimed_until BIGINT NOT NULL,\n"
     "  finished_at BIGINT,\n"
     "  PRIMARY KEY (job, period)\n"
     ");\n"
     "CREATE TABLE IF NOT EXISTS job_leases (\n"
     "  job VARCHAR(64) NOT NULL PRIMARY KEY,\n"
     "  holder VARCHAR(64) NOT NULL,\n"
     "  held_until BIGINT NOT NULL\n"
     ");\n"},
};

// Locks the row read on MariaDB (another writer on this server waits); SQLite has one writer.
std::string locked(db::Session& tx, std::string sql) {
  if (tx.dialect() == db::Dialect::mysql) sql += " FOR UPDATE";
  return sql;
}

// A claim that lost the race for a new row: on one server the later insert fails on the key
// once the first commits; the row is someone else's.
template <class T>
Result<T> lost_if_duplicate(Result<T> outcome, T lost) {
  if (!outcome.ok() && outcome.error().code == db::kDuplicate) return lost;
  return outcome;
}

}  // namespace

std::span<const db::Migration> migrations() { return kMigrations; }

std::string process_name() {
  char host[32] = {};
  ::gethostname(host, sizeof host - 1);
  return std::string(host) + ":" + std::to_string(::getpid()) + ":" +
         std::to_string(randombytes_uniform(1'000'000));
}

Result<Claim> claim_run(db::Database& db, std::string_view job, std::string_view period,
                        std::string_view holder, std::int64_t deadline_ms, const Clock& clock) {
  CUNHUO_ASSERT(job.size() <= kMaxJobName && holder.size() <= kMaxHolder);
  return lost_if_duplicate(db.write([&](db::Session& tx) -> Result<Claim> {
    const std::int64_t now = clock.now_ms();
    auto row = CUNHUO_TRY(tx.query_one(
        locked(tx, "SELECT state, claimed_until FROM job_runs WHERE job = ? AND period = ?"),
        {job, period}));
    if (!row) {
      CUNHUO_TRY(
          tx.exec("INSERT INTO job_runs (job, period, holder, state, claimed_until) "
                  "VALUES (?, ?, ?, 'running', ?)",
                  {job, period, holder, now + deadline_ms}));
      return Claim::claimed;
    }
    if (row->str(0) == "done") return Claim::done;
    if (row->i64(1) > now) return Claim::busy;
    // A run given back, or one whose process died: this one takes it over.
    CUNHUO_TRY(
        tx.exec("UPDATE job_runs SET holder = ?, state = 'running', claimed_until = ? "
                "WHERE job = ? AND period = ?",
                {holder, now + deadline_ms, job, period}));
    return Claim::claimed;
  }),
                           Claim::busy);
}

Status finish_run(db::Database& db, std::string_view job, std::string_view period,
                  std::string_view holder, bool succeeded, const Clock& clock) {
  return db.write([&](db::Session& tx) -> Status {
    if (succeeded)
      CUNHUO_TRY(
          tx.exec("UPDATE job_runs SET state = 'done', finished_at = ? WHERE job = ? AND "
                  "period = ? AND holder = ?",
                  {clock.now_ms(), job, period, holder}));
    else
      CUNHUO_TRY(
          tx.exec("UPDATE job_runs SET claimed_until = 0 WHERE job = ? AND period = ? AND "
                  "holder = ? AND state = 'running'",
                  {job, period, holder}));
    return {};
  });
}

Result<bool> hold_lease(db::Database& db, std::string_view job, std::string_view holder,
                        std::int64_t lease_ms, const Clock& clock) {
  CUNHUO_ASSERT(job.size() <= kMaxJobName && holder.size() <= kMaxHolder);
  return lost_if_duplicate(db.write([&](db::Session& tx) -> Result<bool> {
    const std::int64_t now = clock.now_ms();
    auto row = CUNHUO_TRY(
        tx.query_one(locked(tx, "SELECT holder, held_until FROM job_leases WHERE job = ?"), {job}));
    if (!row) {
      CUNHUO_TRY(tx.exec("INSERT INTO job_leases (job, holder, held_until) VALUES (?, ?, ?)",
                         {job, holder, now + lease_ms}));
      return true;
    }
    if (row->str(0) != holder && row->i64(1) > now) return false;
    CUNHUO_TRY(tx.exec("UPDATE job_leases SET holder = ?, held_until = ? WHERE job = ?",
                       {holder, now + lease_ms, job}));
    return true;
  }),
                           false);
}

Status release_lease(db::Database& db, std::string_view job, std::string_view holder) {
  return db.write([&](db::Session& tx) -> Status {
    CUNHUO_TRY(tx.exec("UPDATE job_leases SET held_until = 0 WHERE job = ? AND holder = ?",
                       {job, holder}));
    return {};
  });
}

Result<std::optional<std::string>> last_done(db::Session& s, std::string_view job) {
  auto row = CUNHUO_TRY(
      s.query_one("SELECT MAX(period) FROM job_runs WHERE job = ? AND state = 'done'", {job}));
  if (!row || row->is_null(0)) return std::optional<std::string>();
  return std::optional<std::string>(row->str(0));
}

}  // namespace cunhuo::jobs
