#include "core/db/migrations.hpp"

#include <spdlog/spdlog.h>

#include <cstdio>

namespace cunhuo::db {
namespace {

constexpr std::string_view kCreateLedger =
    "CREATE TABLE IF NOT EXISTS schema_migrations (\n"
    "  module VARCHAR(64) NOT NULL,\n"
    "  version INTEGER NOT NULL,\n"
    "  name VARCHAR(200) NOT NULL,\n"
    "  checksum VARCHAR(16) NOT NULL,\n"
    "  applied_at BIGINT NOT NULL,\n"
    "  PRIMARY KEY (module, version)\n"
    ")";

std::string checksum(std::string_view sql) {
  std::uint64_t h = 1469598103934665603ULL;  // FNV-1a
  for (unsigned char c : sql) {
    h ^= c;
    h *= 1099511628211ULL;
  }
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h));
  return buf;
}

std::int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// Applies one migration unless it is recorded already. On SQLite the DDL and the record
// commit together; MariaDB commits DDL implicitly, so migrations use IF NOT EXISTS and
// can be re-run safely if a crash falls between the DDL and the record.
Result<bool> apply_one(Session& s, const Migration& m) {
  auto row = CUNHUO_TRY(
      s.query_one("SELECT checksum FROM schema_migrations WHERE module = ? AND version = ?",
                  {m.module, m.version}));
  const std::string sum = checksum(m.sql);
  if (row) {
    if (row->str(0) != sum)
      return make_error(ErrorKind::internal, "migration_changed",
                        std::string(m.module) + " migration " + std::to_string(m.version) +
                            " was changed after it was applied; add a new migration instead");
    return false;
  }
  CUNHUO_CHECK(s.exec_script(expand_sql(m.sql, s.dialect())));
  CUNHUO_TRY(
      s.exec("INSERT INTO schema_migrations (module, version, name, checksum, applied_at) VALUES "
             "(?, ?, ?, ?, ?)",
             {m.module, m.version, m.name, sum, now_ms()}));
  spdlog::info("applied migration {} {} {}", m.module, m.version, m.name);
  return true;
}

Result<int> apply_all(Session& s, std::span<const Migration> migrations) {
  int applied = 0;
  for (const auto& m : migrations) applied += CUNHUO_TRY(apply_one(s, m)) ? 1 : 0;
  return applied;
}

}  // namespace

std::string expand_sql(std::string_view sql, Dialect dialect) {
  const std::string_view token = "{{ID}}";
  const std::string_view id = dialect == Dialect::sqlite ? "INTEGER PRIMARY KEY AUTOINCREMENT"
                                                         : "BIGINT PRIMARY KEY AUTO_INCREMENT";
  std::string out;
  std::size_t pos = 0;
  while (true) {
    auto hit = sql.find(token, pos);
    out.append(sql.substr(pos, hit - pos));
    if (hit == std::string_view::npos) break;
    out.append(id);
    pos = hit + token.size();
  }
  return out;
}

Result<int> migrate(Database& db, std::span<const Migration> migrations) {
  // One session does it all: SQLite applies every pending migration in one transaction;
  // on MariaDB a named lock (held by this connection) makes concurrent starters take turns.
  return db.write([&](Session& s) -> Result<int> {
    CUNHUO_CHECK(s.exec_script(kCreateLedger));
    if (s.dialect() == Dialect::sqlite) return apply_all(s, migrations);
    auto got = CUNHUO_TRY(s.query_one("SELECT GET_LOCK('cunhuo_migrate', 60)"));
    if (!got || got->i64(0) != 1)
      return make_error(ErrorKind::unavailable, "migration_locked", "another process is migrating");
    auto applied = apply_all(s, migrations);
    CUNHUO_TRY(s.query("SELECT RELEASE_LOCK('cunhuo_migrate')"));
    return applied;
  });
}

}  // namespace cunhuo::db
