// A store that fails the Nth statement, for fault-injection loops in the manner of
// SQLite's malloc tests: run a body with N = 1, 2, 3, ... until it completes, and after
// every failure check that nothing partial was left behind. It wraps a real store and
// counts every statement of every transaction run through it (exec, query, the last
// insert id, scripts); the Nth answers a store error without reaching the store.
#pragma once

#include <atomic>
#include <cstdint>

#include "core/db/database.hpp"

namespace cunhuo::test {

inline constexpr std::string_view kInjectedFault = "injected_fault";

class FaultyStore final : public db::Database {
 public:
  explicit FaultyStore(db::Database& inner) : inner_(inner) {}
  // Fails the nth statement from now on (1 = the next one); 0 never fails.
  void fail_at(std::int64_t n);
  // Did the statement chosen by fail_at come, and fail?
  bool failed() const { return failed_; }
  std::int64_t statements() const { return seen_; }

  db::Dialect dialect() const override { return inner_.dialect(); }
  std::string describe() const override { return "faulty " + inner_.describe(); }
  Status ping() override { return inner_.ping(); }
  Status flush() override { return inner_.flush(); }
  void write_async(std::function<Status(db::Session&)> body,
                   std::function<void(Status)> done) override;

  // Counts one statement: an error if it is the one to fail.
  Status next_statement();

 protected:
  Status run(db::TxMode mode, const std::function<Status(db::Session&)>& body) override;

 private:
  db::Database& inner_;
  std::atomic<std::int64_t> seen_ = 0, fail_at_ = 0;
  std::atomic<bool> failed_ = false;
};

}  // namespace cunhuo::test
