#include "core/db/backup.hpp"

#include <fcntl.h>
#include <sodium.h>
#include <sqlite3.h>
#include <unistd.h>

#include <cstdio>
#include <memory>

namespace cunhuo::db {
namespace {

constexpr int kBusyTimeoutMs = 30'000;  // a checkpoint or a migration may hold the store

struct Closer {
  void operator()(sqlite3* db) const { sqlite3_close_v2(db); }
};
using Handle = std::unique_ptr<sqlite3, Closer>;

Error backup_error(const std::string& message) {
  return make_error(ErrorKind::unavailable, "backup_failed", message);
}

Result<Handle> open_file(const std::string& path, int flags) {
  sqlite3* raw = nullptr;
  const int rc = sqlite3_open_v2(path.c_str(), &raw, flags | SQLITE_OPEN_NOMUTEX, nullptr);
  Handle db(raw);
  if (rc != SQLITE_OK)
    return backup_error("cannot open " + path + ": " +
                        (raw ? sqlite3_errmsg(raw) : sqlite3_errstr(rc)));
  sqlite3_busy_timeout(raw, kBusyTimeoutMs);
  return db;
}

// fsync of a file, then of its folder (so that the rename is durable too).
Status sync_path(const std::string& path, bool folder) {
  const int fd = ::open(path.c_str(), folder ? O_RDONLY | O_DIRECTORY : O_RDONLY);
  if (fd < 0) return backup_error("cannot open " + path + " to sync it");
  const int rc = ::fsync(fd);
  ::close(fd);
  if (rc != 0) return backup_error("cannot sync " + path);
  return {};
}

std::string folder_of(const std::string& path) {
  const auto slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}

// The whole store in one step: one read transaction, so one consistent snapshot. (Copying
// in several steps restarts whenever another connection commits between them.)
Status copy_all(sqlite3* from, sqlite3* to, const std::string& to_path) {
  sqlite3_backup* backup = sqlite3_backup_init(to, "main", from, "main");
  if (backup == nullptr)
    return backup_error("cannot start the copy: " + std::string(sqlite3_errmsg(to)));
  int rc = SQLITE_OK;
  for (int attempt = 0; attempt < kBusyTimeoutMs / 100; ++attempt) {
    rc = sqlite3_backup_step(backup, -1);
    if (rc != SQLITE_BUSY && rc != SQLITE_LOCKED) break;
    sqlite3_sleep(100);
  }
  sqlite3_backup_finish(backup);
  if (rc != SQLITE_DONE)
    return backup_error("copying into " + to_path + " failed: " + sqlite3_errstr(rc));
  return {};
}

Status copy_into(const std::string& from_path, const std::string& partial,
                 const std::string& to_path) {
  // Read-write: a reader of a WAL store needs its shared-memory index.
  auto from = CUNHUO_TRY(open_file(from_path, SQLITE_OPEN_READWRITE));
  auto to = CUNHUO_TRY(open_file(partial, SQLITE_OPEN_READWRITE));
  CUNHUO_CHECK(copy_all(from.get(), to.get(), to_path));
  // The copy stands alone: no WAL beside it.
  char* message = nullptr;
  if (sqlite3_exec(to.get(), "PRAGMA journal_mode=DELETE", nullptr, nullptr, &message) !=
      SQLITE_OK) {
    const std::string why = message ? message : "?";
    sqlite3_free(message);
    return backup_error("cannot finish the copy: " + why);
  }
  return {};
}

// A new, empty file for the copy, made by us alone before SQLite opens it: owner-only
// whatever the umask (the copy holds names, ID numbers, phones and password hashes), under
// a name of its own (O_EXCL, O_NOFOLLOW: a planted file or symlink is never written through).
Result<std::string> create_partial(const std::string& to_path) {
  unsigned char nonce[8];
  randombytes_buf(nonce, sizeof nonce);
  char hex[2 * sizeof nonce + 1];
  sodium_bin2hex(hex, sizeof hex, nonce, sizeof nonce);
  const std::string partial = to_path + ".partial-" + hex;
  const int fd =
      ::open(partial.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0) return backup_error("cannot create " + partial);
  ::close(fd);
  return partial;
}

}  // namespace

Result<std::string> sqlite_path(std::string_view url) {
  if (url.rfind("sqlite:", 0) != 0)
    return make_error(ErrorKind::invalid, "not_sqlite", "the store is not an sqlite: file", "db");
  std::string_view path = url.substr(7);
  if (path.rfind("//", 0) == 0) path.remove_prefix(2);
  if (path.empty() || path == ":memory:")
    return make_error(ErrorKind::invalid, "invalid_db_url", "sqlite: needs a file path", "db");
  return std::string(path);
}

Status sync_folder_of(const std::string& path) { return sync_path(folder_of(path), true); }

Status backup_sqlite(const std::string& from_path, const std::string& to_path) {
  if (::access(from_path.c_str(), R_OK) != 0) return backup_error("no store at " + from_path);
  const std::string partial = CUNHUO_TRY(create_partial(to_path));
  auto copied = copy_into(from_path, partial, to_path);
  if (copied.ok()) copied = sync_path(partial, false);
  if (copied.ok() && std::rename(partial.c_str(), to_path.c_str()) != 0)
    copied = backup_error("cannot rename the copy to " + to_path);
  if (!copied.ok()) {
    std::remove(partial.c_str());
    std::remove((partial + "-journal").c_str());
    return copied;
  }
  return sync_path(folder_of(to_path), true);
}

}  // namespace cunhuo::db
