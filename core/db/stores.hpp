// Private to core/db: what the two store implementations share.
#pragma once

#include <chrono>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "core/db/database.hpp"

namespace cunhuo::db::detail {

constexpr std::size_t kStatementCacheLimit = 512;

Result<std::unique_ptr<Database>> open_sqlite(const std::string& path,
                                              const DatabaseOptions& options);

struct MysqlHost {
  std::string host;
  int port = 3306;
};
// A Galera cluster is named by several hosts: a process uses the first that answers and
// moves on to the next when its node dies or leaves the cluster's primary component.
struct MysqlAddress {
  std::string user, password, schema;
  std::vector<MysqlHost> hosts;
  int pool = 0;  // 0: use DatabaseOptions::pool_size
};
inline constexpr std::size_t kMaxMysqlHosts = 16;
Result<MysqlAddress> parse_mysql_url(std::string_view url);
Result<std::unique_ptr<Database>> open_mysql(const MysqlAddress& address,
                                             const DatabaseOptions& options);

// Splits a migration script into statements at ";" ending a line.
std::vector<std::string> split_script(std::string_view sql);

inline bool is_retryable(const Error& e) { return e.code == kStoreBusy || e.code == kStoreLost; }

// Waits a random time up to 2^(attempt+1) ms (at most 512): transactions that conflicted
// (on Galera, the losers of a certification) do not meet again at the same moment.
inline void backoff(int attempt) {
  thread_local std::minstd_rand random(std::random_device{}());
  const int cap = 2 << std::min(attempt, 8);
  std::this_thread::sleep_for(std::chrono::milliseconds(cap / 2 + random() % (cap / 2 + 1)));
}

}  // namespace cunhuo::db::detail
