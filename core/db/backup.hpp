// Copies of an embedded SQLite store, taken while the service writes to it. The copy is one
// read snapshot of the store (SQLite's online backup API in a single step): every commit
// that finished before the copy began is in it, and none half. MariaDB stores are copied
// by mariadb-backup (deploy/backup.sh), outside the service.
#pragma once

#include <string>
#include <string_view>

#include "core/result.hpp"

namespace cunhuo::db {

// The file an "sqlite:PATH" url names; an `invalid` error for any other store.
Result<std::string> sqlite_path(std::string_view url);

// Copies the store at `from_path` into the file `to_path` (written beside it first, made
// durable, then renamed over it: a reader never sees half a copy), readable by its owner
// only. The source may be in use by other processes; writers are not held up (WAL).
Status backup_sqlite(const std::string& from_path, const std::string& to_path);

// fsync of the folder holding `path`, so that a rename into it is durable.
Status sync_folder_of(const std::string& path);

}  // namespace cunhuo::db
