// The service binary's `migrate` command, as the README describes it: on a fresh store it
// applies every migration and the seed, then exits 0; run again, it changes nothing.
#include <sys/wait.h>

#include <cstdlib>

#include "core/json.hpp"
#include "seeds/loader.hpp"
#include "storefront/app.hpp"
#include "tests/support/support.hpp"

using namespace cunhuo;
using namespace cunhuo::test;

namespace {

// How long one migrate run may take before the test gives up on it.
constexpr int kMigrateTimeoutS = 120;

// Runs `cunhuo migrate` on `db_url` with the fixture seed; returns its exit status
// (-1 when it did not exit normally).
int run_migrate(const std::string& db_url, const std::string& dir) {
  const std::string command = "timeout " + std::to_string(kMigrateTimeoutS) +
                              " '" CUNHUO_BINARY "' migrate --db '" + db_url +
                              "' --seed fixture --data-dir '" + dir + "' --log-level warn >>'" +
                              dir + "/migrate.log' 2>&1";
  const int status = std::system(command.c_str());
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

std::int64_t count(db::Database& db, const std::string& sql) {
  auto r = db.read([&](db::Session& s) { return s.query_one(sql); });
  REQUIRE(r.ok());
  return (*r)->i64(0);
}

// The number of entries of one list in the built-in fixture seed.
std::int64_t seeded(const char* list) {
  auto doc = Json::parse(*seeds::builtin("fixture"));
  REQUIRE(doc.ok());
  return static_cast<std::int64_t>(doc->find(list)->as_array().size());
}

}  // namespace

STORE_TEST("cunhuo migrate applies every migration and the seed to a fresh store, then exits 0",
           "[process][migrate]") {
  TestStore store(store_kind);  // fresh: nothing applied yet
  const std::string dir = temp_dir();
  REQUIRE(run_migrate(store.url(), dir) == 0);
  const auto expected_migrations = static_cast<std::int64_t>(storefront::all_migrations().size());
  CHECK(count(store.db(), "SELECT COUNT(*) FROM schema_migrations") == expected_migrations);
  CHECK(count(store.db(), "SELECT COUNT(*) FROM seed_sets WHERE name = 'fixture'") == 1);
  CHECK(count(store.db(), "SELECT COUNT(*) FROM households") == seeded("households"));
  CHECK(count(store.db(), "SELECT COUNT(*) FROM accounts") == seeded("accounts"));
  // A second run finds everything in place: it succeeds and adds nothing.
  REQUIRE(run_migrate(store.url(), dir) == 0);
  CHECK(count(store.db(), "SELECT COUNT(*) FROM schema_migrations") == expected_migrations);
  CHECK(count(store.db(), "SELECT COUNT(*) FROM households") == seeded("households"));
  CHECK(count(store.db(), "SELECT COUNT(*) FROM accounts") == seeded("accounts"));
}
