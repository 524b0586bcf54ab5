// Test support: fresh stores of both kinds, a raw-socket HTTP client, and an in-process
// server. Store tests are written once with STORE_TEST and run on SQLite and MariaDB.
#pragma once

#include <catch2/catch.hpp>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/clock.hpp"
#include "core/db/database.hpp"
#include "tests/support/http_client.hpp"

namespace cunhuo::test {

enum class StoreKind { sqlite, mariadb };

// A store of its own for one test: a temporary SQLite file, or a new MariaDB database
// on the suite's server (CUNHUO_TEST_MYSQL=user:pass@host:port). Removed afterwards.
class TestStore {
 public:
  explicit TestStore(StoreKind kind);
  ~TestStore();
  db::Database& db() { return *db_; }
  const std::string& url() const { return url_; }
  StoreKind kind() const { return kind_; }
  // Opens another handle on the same store (as a second process would).
  std::unique_ptr<db::Database> reopen() const;
  // Applies every module's migrations.
  void migrate();
  // On MariaDB, gives the empty store every module's tables as migrated, copied from a
  // template schema migrated once per server (much faster than migrating); else nothing.
  void copy_migrated_template();

 private:
  StoreKind kind_;
  std::string url_, dir_, schema_;
  std::unique_ptr<db::Database> db_;
};

std::string store_name(StoreKind kind);
std::string temp_dir();

// Publishes `n` events of `topic`, each with an empty object for payload, in one
// transaction (the outbox's backlog a dispatcher test works through).
Status publish_events(db::Database& db, const Clock& clock, const std::string& topic, int n);

// Runs `body(StoreKind)` once as "<name> [sqlite]" and once as "<name> [mariadb]".
#define STORE_TEST(name, tags)                                                      \
  static void CUNHUO_CONCAT(store_test_body_, __LINE__)(::cunhuo::test::StoreKind); \
  TEST_CASE(name " [sqlite]", tags "[sqlite]") {                                    \
    CUNHUO_CONCAT(store_test_body_, __LINE__)(::cunhuo::test::StoreKind::sqlite);   \
  }                                                                                 \
  TEST_CASE(name " [mariadb]", tags "[mariadb]") {                                  \
    CUNHUO_CONCAT(store_test_body_, __LINE__)(::cunhuo::test::StoreKind::mariadb);  \
  }                                                                                 \
  static void CUNHUO_CONCAT(store_test_body_,                                       \
                            __LINE__)([[maybe_unused]] ::cunhuo::test::StoreKind store_kind)

}  // namespace cunhuo::test
