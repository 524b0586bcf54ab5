// Who is using an SQLite store file, told by an advisory lock (flock) on a lock file beside
// it (STORE.lock): every process serving the store holds it shared for as long as it runs;
// replacing the store (cunhuo restore) takes it exclusively, without waiting, and so is
// refused while any process serves the store, and a service cannot start mid-restore.
// A MariaDB store has no file here: its lock is empty.
//
//   auto lock = CUNHUO_TRY(StoreLock::serving(config.db_url));   // held by the App
//   auto lock = CUNHUO_TRY(StoreLock::replacing(path));          // store_in_use if served
#pragma once

#include <string>

#include "core/result.hpp"

namespace cunhuo::db {

inline constexpr const char* kStoreLockSuffix = ".lock";

class StoreLock {
 public:
  StoreLock() = default;
  StoreLock(StoreLock&& other) noexcept;
  StoreLock& operator=(StoreLock&& other) noexcept;
  StoreLock(const StoreLock&) = delete;
  StoreLock& operator=(const StoreLock&) = delete;
  ~StoreLock();

  // Shared, for a process serving the store of `db_url` (nothing for a non-sqlite url);
  // store_being_restored while a restore holds it.
  static Result<StoreLock> serving(const std::string& db_url);
  // Exclusive, for replacing the store file at `path`; store_in_use while it is served.
  static Result<StoreLock> replacing(const std::string& path);

  bool held() const { return fd_ >= 0; }

 private:
  explicit StoreLock(int fd) : fd_(fd) {}
  int fd_ = -1;
};

}  // namespace cunhuo::db
