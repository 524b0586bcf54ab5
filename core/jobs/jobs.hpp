// Background work shared by several service processes on one store (several processes
// behind nginx, on one MariaDB or a Galera cluster). Each process runs the same
// housekeeping loop; these records decide which of them does what:
//
//   a run      `job` for `period` (a day): claimed by exactly one process, in a committed
//              transaction before the work starts. A daily pass runs once a day, not once per
//              process. A claim not finished by its deadline (its process died) may be taken
//              over; a run that failed is given back for the next pass to try again.
//   a lease    `job` held by one process until a time it renews: the frequent passes (unpaid
//              stock released, deliveries confirmed, refunds sent) run in one process at a time.
//
// Both are plain writes to a row: two processes claiming at once meet on its primary key (a
// lock on one server, a certification conflict on Galera, where locks are not replicated),
// and the loser's retry sees the winner's row.
//
// Deadlines are judged by each process's own clock (Clock), not the database's: the tests
// drive time with a manual clock, and the margins are wide next to the skew NTP keeps between
// app hosts (leases of 10 s renewed every second, daily claims of an hour). Work that can run
// longer than its lease checks the lease between batches (still_held) and stops when lost,
// and its writes are conditional on the state they read, so an overlap does no harm.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "core/clock.hpp"
#include "core/db/database.hpp"
#include "core/db/migrations.hpp"

namespace cunhuo::jobs {

inline constexpr std::size_t kMaxJobName = 64;
inline constexpr std::size_t kMaxHolder = 64;

std::span<const db::Migration> migrations();

// A name for this process in the records: host, pid and a random part.
std::string process_name();

// What a claim found: the caller now holds the run; it is done; or another process holds it
// within its deadline (busy: ask again on a later pass, since that process may die and its
// claim then be taken over after the deadline, not taken as done).
enum class Claim { claimed, done, busy };

// Claims the run of `job` for `period`. `deadline_ms`: how long the run may take before
// another process may take it over.
Result<Claim> claim_run(db::Database& db, std::string_view job, std::string_view period,
                        std::string_view holder, std::int64_t deadline_ms, const Clock& clock);
// Marks the claimed run done, or (`succeeded` false) gives it back to be tried again.
Status finish_run(db::Database& db, std::string_view job, std::string_view period,
                  std::string_view holder, bool succeeded, const Clock& clock);

// Takes or renews the lease on `job` for `lease_ms`; false while another holds it. Long work
// under a lease calls it again between batches and stops when it answers false.
Result<bool> hold_lease(db::Database& db, std::string_view job, std::string_view holder,
                        std::int64_t lease_ms, const Clock& clock);
// Gives the lease up (a process stopping), so another takes over at its next pass.
Status release_lease(db::Database& db, std::string_view job, std::string_view holder);

// The latest period of `job` whose run is done (periods are dates: "YYYY-MM-DD" sorts).
Result<std::optional<std::string>> last_done(db::Session& s, std::string_view job);

}  // namespace cunhuo::jobs
