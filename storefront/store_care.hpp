// The operator's commands on a store outside the service (cunhuo backup / restore / check):
// an online copy of an SQLite store, a restore that checks the copy before it replaces the
// store, and the check itself (the schema brought up to date, the ledger balanced). A
// MariaDB store is copied and restored with mariadb-backup (deploy/backup.sh, restore.sh),
// which then run `cunhuo check` before the service starts.
#pragma once

#include <string>

#include "core/config.hpp"
#include "core/result.hpp"

namespace cunhuo::storefront {

// Migrates the store (as the service would at start) and checks that the ledger balances;
// an SQLite store is also checked page by page (PRAGMA quick_check).
Status check_store(const std::string& db_url);

// Copies the SQLite store of `db_url` into `to_file` while the service may write to it.
Status backup_store(const std::string& db_url, const std::string& to_file);

// Replaces the SQLite store of `db_url` with the copy in `from_file`, once a scratch copy of
// it passes check_store; on a failed check the store is left as it was. Refused
// (store_in_use) while any service serves the store (db/store_lock.hpp); the new store
// takes the old one's place in one rename, so there is a store at every moment.
Status restore_store(const std::string& from_file, const std::string& db_url);

}  // namespace cunhuo::storefront
