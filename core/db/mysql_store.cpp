// MySQL / MariaDB through MySQL Connector/C++ (1.1 API). The driver wants every thread
// that uses it initialised, and a connection used by one thread at a time: sessions
// come from a bounded pool and go back after each transaction. A dropped connection
// is discarded and the transaction retried on a fresh one, unless the drop came during
// COMMIT, when the outcome is unknown and the caller is told so.
//
// MariaDB Galera (a multi-primary cluster): a transaction that loses certification to one
// committed on another node fails with 1213, as a deadlock does, and is retried the same
// way. The url may name several nodes; the pool connects to one of them (the first that
// answers and is Synced: a Joiner, Donor or Desynced node trails the cluster and is skipped).
// A connection that breaks is dropped alone: a query cut off by the read timeout, a killed
// query or an idle disconnect says nothing about its node. The node is then checked with a
// fresh connection, and only when that fails (the node died, or left the primary component:
// 1047, not ready) are its idle connections dropped and the pool moved to the next node.
// After kFailBackAfter on another node the pool tries the first again and, once it answers
// and is Synced, comes back to it: the processes that prefer it converge on the same node,
// and certification conflicts between them stay rare. A transaction cut off before COMMIT never
// committed (a dead node's open transactions are not in the cluster) and is retried on the
// next node; one cut off during COMMIT may have committed cluster-wide: it is reported as
// store_commit_unknown and not retried here. The service answers it 503, and the client's
// retry with the same Idempotency-Key then finds the first answer (recorded in the same
// transaction as the order) or runs the work afresh: an order is neither lost nor doubled.
#include <cppconn/exception.h>
#include <cppconn/prepared_statement.h>
#include <cppconn/resultset.h>
#include <cppconn/resultset_metadata.h>
#include <cppconn/statement.h>
#include <mysql_connection.h>
#include <mysql_driver.h>

#include <spdlog/spdlog.h>

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <unordered_map>

#include "core/db/stores.hpp"

namespace cunhuo::db::detail {
namespace {

constexpr auto kPoolWait = std::chrono::seconds(10);
// The driver's limits on one connection, in seconds: to connect, and to wait for a query's
// answer (a query slower than that breaks its connection, but not its node's standing).
constexpr int kConnectTimeoutS = 5;
constexpr int kReadTimeoutS = 60;
constexpr int kWriteTimeoutS = 60;
constexpr int kLockWaitTimeoutS = 10;  // innodb_lock_wait_timeout: then 1205, retried

const SystemClock& system_clock() {
  static const SystemClock clock;
  return clock;
}

sql::mysql::MySQL_Driver* driver() {
  static sql::mysql::MySQL_Driver* instance = [] {
    return sql::mysql::get_mysql_driver_instance();
  }();
  return instance;
}

// Connector/C++ requires threadInit/threadEnd around each thread's use of the driver.
void ensure_thread_initialised() {
  struct ThreadGuard {
    ThreadGuard() { driver()->threadInit(); }
    ~ThreadGuard() { driver()->threadEnd(); }
  };
  thread_local ThreadGuard guard;
}

// The connection (or its node) is gone: 2006 server gone away, 2013 lost during a query,
// 2055 lost at a system call, 4031 idle disconnect, 1927 connection killed (a node shutting
// down), 1047 a Galera node outside the primary component ("WSREP has not yet prepared node
// for application use"): nothing more can be done on this connection.
bool is_connection_lost(int code) {
  return code == 2006 || code == 2013 || code == 2055 || code == 4031 || code == 1927 ||
         code == 1047;
}

Error mysql_error(const sql::SQLException& e, std::string_view sql, bool& broken) {
  const int code = e.getErrorCode();
  if (code == 1062)
    return make_error(ErrorKind::conflict, std::string(kDuplicate), "already exists");
  // 1213 also reports a Galera certification conflict ("WSREP detected deadlock/conflict").
  if (code == 1213 || code == 1205)
    return make_error(ErrorKind::unavailable, std::string(kStoreBusy), "store is busy, try again");
  // 1021 disk full, 1114 table full: the operator's to fix; nothing was written.
  if (code == 1021 || code == 1114)
    return make_error(ErrorKind::unavailable, std::string(kStorageFull),
                      "the store is full; try again later");
  if (is_connection_lost(code)) {
    broken = true;
    return make_error(ErrorKind::unavailable, std::string(kStoreLost),
                      "lost the connection to the store");
  }
  spdlog::error("mysql error {} ({}) in: {}", e.what(), code, sql.substr(0, 200));
  return make_error(ErrorKind::internal, std::string(kStoreError), "store error");
}

class MysqlSession final : public Session {
 public:
  MysqlSession(std::unique_ptr<sql::Connection> conn, std::size_t host)
      : conn_(std::move(conn)), host_(host) {}
  ~MysqlSession() override {
    cache_.clear();
    try {
      conn_->close();
    } catch (const sql::SQLException&) {
    }
  }

  Dialect dialect() const override { return Dialect::mysql; }
  bool broken() const { return broken_; }
  std::size_t host() const { return host_; }  // its index in the url's hosts

  // A Galera node answers reads from what it has applied, which may trail what another
  // node committed a moment ago: wsrep_sync_wait makes this transaction's reads wait for it.
  Status read_latest() override {
    if (!galera_ || sync_wait_) return {};
    CUNHUO_CHECK(plain("SET SESSION wsrep_sync_wait = 1"));
    sync_wait_ = true;
    return {};
  }
  // After each transaction: the next one reads as usual.
  void end_read_latest() {
    if (sync_wait_ && plain("SET SESSION wsrep_sync_wait = 0").ok()) sync_wait_ = false;
  }
  // Whether the server is a Galera node (wsrep on), asked once when connected.
  Status detect_galera() {
    try {
      std::unique_ptr<sql::Statement> st(conn_->createStatement());
      std::unique_ptr<sql::ResultSet> rs(st->executeQuery("SHOW VARIABLES LIKE 'wsrep_on'"));
      galera_ = rs->next() && std::string(rs->getString(2)) == "ON";
      return {};
    } catch (const sql::SQLException& e) {
      return mysql_error(e, "SHOW VARIABLES", broken_);
    }
  }
  bool galera() const { return galera_; }
  // A Galera node serves the application only when it is ready and Synced: a Joiner has not
  // the cluster's state yet, a Donor or a Desynced node may trail it by any amount.
  Status require_synced() {
    std::string ready, state;
    try {
      std::unique_ptr<sql::Statement> st(conn_->createStatement());
      std::unique_ptr<sql::ResultSet> rs(st->executeQuery(
          "SHOW STATUS WHERE Variable_name IN ('wsrep_ready', 'wsrep_local_state_comment')"));
      while (rs->next())
        (std::string(rs->getString(1)) == "wsrep_ready" ? ready : state) = rs->getString(2);
    } catch (const sql::SQLException& e) {
      return mysql_error(e, "SHOW STATUS", broken_);
    }
    if (ready == "ON" && state == "Synced") return {};
    return make_error(
        ErrorKind::unavailable, std::string(kNodeNotSynced),
        "the store node is not synced (wsrep_ready=" + ready + ", state=" + state + ")");
  }

  // The access mode of the transactions this session runs, set only when it changes. With
  // autocommit off a transaction begins at its first statement and takes its snapshot at its
  // first read, as after START TRANSACTION: a read costs no round trip of its own to begin.
  Status set_read_only(bool read_only) {
    if (read_only == read_only_) return {};
    CUNHUO_CHECK(plain(read_only ? "SET SESSION TRANSACTION READ ONLY"
                                 : "SET SESSION TRANSACTION READ WRITE"));
    read_only_ = read_only;
    return {};
  }

  Result<Exec> exec_with(std::string_view sql, std::span<const Value> params) override {
    try {
      auto* ps = CUNHUO_TRY(prepare(sql, params));
      return Exec{static_cast<std::int64_t>(ps->executeUpdate())};
    } catch (const sql::SQLException& e) {
      return mysql_error(e, sql, broken_);
    }
  }

  Result<std::vector<Row>> query_with(std::string_view sql,
                                      std::span<const Value> params) override {
    try {
      auto* ps = CUNHUO_TRY(prepare(sql, params));
      std::unique_ptr<sql::ResultSet> rs(ps->executeQuery());
      return collect(*rs);
    } catch (const sql::SQLException& e) {
      return mysql_error(e, sql, broken_);
    }
  }

  Result<std::int64_t> last_insert_id() override {
    auto row = CUNHUO_TRY(query_one("SELECT LAST_INSERT_ID()"));
    return row ? row->i64(0) : 0;
  }

  Status exec_script(std::string_view script) override {
    for (const auto& stmt : split_script(script)) {
      CUNHUO_CHECK(plain(stmt));
    }
    return {};
  }

  Status plain(const std::string& sql) {
    try {
      std::unique_ptr<sql::Statement> st(conn_->createStatement());
      st->execute(sql);
      return {};
    } catch (const sql::SQLException& e) {
      return mysql_error(e, sql, broken_);
    }
  }

  // COMMIT as a statement: Connection::commit() does not report every failure of the
  // commit itself, and a Galera certification conflict is reported only there (1213 at
  // COMMIT): taken as a success, the transaction would be answered as done and be gone.
  Status commit() {
    try {
      std::unique_ptr<sql::Statement> st(conn_->createStatement());
      st->execute("COMMIT");
      return {};
    } catch (const sql::SQLException& e) {
      Error err = mysql_error(e, "COMMIT", broken_);
      // A commit cut off mid-way may or may not have landed: never retry it blindly.
      if (err.code == kStoreLost) err.code = "store_commit_unknown";
      return err;
    }
  }

  void rollback() {
    try {
      conn_->rollback();
    } catch (const sql::SQLException& e) {
      broken_ = true;
    }
  }

 private:
  static Result<std::vector<Row>> collect(sql::ResultSet& rs) {
    sql::ResultSetMetaData* meta = rs.getMetaData();
    const unsigned n = meta->getColumnCount();
    std::vector<int> kinds(n);  // 0 text, 1 integer, 2 double
    for (unsigned i = 0; i < n; ++i) {
      switch (meta->getColumnType(i + 1)) {
        case sql::DataType::BIT:
        case sql::DataType::TINYINT:
        case sql::DataType::SMALLINT:
        case sql::DataType::MEDIUMINT:
        case sql::DataType::INTEGER:
        case sql::DataType::BIGINT:
        case sql::DataType::YEAR: kinds[i] = 1; break;
        case sql::DataType::DECIMAL:
        case sql::DataType::NUMERIC:
          // SUM() over integers comes back as DECIMAL with scale 0.
          kinds[i] = meta->getScale(i + 1) == 0 ? 1 : 2;
          break;
        case sql::DataType::REAL:
        case sql::DataType::DOUBLE: kinds[i] = 2; break;
        default: kinds[i] = 0;
      }
    }
    std::vector<Row> rows;
    while (rs.next()) {
      std::vector<Value> cols;
      cols.reserve(n);
      for (unsigned i = 0; i < n; ++i) {
        if (rs.isNull(i + 1))
          cols.emplace_back();
        else if (kinds[i] == 1)
          cols.emplace_back(static_cast<std::int64_t>(rs.getInt64(i + 1)));
        else if (kinds[i] == 2)
          cols.emplace_back(static_cast<double>(rs.getDouble(i + 1)));
        else
          cols.emplace_back(std::string(rs.getString(i + 1)));
      }
      rows.emplace_back(std::move(cols));
    }
    return rows;
  }

  Result<sql::PreparedStatement*> prepare(std::string_view sql, std::span<const Value> params) {
    std::string key(sql);
    auto it = cache_.find(key);
    if (it == cache_.end()) {
      if (cache_.size() >= kStatementCacheLimit) cache_.clear();
      it =
          cache_.emplace(key, std::unique_ptr<sql::PreparedStatement>(conn_->prepareStatement(key)))
              .first;
    }
    sql::PreparedStatement* ps = it->second.get();
    for (std::size_t i = 0; i < params.size(); ++i) {
      const Value& v = params[i];
      auto idx = static_cast<unsigned>(i + 1);
      if (v.is_null())
        ps->setNull(idx, sql::DataType::SQLNULL);
      else if (v.is_int())
        ps->setInt64(idx, v.as_int());
      else if (v.is_double())
        ps->setDouble(idx, v.as_double());
      else
        ps->setString(idx, v.text_ref());
    }
    return ps;
  }

  std::unique_ptr<sql::Connection> conn_;
  std::unordered_map<std::string, std::unique_ptr<sql::PreparedStatement>> cache_;
  std::size_t host_ = 0;
  bool broken_ = false;
  bool read_only_ = false;  // a new connection's transactions read and write
  bool galera_ = false, sync_wait_ = false;
};

class MysqlDatabase final : public Database {
 public:
  MysqlDatabase(MysqlAddress address, DatabaseOptions options)
      : address_(std::move(address)),
        options_(options),
        clock_(options.clock ? *options.clock : system_clock()) {
    if (address_.pool > 0) options_.pool_size = address_.pool;
  }

  Dialect dialect() const override { return Dialect::mysql; }
  std::string describe() const override {
    std::string hosts;
    for (const auto& h : address_.hosts)
      hosts += (hosts.empty() ? "" : ",") + h.host + ":" + std::to_string(h.port);
    return "mysql://" + address_.user + ":***@" + hosts + "/" + address_.schema;
  }

  Status ping() override {
    return read([](Session& s) -> Status {
      CUNHUO_TRY(s.query("SELECT 1"));
      return {};
    });
  }

  Status flush() override {
    return {};
  }  // InnoDB is durable at each commit (flush_log_at_trx_commit=1)

  // Creates the schema if this user may; harmless when it exists.
  Status create_schema_if_missing() {
    auto conn = CUNHUO_TRY(connect(/*with_schema=*/false));
    return conn->plain("CREATE DATABASE IF NOT EXISTS `" + address_.schema +
                       "` CHARACTER SET utf8mb4 COLLATE utf8mb4_bin");
  }

 protected:
  Status run(TxMode mode, const std::function<Status(Session&)>& body) override {
    for (int attempt = 0;; ++attempt) {
      auto acquired = acquire();
      if (!acquired.ok()) return acquired.error();
      std::unique_ptr<MysqlSession> session = std::move(*acquired);
      Status st = session->set_read_only(mode == TxMode::read);
      if (st.ok()) st = body(*session);
      if (st.ok())
        st = session->commit();
      else
        session->rollback();
      session->end_read_latest();
      release(std::move(session));
      if (st.ok() || !is_retryable(st.error()) || attempt >= options_.max_retries) return st;
      backoff(attempt);
    }
  }

 private:
  // A connection to the node in use, or else to the next of the url's nodes that answers
  // (which then becomes the node in use).
  Result<std::unique_ptr<MysqlSession>> connect(bool with_schema) {
    const std::size_t n = address_.hosts.size();
    const std::size_t first = current_.load();
    Error last = make_error(ErrorKind::unavailable, "store_unavailable", "no store host");
    for (std::size_t i = 0; i < n; ++i) {
      const std::size_t host = (first + i) % n;
      auto session = connect_to(host, with_schema);
      std::size_t expected = first;
      if (session.ok()) {
        if (host != first && current_.compare_exchange_strong(expected, host)) moved_to(host);
        return session;
      }
      last = session.error();
    }
    return last;
  }

  Result<std::unique_ptr<MysqlSession>> connect_to(std::size_t host, bool with_schema) {
    ensure_thread_initialised();
    const MysqlHost& where = address_.hosts[host];
    try {
      sql::ConnectOptionsMap opts;
      opts["hostName"] = sql::SQLString(where.host);
      opts["port"] = where.port;
      opts["userName"] = sql::SQLString(address_.user);
      opts["password"] = sql::SQLString(address_.password);
      if (with_schema) opts["schema"] = sql::SQLString(address_.schema);
      opts["OPT_CHARSET_NAME"] = sql::SQLString("utf8mb4");
      opts["OPT_RECONNECT"] = false;  // we reconnect ourselves, knowing what was in flight
      opts["OPT_CONNECT_TIMEOUT"] = kConnectTimeoutS;
      opts["OPT_READ_TIMEOUT"] = kReadTimeoutS;
      opts["OPT_WRITE_TIMEOUT"] = kWriteTimeoutS;
      std::unique_ptr<sql::Connection> conn(driver()->connect(opts));
      auto session = std::make_unique<MysqlSession>(std::move(conn), host);
      CUNHUO_CHECK(session->detect_galera());
      if (session->galera()) {
        if (Status synced = session->require_synced(); !synced.ok()) {
          spdlog::warn("store: skipping {}:{}: {}", where.host, where.port, synced.error().message);
          return synced.error();
        }
      }
      CUNHUO_CHECK(session->plain("SET NAMES utf8mb4 COLLATE utf8mb4_bin"));
      CUNHUO_CHECK(session->plain("SET SESSION time_zone = '+00:00'"));
      CUNHUO_CHECK(session->plain(
          "SET SESSION sql_mode = "
          "'STRICT_ALL_TABLES,NO_ENGINE_SUBSTITUTION,ERROR_FOR_DIVISION_BY_ZERO,NO_ZERO_DATE'"));
      CUNHUO_CHECK(session->plain("SET SESSION TRANSACTION ISOLATION LEVEL REPEATABLE READ"));
      CUNHUO_CHECK(session->plain("SET SESSION innodb_lock_wait_timeout = " +
                                  std::to_string(kLockWaitTimeoutS)));
      CUNHUO_CHECK(session->plain("SET autocommit = 0"));
      return session;
    } catch (const sql::SQLException& e) {
      spdlog::warn("cannot connect to {}:{}: {} ({})", where.host, where.port, e.what(),
                   e.getErrorCode());
      return make_error(ErrorKind::unavailable, "store_unavailable", "cannot connect to the store");
    }
  }

  Result<std::unique_ptr<MysqlSession>> acquire() {
    ensure_thread_initialised();
    maybe_fail_back();
    std::vector<std::unique_ptr<MysqlSession>> strays;  // closed after the lock is let go
    {
      std::unique_lock lock(mu_);
      if (!cv_.wait_for(lock, kPoolWait,
                        [&] { return !idle_.empty() || open_ < options_.pool_size; }))
        return make_error(ErrorKind::unavailable, "store_busy_pool",
                          "all store connections are busy");
      take_idle_off(current_.load(), strays);
      if (!idle_.empty()) {
        auto s = std::move(idle_.back());
        idle_.pop_back();
        return s;
      }
      ++open_;  // reserve a slot, connect outside the lock
    }
    auto fresh = connect(/*with_schema=*/true);
    if (!fresh.ok()) {
      std::lock_guard lock(mu_);
      --open_;
      cv_.notify_one();
    }
    return fresh;
  }

  // A connection that works goes back to the pool, unless its node is no longer the one in
  // use. A broken one is closed, and that alone: a slow, killed or idle-timed-out query says
  // nothing about the node. Whether the node itself is gone is asked with a fresh connection
  // (which then takes the broken one's place); only when that fails is the node left.
  void release(std::unique_ptr<MysqlSession> session) {
    const std::size_t host = session->host();
    if (!session->broken() && host == current_.load()) {
      std::lock_guard lock(mu_);
      idle_.push_back(std::move(session));
      cv_.notify_one();
      return;
    }
    const bool check_node = session->broken() && host == current_.load();
    session.reset();
    if (check_node) {
      auto fresh = connect_to(host, /*with_schema=*/true);
      if (fresh.ok()) {
        std::lock_guard lock(mu_);
        idle_.push_back(std::move(*fresh));
        cv_.notify_one();
        return;
      }
      leave(host);
    }
    std::lock_guard lock(mu_);
    --open_;
    cv_.notify_one();
  }

  // Moves the idle connections to any node but `keep` into `out` (to be closed), freeing
  // their places. Called with mu_ held.
  void take_idle_off(std::size_t keep, std::vector<std::unique_ptr<MysqlSession>>& out) {
    for (auto it = idle_.begin(); it != idle_.end();) {
      if ((*it)->host() != keep) {
        out.push_back(std::move(*it));
        it = idle_.erase(it);
        --open_;
      } else {
        ++it;
      }
    }
  }

  // The node `host` failed its check: its idle connections go (each would fail its next
  // transaction), and when it was the node in use, the pool moves to the next one.
  void leave(std::size_t host) {
    std::vector<std::unique_ptr<MysqlSession>> gone;  // closed after the lock is let go
    std::lock_guard lock(mu_);
    for (auto it = idle_.begin(); it != idle_.end();) {
      if ((*it)->host() == host) {
        gone.push_back(std::move(*it));
        it = idle_.erase(it);
        --open_;
      } else {
        ++it;
      }
    }
    std::size_t in_use = host;
    const std::size_t next = (host + 1) % address_.hosts.size();
    if (next != host && current_.compare_exchange_strong(in_use, next)) {
      spdlog::warn("store: lost {}:{}", address_.hosts[host].host, address_.hosts[host].port);
      moved_to(next);
    }
    cv_.notify_all();
  }

  void moved_to(std::size_t host) {
    moved_at_ms_ = clock_.now_ms();
    spdlog::warn("store: now using {}:{}", address_.hosts[host].host, address_.hosts[host].port);
  }

  // kFailBackAfter after the pool left the first node, one transaction asks it again; when it
  // answers and is Synced the pool is back on it and the connections elsewhere are closed.
  // When it does not, it is asked again after another kFailBackAfter.
  void maybe_fail_back() {
    if (current_.load() == 0) return;
    const auto due = moved_at_ms_.load() + std::chrono::milliseconds(kFailBackAfter).count();
    if (clock_.now_ms() < due || probing_.exchange(true)) return;
    auto first = connect_to(0, /*with_schema=*/true);
    if (!first.ok()) {
      moved_at_ms_ = clock_.now_ms();
      probing_ = false;
      return;
    }
    std::vector<std::unique_ptr<MysqlSession>> gone;  // closed after the lock is let go
    {
      std::lock_guard lock(mu_);
      current_ = 0;
      take_idle_off(0, gone);
      if (open_ < options_.pool_size) {
        ++open_;
        idle_.push_back(std::move(*first));
      } else {
        gone.push_back(std::move(*first));
      }
      cv_.notify_all();
    }
    spdlog::warn("store: back on {}:{}", address_.hosts[0].host, address_.hosts[0].port);
    probing_ = false;
  }

  MysqlAddress address_;
  DatabaseOptions options_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::unique_ptr<MysqlSession>> idle_;
  int open_ = 0;
  std::atomic<std::size_t> current_{0};  // the index of the node in use
  const Clock& clock_;
  std::atomic<std::int64_t> moved_at_ms_{0};  // when the pool last moved to another node
  std::atomic<bool> probing_{false};          // a transaction is asking the first node
};

}  // namespace

Result<std::unique_ptr<Database>> open_mysql(const MysqlAddress& address,
                                             const DatabaseOptions& options) {
  auto db = std::make_unique<MysqlDatabase>(address, options);
  if (auto st = db->create_schema_if_missing(); !st.ok())
    spdlog::info("could not create schema (it may exist already): {}", st.error().message);
  CUNHUO_CHECK(db->ping());
  return std::unique_ptr<Database>(std::move(db));
}

}  // namespace cunhuo::db::detail
