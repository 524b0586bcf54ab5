// SQLite: WAL, synchronous=FULL (durable at every commit), a busy timeout, a statement
// cache per connection. Writes go through one writer connection, in order, so threads of
// this process queue instead of spinning on SQLITE_BUSY, and they are group-committed:
// while one transaction is being made durable, the writers that arrive queue up, and the
// next leader runs all of them in one transaction, each inside its own SAVEPOINT (so a
// body that fails rolls back alone), then commits once. Every caller still returns only
// after its own work is durable; what is shared is the fsync. Reads use a pool of
// read-only connections and see a snapshot.
#include <sqlite3.h>

#include <spdlog/spdlog.h>

#include <atomic>
#include <cassert>
#include <cerrno>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <unordered_map>

#include "core/db/stores.hpp"

namespace cunhuo::db::detail {
namespace {

Error sqlite_error(sqlite3* db, int rc, std::string_view sql) {
  int ext = db ? sqlite3_extended_errcode(db) : rc;
  std::string msg = db ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
  if (ext == SQLITE_CONSTRAINT_UNIQUE || ext == SQLITE_CONSTRAINT_PRIMARYKEY)
    return make_error(ErrorKind::conflict, std::string(kDuplicate), "already exists");
  if ((rc & 0xFF) == SQLITE_BUSY || (rc & 0xFF) == SQLITE_LOCKED)
    return make_error(ErrorKind::unavailable, std::string(kStoreBusy), "store is busy, try again");
  // A full disk (or the store's page cap) is the operator's to fix, not a bug: a 503.
  if ((rc & 0xFF) == SQLITE_FULL ||
      ((rc & 0xFF) == SQLITE_IOERR && db && sqlite3_system_errno(db) == ENOSPC)) {
    spdlog::error("sqlite store is full: {}", msg);
    return make_error(ErrorKind::unavailable, std::string(kStorageFull),
                      "the store is full; try again later");
  }
  spdlog::error("sqlite error {} ({}) in: {}", msg, ext, sql.substr(0, 200));
  return make_error(ErrorKind::internal, std::string(kStoreError), "store error");
}

class SqliteSession final : public Session {
 public:
  SqliteSession(sqlite3* db) : db_(db) {}
  ~SqliteSession() override {
    for (auto& [sql, stmt] : cache_) sqlite3_finalize(stmt);
    sqlite3_close_v2(db_);
  }
  SqliteSession(const SqliteSession&) = delete;
  SqliteSession& operator=(const SqliteSession&) = delete;

  Dialect dialect() const override { return Dialect::sqlite; }

  Result<Exec> exec_with(std::string_view sql, std::span<const Value> params) override {
    sqlite3_stmt* stmt = CUNHUO_TRY(prepare(sql, params));
    int rc;
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
    }
    Exec out{sqlite3_changes64(db_)};
    sqlite3_reset(stmt);
    sqlite3_clear_bindings(stmt);
    if (rc != SQLITE_DONE) return sqlite_error(db_, rc, sql);
    return out;
  }

  Result<std::vector<Row>> query_with(std::string_view sql,
                                      std::span<const Value> params) override {
    sqlite3_stmt* stmt = CUNHUO_TRY(prepare(sql, params));
    std::vector<Row> rows;
    int rc;
    const int n = sqlite3_column_count(stmt);
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
      std::vector<Value> cols;
      cols.reserve(static_cast<std::size_t>(n));
      for (int i = 0; i < n; ++i) cols.push_back(column(stmt, i));
      rows.emplace_back(std::move(cols));
    }
    sqlite3_reset(stmt);
    sqlite3_clear_bindings(stmt);
    if (rc != SQLITE_DONE) return sqlite_error(db_, rc, sql);
    return rows;
  }

  Result<std::int64_t> last_insert_id() override {
    return static_cast<std::int64_t>(sqlite3_last_insert_rowid(db_));
  }

  Status exec_script(std::string_view sql) override {
    for (const auto& stmt : split_script(sql)) {
      char* err = nullptr;
      int rc = sqlite3_exec(db_, stmt.c_str(), nullptr, nullptr, &err);
      if (rc != SQLITE_OK) {
        std::string msg = err ? err : "";
        sqlite3_free(err);
        spdlog::error("sqlite script failed: {}: {}", msg, stmt.substr(0, 200));
        return make_error(ErrorKind::internal, std::string(kStoreError),
                          "migration failed: " + msg);
      }
    }
    return {};
  }

  // SQLite rolls a transaction back by itself on some errors (a full disk among them); a
  // second ROLLBACK would only fail with "no transaction is active".
  void rollback_if_open() {
    if (in_transaction()) (void)plain("ROLLBACK");
  }
  bool in_transaction() const { return sqlite3_get_autocommit(db_) == 0; }

  Status plain(const char* sql) {
    char* err = nullptr;
    int rc = sqlite3_exec(db_, sql, nullptr, nullptr, &err);
    sqlite3_free(err);
    if (rc != SQLITE_OK) return sqlite_error(db_, rc, sql);
    return {};
  }

 private:
  static Value column(sqlite3_stmt* stmt, int i) {
    switch (sqlite3_column_type(stmt, i)) {
      case SQLITE_INTEGER: return Value(static_cast<std::int64_t>(sqlite3_column_int64(stmt, i)));
      case SQLITE_FLOAT: return Value(sqlite3_column_double(stmt, i));
      case SQLITE_NULL: return Value();
      default: {
        auto* p = reinterpret_cast<const char*>(sqlite3_column_blob(stmt, i));
        return Value(
            std::string(p ? p : "", static_cast<std::size_t>(sqlite3_column_bytes(stmt, i))));
      }
    }
  }

  Result<sqlite3_stmt*> prepare(std::string_view sql, std::span<const Value> params) {
    sqlite3_stmt* stmt = nullptr;
    auto it = cache_.find(std::string(sql));
    if (it != cache_.end()) {
      stmt = it->second;
    } else {
      int rc = sqlite3_prepare_v3(db_, sql.data(), static_cast<int>(sql.size()),
                                  SQLITE_PREPARE_PERSISTENT, &stmt, nullptr);
      if (rc != SQLITE_OK) return sqlite_error(db_, rc, sql);
      if (cache_.size() >= kStatementCacheLimit) {
        for (auto& [s, old] : cache_) sqlite3_finalize(old);
        cache_.clear();
      }
      cache_.emplace(std::string(sql), stmt);
    }
    if (static_cast<int>(params.size()) != sqlite3_bind_parameter_count(stmt))
      return make_error(ErrorKind::internal, std::string(kStoreError),
                        "parameter count does not match statement");
    for (std::size_t i = 0; i < params.size(); ++i) {
      const Value& v = params[i];
      int idx = static_cast<int>(i) + 1, rc;
      if (v.is_null())
        rc = sqlite3_bind_null(stmt, idx);
      else if (v.is_int())
        rc = sqlite3_bind_int64(stmt, idx, v.as_int());
      else if (v.is_double())
        rc = sqlite3_bind_double(stmt, idx, v.as_double());
      else
        rc = sqlite3_bind_text64(stmt, idx, v.text_ref().data(), v.text_ref().size(), SQLITE_STATIC,
                                 SQLITE_UTF8);
      if (rc != SQLITE_OK) return sqlite_error(db_, rc, sql);
    }
    return stmt;
  }

  sqlite3* db_;
  std::unordered_map<std::string, sqlite3_stmt*> cache_;
};

Result<std::unique_ptr<SqliteSession>> connect(const std::string& path,
                                               const DatabaseOptions& options, bool read_only) {
  sqlite3* raw = nullptr;
  int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
  int rc = sqlite3_open_v2(path.c_str(), &raw, flags, nullptr);
  if (rc != SQLITE_OK) {
    std::string msg = raw ? sqlite3_errmsg(raw) : sqlite3_errstr(rc);
    sqlite3_close_v2(raw);
    return make_error(ErrorKind::unavailable, "store_unavailable",
                      "cannot open sqlite store " + path + ": " + msg);
  }
  auto session = std::make_unique<SqliteSession>(raw);
  sqlite3_busy_timeout(raw, options.busy_timeout_ms);
  sqlite3_extended_result_codes(raw, 1);
  CUNHUO_CHECK(session->plain("PRAGMA journal_mode=WAL"));
  CUNHUO_CHECK(session->plain(options.durable_commits ? "PRAGMA synchronous=FULL"
                                                      : "PRAGMA synchronous=NORMAL"));
  CUNHUO_CHECK(session->plain("PRAGMA foreign_keys=ON"));
  if (read_only) CUNHUO_CHECK(session->plain("PRAGMA query_only=1"));
  // The one writer keeps the hot pages of growing tables (readings, ledger) in memory
  // rather than reading them back from the OS on every insert.
  else
    CUNHUO_CHECK(session->plain("PRAGMA cache_size=-65536"));
  return session;
}

class SqliteDatabase final : public Database {
 public:
  SqliteDatabase(std::string path, DatabaseOptions options, std::unique_ptr<SqliteSession> writer)
      : path_(std::move(path)), options_(options), writer_(std::move(writer)) {}

  Dialect dialect() const override { return Dialect::sqlite; }
  std::string describe() const override { return "sqlite:" + path_; }

  Status ping() override {
    CUNHUO_CHECK(read([](Session& s) -> Status {
      CUNHUO_TRY(s.query("SELECT 1"));
      return {};
    }));
    if (!full_.load()) return {};
    // The last write found the store full: ready again only once a write commits.
    return run_write([](Session& s) -> Status {
      CUNHUO_TRY(s.exec("CREATE TABLE IF NOT EXISTS store_probe (at INTEGER NOT NULL)"));
      CUNHUO_TRY(s.exec("INSERT INTO store_probe (at) VALUES (1)"));
      CUNHUO_TRY(s.exec("DELETE FROM store_probe"));
      return {};
    });
  }

  Status flush() override {
    std::lock_guard lock(write_mu_);
    return writer_->plain("PRAGMA wal_checkpoint(TRUNCATE)");
  }

 protected:
  Status run(TxMode mode, const std::function<Status(Session&)>& body) override {
    // An in-memory store is one connection: reads go through the writer too.
    if (mode == TxMode::write || path_ == ":memory:") return run_write(body);
    return run_read(body);
  }

 private:
  // One caller's write in the group-commit queue: either a thread waiting for it
  // (`wake`) or a callback to call when it is durable (`done`).
  struct PendingWrite {
    std::function<Status(Session&)> owned_body;  // for asynchronous writes
    const std::function<Status(Session&)>* body = nullptr;
    Status result;
    bool done_flag = false;
    std::condition_variable wake;
    std::function<void(Status)> done;  // set: nobody waits, call this
  };

  Status run_write(const std::function<Status(Session&)>& body) {
    PendingWrite mine;
    mine.body = &body;
    std::unique_lock lock(queue_mu_);
    assert(queue_.size() < kMaxQueuedWrites && "more waiting writers than threads could make");
    queue_.push_back(&mine);
    // Wait until a leader has committed this write, or until there is no leader and the
    // first in line is this write or an asynchronous one (whose caller has gone on and
    // will not lead it): then this thread leads. The second case is a callback that writes
    // again: its leader is running callbacks, and nobody else would commit the queue.
    const auto may_lead = [&] {
      return !leading_ && (queue_.front() == &mine || queue_.front()->done);
    };
    while (!mine.done_flag) {
      mine.wake.wait(lock, [&] { return mine.done_flag || may_lead(); });
      if (!mine.done_flag) lead(lock);
    }
    return mine.result;
  }

 public:
  void write_async(std::function<Status(Session&)> body,
                   std::function<void(Status)> done) override {
    auto* entry = new PendingWrite;  // owned by the queue until its callback has run
    entry->owned_body = std::move(body);
    entry->body = &entry->owned_body;
    entry->done = std::move(done);
    std::unique_lock lock(queue_mu_);
    assert(queue_.size() < kMaxQueuedWrites);
    queue_.push_back(entry);
    if (!leading_ && queue_.front() == entry) lead(lock);  // nobody is committing: do it now
  }

 private:
  // Commits groups while there is work nobody waits to lead. Called with the queue
  // lock held and no leader; returns with the lock held. Callbacks run with no leader
  // and no lock, so they may write again.
  void lead(std::unique_lock<std::mutex>& lock) {
    while (!leading_ && !queue_.empty()) {
      leading_ = true;
      std::vector<PendingWrite*> batch;
      while (!queue_.empty() && batch.size() < kMaxBatch) {
        batch.push_back(queue_.front());
        queue_.pop_front();
      }
      lock.unlock();
      commit_group(batch);
      lock.lock();
      leading_ = false;
      std::vector<PendingWrite*> callbacks;
      for (auto* p : batch) {
        if (p->done) {
          callbacks.push_back(p);
        } else {
          p->done_flag = true;
          p->wake.notify_one();
        }
      }
      // A waiting thread first in line leads the next group; otherwise this thread goes on.
      const bool handed_over = !queue_.empty() && !queue_.front()->done;
      if (handed_over) queue_.front()->wake.notify_one();
      lock.unlock();
      for (auto* p : callbacks) {
        p->done(p->result);
        delete p;
      }
      lock.lock();
      if (handed_over) return;
    }
  }

  void commit_group(const std::vector<PendingWrite*>& batch) {
    std::lock_guard lock(write_mu_);
    commit_group_locked(batch);
    note_fullness(batch);
  }

  // Remembers whether the store was found full, for ping(); a commit clears it.
  void note_fullness(const std::vector<PendingWrite*>& batch) {
    bool committed = false, full = false;
    for (const auto* p : batch) {
      committed = committed || p->result.ok();
      full = full || (!p->result.ok() && p->result.error().code == kStorageFull);
    }
    if (full)
      full_.store(true);
    else if (committed)
      full_.store(false);
  }

  void commit_group_locked(const std::vector<PendingWrite*>& batch) {
    if (batch.size() == 1) {
      batch[0]->result = write_alone(*batch[0]->body);
      return;
    }
    Status begun = begin_immediate();
    if (!begun.ok()) {
      for (auto* p : batch) p->result = begun;
      return;
    }
    bool any_ok = false;
    for (std::size_t i = 0; i < batch.size(); ++i) {
      auto* p = batch[i];
      p->result = writer_->plain("SAVEPOINT grouped");
      if (!p->result.ok()) continue;
      p->result = (*p->body)(*writer_);
      if (!p->result.ok() && !writer_->in_transaction()) {
        // SQLite rolled the whole group back by itself (a full disk does): the bodies
        // before this one are undone too, so each of the others runs alone.
        for (std::size_t j = 0; j < batch.size(); ++j)
          if (j != i && (j > i || batch[j]->result.ok()))
            batch[j]->result = write_alone(*batch[j]->body);
        return;
      }
      if (!p->result.ok()) (void)writer_->plain("ROLLBACK TO grouped");
      (void)writer_->plain("RELEASE grouped");
      any_ok = any_ok || p->result.ok();
    }
    if (!any_ok) {
      writer_->rollback_if_open();
      return;
    }
    Status committed = writer_->plain("COMMIT");
    if (committed.ok()) return;
    // The group did not commit: undo it and give each successful body a transaction of its own.
    writer_->rollback_if_open();
    if (committed.error().code == kStorageFull) {
      for (auto* p : batch)
        if (p->result.ok()) p->result = committed;
      return;
    }
    for (auto* p : batch)
      if (p->result.ok()) p->result = write_alone(*p->body);
  }

  Status begin_immediate() {
    for (int attempt = 0;; ++attempt) {
      Status st = writer_->plain("BEGIN IMMEDIATE");
      if (st.ok() || !is_retryable(st.error()) || attempt >= options_.max_retries) return st;
      backoff(attempt);
    }
  }

  Status write_alone(const std::function<Status(Session&)>& body) {
    for (int attempt = 0;; ++attempt) {
      Status st = writer_->plain("BEGIN IMMEDIATE");
      if (st.ok()) {
        st = body(*writer_);
        if (st.ok()) st = writer_->plain("COMMIT");
        if (!st.ok()) writer_->rollback_if_open();
      }
      if (st.ok() || !is_retryable(st.error()) || attempt >= options_.max_retries) return st;
      backoff(attempt);
    }
  }

  Status run_read(const std::function<Status(Session&)>& body) {
    auto session = CUNHUO_TRY(acquire_reader());
    Status st = session->plain("BEGIN");
    if (st.ok()) {
      st = body(*session);
      (void)session->plain(st.ok() ? "COMMIT" : "ROLLBACK");
    }
    release_reader(std::move(session));
    return st;
  }

  Result<std::unique_ptr<SqliteSession>> acquire_reader() {
    {
      std::lock_guard lock(pool_mu_);
      if (!readers_.empty()) {
        auto s = std::move(readers_.back());
        readers_.pop_back();
        return s;
      }
    }
    return connect(path_, options_, /*read_only=*/true);
  }

  void release_reader(std::unique_ptr<SqliteSession> session) {
    std::lock_guard lock(pool_mu_);
    if (readers_.size() < static_cast<std::size_t>(options_.pool_size))
      readers_.push_back(std::move(session));
  }

  std::string path_;
  DatabaseOptions options_;
  std::atomic<bool> full_{false};  // a write found the store full and none has committed since
  static constexpr std::size_t kMaxBatch = 256;  // bodies per grouped transaction
  static constexpr std::size_t kMaxQueuedWrites = 1 << 16;

  std::mutex write_mu_;  // the writer connection
  std::unique_ptr<SqliteSession> writer_;
  std::mutex queue_mu_;
  std::condition_variable queue_cv_;
  std::deque<PendingWrite*> queue_;
  bool leading_ = false;
  std::mutex pool_mu_;
  std::vector<std::unique_ptr<SqliteSession>> readers_;
};

}  // namespace

Result<std::unique_ptr<Database>> open_sqlite(const std::string& path,
                                              const DatabaseOptions& options) {
  if (sqlite3_threadsafe() == 0)
    return make_error(ErrorKind::internal, "store_unavailable",
                      "sqlite was built without thread support");
  // Memory statistics put one global mutex on every allocation; nothing here reads them.
  static const int configured = sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
  (void)configured;
  auto writer = CUNHUO_TRY(connect(path, options, /*read_only=*/false));
  return std::unique_ptr<Database>(
      std::make_unique<SqliteDatabase>(path, options, std::move(writer)));
}

}  // namespace cunhuo::db::detail
