#include "core/db/store_lock.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <utility>

#include "core/db/backup.hpp"

namespace cunhuo::db {
namespace {

// Takes `operation` (LOCK_SH or LOCK_EX) on STORE.lock without waiting: the fd, -1 when
// another holds it in a conflicting way, or an error.
Result<int> take(const std::string& store_path, int operation) {
  const std::string path = store_path + kStoreLockSuffix;
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0)
    return make_error(ErrorKind::unavailable, "store_lock_failed", "cannot open " + path, "db");
  if (::flock(fd, operation | LOCK_NB) == 0) return fd;
  const int why = errno;
  ::close(fd);
  if (why == EWOULDBLOCK) return -1;
  return make_error(ErrorKind::unavailable, "store_lock_failed", "cannot lock " + path, "db");
}

}  // namespace

StoreLock::StoreLock(StoreLock&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}

StoreLock& StoreLock::operator=(StoreLock&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = std::exchange(other.fd_, -1);
  }
  return *this;
}

StoreLock::~StoreLock() {
  if (fd_ >= 0) ::close(fd_);  // closing the last descriptor releases the flock
}

Result<StoreLock> StoreLock::serving(const std::string& db_url) {
  const auto path = sqlite_path(db_url);
  if (!path.ok()) return StoreLock();
  const int fd = CUNHUO_TRY(take(*path, LOCK_SH));
  if (fd < 0)
    return make_error(ErrorKind::unavailable, "store_being_restored",
                      "the store " + *path + " is being restored: start again when it is done",
                      "db");
  return StoreLock(fd);
}

Result<StoreLock> StoreLock::replacing(const std::string& path) {
  const int fd = CUNHUO_TRY(take(path, LOCK_EX));
  if (fd < 0)
    return make_error(ErrorKind::conflict, "store_in_use",
                      "the store " + path + " is in use: stop every service using it first", "db");
  return StoreLock(fd);
}

}  // namespace cunhuo::db
