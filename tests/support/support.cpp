#include "tests/support/support.hpp"

#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <cstdio>
#include <span>
#include <cstdlib>
#include <filesystem>
#include <stdexcept>

#include "core/db/migrations.hpp"
#include "core/outbox/outbox.hpp"
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

Status publish_events(db::Database& db, const Clock& clock, const std::string& topic, int n) {
  return db.write([&](db::Session& tx) -> Status {
    for (int i = 0; i < n; ++i) CUNHUO_TRY(outbox::publish(tx, topic, "{}", clock));
    return {};
  });
}

std::string temp_dir() {
  std::string templ = (std::filesystem::temp_directory_path() / "cunhuo-test.XXXXXX").string();
  if (mkdtemp(templ.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
  return templ;
}

namespace {

// MariaDB's DDL is slow: migrating an empty schema takes some 260 statements at tens of
// milliseconds each, most of a MariaDB test's time. So the first test against a server
// migrates a template schema, named by a fingerprint of the migrations, and every test then
// copies its tables (CREATE TABLE LIKE and the rows the migrations wrote), about a third of
// the work. The App's own migrate() then finds every migration recorded, checksums equal.
std::string template_schema(std::span<const db::Migration> migrations) {
  std::uint64_t h = 1469598103934665603ULL;  // FNV-1a over every migration's identity and text
  auto mix = [&h](std::string_view bytes) {
    for (unsigned char c : bytes) h = (h ^ c) * 1099511628211ULL;
    h = (h ^ 0xff) * 1099511628211ULL;
  };
  for (const auto& m : migrations) {
    mix(m.module);
    mix(std::to_string(m.version));
    mix(m.sql);
  }
  char hex[17];
  std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(h));
  return std::string("cunhuo_tmpl_") + hex;
}

constexpr std::string_view kTemplateReady = "cunhuo_template_ready";

Status ensure_template(db::Session& s, const std::string& schema,
                       std::span<const db::Migration> migrations) {
  auto ready = CUNHUO_TRY(s.query_one(
      "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = ? AND table_name = ?",
      {schema, std::string(kTemplateReady)}));
  if (ready && ready->i64(0) == 1) return {};
  CUNHUO_TRY(s.exec("DROP DATABASE IF EXISTS " + schema));
  auto opened = db::open_database("mysql://" + mysql_base() + "/" + schema);
  if (!opened.ok()) return opened.error();
  CUNHUO_TRY(db::migrate(**opened, migrations));
  CUNHUO_TRY(s.exec("CREATE TABLE " + schema + "." + std::string(kTemplateReady) + " (x INT)"));
  return {};
}

Status clone_template(db::Session& s, const std::string& schema) {
  // Only into an empty store: one that has tables is migrated as it is.
  auto own = CUNHUO_TRY(s.query_one(
      "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = DATABASE()"));
  if (own && own->i64(0) > 0) return {};
  auto tables = CUNHUO_TRY(
      s.query("SELECT table_name FROM information_schema.tables WHERE table_schema = ? AND "
              "table_type = 'BASE TABLE' AND table_name <> ?",
              {schema, std::string(kTemplateReady)}));
  for (const auto& row : tables) {
    const std::string table = row.str(0);
    CUNHUO_TRY(s.exec("CREATE TABLE " + table + " LIKE " + schema + "." + table));
    CUNHUO_TRY(s.exec("INSERT INTO " + table + " SELECT * FROM " + schema + "." + table));
  }
  return {};
}

}  // namespace

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

namespace {

// deploy/test.sh throws its MariaDB away after the run (CUNHUO_TEST_MYSQL_THROWAWAY=1): then
// dropping each test's schema, some 100 tables at a few tens of milliseconds each, is time
// spent for nothing. Against a server that stays, each test cleans up after itself.
bool server_is_thrown_away() {
  const char* env = std::getenv("CUNHUO_TEST_MYSQL_THROWAWAY");
  return env != nullptr && std::string_view(env) == "1";
}

}  // namespace

TestStore::~TestStore() {
  if (kind_ == StoreKind::mariadb && db_ && !server_is_thrown_away()) {
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

void TestStore::copy_migrated_template() {
  if (kind_ != StoreKind::mariadb) return;
  const auto migrations = storefront::all_migrations();
  const std::string schema = template_schema(migrations);
  auto copied = db_->write([&](db::Session& s) -> Status {
    auto got = CUNHUO_TRY(s.query_one("SELECT GET_LOCK('cunhuo_test_template', 600)"));
    if (!got || got->i64(0) != 1)
      return make_error(ErrorKind::unavailable, "template_locked", "no turn at the template");
    auto made = ensure_template(s, schema, migrations);
    CUNHUO_TRY(s.query("SELECT RELEASE_LOCK('cunhuo_test_template')"));
    if (!made.ok()) return made;
    return clone_template(s, schema);
  });
  if (!copied.ok()) FAIL("cannot copy the migrated template: " << copied.error().message);
}

void TestStore::migrate() {
  auto migrations = storefront::all_migrations();
  copy_migrated_template();
  auto applied = db::migrate(*db_, migrations);
  if (!applied.ok()) FAIL("migrations failed: " << applied.error().message);
}

}  // namespace cunhuo::test
