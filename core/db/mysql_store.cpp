// MySQL / MariaDB through MySQL Connector/C++ (1.1 API). The driver wants every thread
// that uses it initialised, and a connection used by one thread at a time: sessions
// come from a bounded pool and go back after each transaction. A dropped connection
// is discarded and the transaction retried on a fresh one, unless the drop came during
// COMMIT, when the outcome is unknown and the caller is told so.
//
// MariaDB Galera (a multi-primary cluster): a transaction that loses certification to one
// committed on another node fails with 1213, as a deadlock does, and is retried the same
// way. The url may name several nodes; the pool connects to one of them (the first that
// answers) and, when that node dies or leaves the primary component (1047: not ready), drops
// its connections and moves on to the next. A transaction cut off before COMMIT never
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
      : address_(std::move(address)), options_(options) {
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
        if (host != first && current_.compare_exchange_strong(expected, host))
          spdlog::warn("store: now using {}:{}", address_.hosts[host].host,
                       address_.hosts[host].port);
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
      opts["OPT_CONNECT_TIMEOUT"] = 5;
      opts["OPT_READ_TIMEOUT"] = 60;
      opts["OPT_WRITE_TIMEOUT"] = 60;
      std::unique_ptr<sql::Connection> conn(driver()->connect(opts));
      auto session = std::make_unique<MysqlSession>(std::move(conn), host);
      CUNHUO_CHECK(session->detect_galera());
      CUNHUO_CHECK(session->plain("SET NAMES utf8mb4 COLLATE utf8mb4_bin"));
      CUNHUO_CHECK(session->plain("SET SESSION time_zone = '+00:00'"));
      CUNHUO_CHECK(session->plain(
          "SET SESSION sql_mode = "
          "'STRICT_ALL_TABLES,NO_ENGINE_SUBSTITUTION,ERROR_FOR_DIVISION_BY_ZERO,NO_ZERO_DATE'"));
      CUNHUO_CHECK(session->plain("SET SESSION TRANSACTION ISOLATION LEVEL REPEATABLE READ"));
      CUNHUO_CHECK(session->plain("SET SESSION innodb_lock_wait_timeout = 10"));
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
    {
      std::unique_lock lock(mu_);
      if (!cv_.wait_for(lock, kPoolWait,
                        [&] { return !idle_.empty() || open_ < options_.pool_size; }))
        return make_error(ErrorKind::unavailable, "store_busy_pool",
                          "all store connections are busy");
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

  // A broken connection is closed. When its node is the one in use, that node is taken as
  // gone: the idle connections to it go too (each would fail its next transaction), and new
  // ones are made to the next node.
  void release(std::unique_ptr<MysqlSession> session) {
    std::vector<std::unique_ptr<MysqlSession>> gone;  // closed outside the lock
    {
      std::lock_guard lock(mu_);
      if (!session->broken()) {
        idle_.push_back(std::move(session));
        cv_.notify_one();
        return;
      }
      const std::size_t host = session->host();
      gone.push_back(std::move(session));
      std::size_t in_use = host;
      if (address_.hosts.size() > 1 &&
          current_.compare_exchange_strong(in_use, (host + 1) % address_.hosts.size()))
        spdlog::warn("store: lost {}:{}, moving to the next node", address_.hosts[host].host,
                     address_.hosts[host].port);
      for (auto it = idle_.begin(); it != idle_.end();) {
        if ((*it)->host() == host) {
          gone.push_back(std::move(*it));
          it = idle_.erase(it);
        } else {
          ++it;
        }
      }
      open_ -= static_cast<int>(gone.size());
      cv_.notify_all();
    }
  }

  MysqlAddress address_;
  DatabaseOptions options_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::unique_ptr<MysqlSession>> idle_;
  int open_ = 0;
  std::atomic<std::size_t> current_{0};  // the index of the node in use
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
