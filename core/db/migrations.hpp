// Versioned schema migrations. Each module owns an ordered list; every applied
// migration is recorded (module, version, name, checksum) and never applied again.
// A recorded migration whose text has since changed stops the start-up: history is
// append-only, so a fix is a new migration.
//
// SQL is written once for both stores in the common subset of SQLite and MariaDB;
// `{{ID}}` expands to the dialect's auto-increment primary key.
#pragma once

#include <span>
#include <string_view>
#include <vector>

#include "core/db/database.hpp"

namespace cunhuo::db {

struct Migration {
  std::string_view module;
  int version;
  std::string_view name;
  std::string_view sql;
};

// Applies the migrations not yet recorded, in order, and returns how many ran.
Result<int> migrate(Database& db, std::span<const Migration> migrations);

// The SQL of a migration with the dialect's tokens expanded.
std::string expand_sql(std::string_view sql, Dialect dialect);

}  // namespace cunhuo::db
