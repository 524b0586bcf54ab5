#include "tests/support/support.hpp"

#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <stdexcept>

#include "core/db/migrations.hpp"
#include "storefront/app.hpp"

namespace cunhuo::test {
namespace {

std::atomic<int> g_counter{0};

std::string mysql_base() {
  const char* env = std::getenv("CUNHUO_TEST_MYSQL");
  if (env == nullptr || *env == '\0')
    FAIL(
        "CUNHUO_TEST_MYSQL is not set: run the suite through deploy/test.sh, which starts MariaDB");
  return env;
}

}  // namespace

std::string store_name(StoreKind kind) { return kind == StoreKind::sqlite ? "sqlite" : "mariadb"; }

std::string temp_dir() {
  std::string templ = (std::filesystem::temp_directory_path() / "cunhuo-test.XXXXXX").string();
  if (mkdtemp(templ.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
  return templ;
}

TestStore::TestStore(StoreKind kind) : kind_(kind) {
  if (kind == StoreKind::sqlite) {
    dir_ = temp_dir();
    url_ = "sqlite:" + dir_ + "/test.db";
  } else {
    schema_ = "cunhuo_t_" + std::to_string(::getpid()) + "_" + std::to_string(g_counter++);
    url_ = "mysql://" + mysql_base() + "/" + schema_;
  }
  auto opened = db::open_database(url_);
  if (!opened.ok()) FAIL("cannot open test store " << url_ << ": " << opened.error().message);
  db_ = std::move(*opened);
}

TestStore::~TestStore() {
  if (kind_ == StoreKind::mariadb && db_) {
    (void)db_->write([&](db::Session& s) -> Status {
      CUNHUO_TRY(s.exec("DROP DATABASE IF EXISTS " + schema_));
      return {};
    });
  }
  db_.reset();
  if (!dir_.empty()) std::filesystem::remove_all(dir_);
}

std::unique_ptr<db::Database> TestStore::reopen() const {
  auto opened = db::open_database(url_);
  REQUIRE(opened.ok());
  return std::move(*opened);
}

void TestStore::migrate() {
  auto migrations = storefront::all_migrations();
  auto applied = db::migrate(*db_, migrations);
  if (!applied.ok()) FAIL("migrations failed: " << applied.error().message);
}

}  // namespace cunhuo::test
