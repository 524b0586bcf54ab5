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

 private:
  StoreKind kind_;
  std::string url_, dir_, schema_;
  std::unique_ptr<db::Database> db_;
};

std::string store_name(StoreKind kind);
std::string temp_dir();

// Runs `body(StoreKind)` once as "<name> [sqlite]" and once as "<name> [mariadb]".
#define STORE_TEST(name, tags)                                                                  \
  static void CUNHUO_CONCAT(store_test_body_, __LINE__)(::cunhuo::test::StoreKind);             \
  TEST_CASE(name " [sqlite]", tags "[sqlite]") {                                                \
    CUNHUO_CONCAT(store_test_body_, __LINE__)(::cunhuo::test::StoreKind::sqlite);               \
  }                                                                                             \
  TEST_CASE(name " [mariadb]", tags "[mariadb]") {                                              \
    CUNHUO_CONCAT(store_test_body_, __LINE__)(::cunhuo::test::StoreKind::mariadb);              \
  }                                                                                             \
  static void CUNHUO_CONCAT(store_test_body_, __LINE__)([[maybe_unused]] ::cunhuo::test::StoreKind store_kind)

struct HttpReply {
  int status = 0;
  std::vector<std::pair<std::string, std::string>> headers;  // names lower-case
  std::string body;
  std::optional<std::string> header(const std::string& lower_name) const;
};

// A deliberately plain HTTP/1.1 client over one TCP connection, so tests control every
// byte sent (missing headers, bad bodies) and can see whether the server closed it.
class HttpClient {
 public:
  explicit HttpClient(std::uint16_t port);
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  void send_raw(const std::string& bytes);
  HttpReply read_reply();
  HttpReply request(const std::string& method, const std::string& path, const std::string& body = "",
                    const std::vector<std::pair<std::string, std::string>>& headers = {});
  // True when the server has closed the connection (reads EOF within the timeout).
  bool closed_by_server(int timeout_ms = 2000);

 private:
  int fd_ = -1;
  std::string buffer_;
};

// JSON POST with Content-Type set.
HttpReply post_json(HttpClient& client, const std::string& path, const std::string& body,
                    std::vector<std::pair<std::string, std::string>> headers = {});

}  // namespace cunhuo::test
