// Private to core/db: what the two store implementations share.
#pragma once

#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "core/db/database.hpp"

namespace cunhuo::db::detail {

constexpr std::size_t kStatementCacheLimit = 512;

Result<std::unique_ptr<Database>> open_sqlite(const std::string& path,
                                              const DatabaseOptions& options);

struct MysqlAddress {
  std::string user, password, host, schema;
  int port = 3306;
  int pool = 0;  // 0: use DatabaseOptions::pool_size
};
Result<MysqlAddress> parse_mysql_url(std::string_view url);
Result<std::unique_ptr<Database>> open_mysql(const MysqlAddress& address,
                                             const DatabaseOptions& options);

// Splits a migration script into statements at ";" ending a line.
std::vector<std::string> split_script(std::string_view sql);

inline bool is_retryable(const Error& e) { return e.code == kStoreBusy || e.code == kStoreLost; }

inline void backoff(int attempt) {
  std::this_thread::sleep_for(std::chrono::milliseconds(2 << std::min(attempt, 8)));
}

}  // namespace cunhuo::db::detail
