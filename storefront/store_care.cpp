#include "storefront/store_care.hpp"

#include <spdlog/spdlog.h>

#include <filesystem>

#include "core/db/backup.hpp"
#include "core/db/store_lock.hpp"
#include "core/db/database.hpp"
#include "core/db/migrations.hpp"
#include "payments/ledger.hpp"
#include "storefront/app.hpp"

namespace cunhuo::storefront {
namespace {

Error care_error(const std::string& code, const std::string& message) {
  return make_error(ErrorKind::invalid, code, message);
}

// The files SQLite keeps beside a store in WAL mode (or a rollback journal).
void remove_sidecars(const std::string& path) {
  std::error_code ignored;
  for (const char* suffix : {"-wal", "-shm", "-journal"})
    std::filesystem::remove(path + suffix, ignored);
}

void remove_with_sidecars(const std::string& path) {
  std::error_code ignored;
  std::filesystem::remove(path, ignored);
  remove_sidecars(path);
}

Status quick_check(db::Database& db) {
  auto verdict = db.read([](db::Session& s) { return s.query_one("PRAGMA quick_check"); });
  if (!verdict.ok()) return verdict.error();
  if (!*verdict || (*verdict)->str(0) != "ok")
    return care_error("store_damaged",
                      "the store fails its page check: " + (*verdict ? (*verdict)->str(0) : ""));
  return {};
}

}  // namespace

Status check_store(const std::string& db_url) {
  auto db = CUNHUO_TRY(db::open_database(db_url));
  if (db->dialect() == db::Dialect::sqlite) CUNHUO_CHECK(quick_check(*db));
  const auto migrations = all_migrations();
  CUNHUO_CHECK(db::migrate(*db, migrations));
  CUNHUO_CHECK(db->read([](db::Session& s) { return payments::check_ledger(s); }));
  return db->flush();
}

Status backup_store(const std::string& db_url, const std::string& to_file) {
  const auto path = db::sqlite_path(db_url);
  if (!path.ok())
    return care_error("not_sqlite",
                      "cunhuo backup copies an sqlite: store; copy MariaDB with deploy/backup.sh");
  return db::backup_sqlite(*path, to_file);
}

Status restore_store(const std::string& from_file, const std::string& db_url) {
  const auto path = db::sqlite_path(db_url);
  if (!path.ok())
    return care_error("not_sqlite",
                      "cunhuo restore restores an sqlite: store; MariaDB: deploy/restore.sh");
  if (auto parent = std::filesystem::path(*path).parent_path(); !parent.empty())
    std::filesystem::create_directories(parent);
  // Before anything is touched: no service may have the store open (it would go on
  // writing into the replaced file), and none may start until the new one is in place.
  const auto lock = CUNHUO_TRY(db::StoreLock::replacing(*path));
  const std::string scratch = *path + ".restoring";
  remove_with_sidecars(scratch);
  CUNHUO_CHECK(db::backup_sqlite(from_file, scratch));
  if (auto checked = check_store("sqlite:" + scratch); !checked.ok()) {
    remove_with_sidecars(scratch);
    return checked;
  }
  // A stale WAL beside the new file would be replayed into it: only the old store's side
  // files go (the old store stays until the rename replaces it, so there is always one).
  remove_sidecars(*path);
  std::error_code renamed;
  std::filesystem::rename(scratch, *path, renamed);
  if (renamed) return care_error("restore_failed", "cannot move the restored store into place");
  return db::sync_folder_of(*path);
}

}  // namespace cunhuo::storefront
