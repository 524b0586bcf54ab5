#include "core/db/migrations.hpp"
#include "storefront/app.hpp"
#include "tests/support/support.hpp"

using namespace cunhuo;
using cunhuo::test::TestStore;

namespace {
constexpr db::Migration kFirst[] = {
    {"demo", 1, "widgets",
     "CREATE TABLE IF NOT EXISTS widgets (id {{ID}}, name VARCHAR(50) NOT NULL);\n"
     "CREATE INDEX IF NOT EXISTS widgets_name ON widgets (name);"},
};
constexpr db::Migration kBoth[] = {
    kFirst[0],
    {"demo", 2, "widget colour", "ALTER TABLE widgets ADD COLUMN colour VARCHAR(20);"},
};
constexpr db::Migration kEdited[] = {
    {"demo", 1, "widgets",
     "CREATE TABLE IF NOT EXISTS widgets (id {{ID}}, name VARCHAR(99) NOT NULL);"},
};
}  // namespace

STORE_TEST("migrations apply once and are recorded", "[store][migrations]") {
  TestStore store(store_kind);
  CHECK(*db::migrate(store.db(), kFirst) == 1);
  CHECK(*db::migrate(store.db(), kFirst) == 0);
  CHECK(*db::migrate(store.db(), kBoth) == 1);
  auto rows = store.db().read([](db::Session& s) {
    return s.query(
        "SELECT module, version, name FROM schema_migrations WHERE module = 'demo' ORDER BY "
        "version");
  });
  REQUIRE(rows->size() == 2);
  CHECK((*rows)[1].str(2) == "widget colour");
  auto insert = store.db().write([](db::Session& s) -> Status {
    CUNHUO_TRY(s.exec("INSERT INTO widgets (name, colour) VALUES (?, ?)", {"w", "red"}));
    return {};
  });
  CHECK(insert.ok());
}

STORE_TEST("a migration changed after it was applied stops the start", "[store][migrations]") {
  TestStore store(store_kind);
  REQUIRE(db::migrate(store.db(), kFirst).ok());
  auto edited = db::migrate(store.db(), kEdited);
  REQUIRE_FALSE(edited.ok());
  CHECK(edited.error().code == "migration_changed");
}

STORE_TEST("every module's migrations apply on a fresh store and again as a no-op",
           "[store][migrations]") {
  TestStore store(store_kind);
  // Through db::migrate itself: TestStore::migrate may copy a migrated template instead.
  const auto migrations = storefront::all_migrations();
  auto first = db::migrate(store.db(), migrations);
  REQUIRE(first.ok());
  CHECK(*first == static_cast<int>(migrations.size()));
  auto again = db::migrate(store.db(), migrations);
  REQUIRE(again.ok());
  CHECK(*again == 0);
  auto count = store.db().read(
      [](db::Session& s) { return s.query_one("SELECT COUNT(*) FROM schema_migrations"); });
  CHECK((*count)->i64(0) >= 5);
}

TEST_CASE("the id token expands per dialect", "[migrations]") {
  CHECK(db::expand_sql("id {{ID}},", db::Dialect::sqlite) ==
        "id INTEGER PRIMARY KEY AUTOINCREMENT,");
  CHECK(db::expand_sql("id {{ID}},", db::Dialect::mysql) ==
        "id BIGINT PRIMARY KEY AUTO_INCREMENT,");
}
