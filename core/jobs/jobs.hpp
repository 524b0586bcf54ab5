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
#pragma once

#include <cstdint>
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

// Whether this caller now holds the run of `job` for `period` (false: done, or running
// elsewhere within its deadline). `deadline_ms`: how long the run may take before another
// process may take it over.
Result<bool> claim_run(db::Database& db, std::string_view job, std::string_view period,
                       std::string_view holder, std::int64_t deadline_ms, const Clock& clock);
// Marks the claimed run done, or (`succeeded` false) gives it back to be tried again.
Status finish_run(db::Database& db, std::string_view job, std::string_view period,
                  std::string_view holder, bool succeeded, const Clock& clock);

// Takes or renews the lease on `job` for `lease_ms`; false while another holds it.
Result<bool> hold_lease(db::Database& db, std::string_view job, std::string_view holder,
                        std::int64_t lease_ms, const Clock& clock);
// Gives the lease up (a process stopping), so another takes over at its next pass.
Status release_lease(db::Database& db, std::string_view job, std::string_view holder);

}  // namespace cunhuo::jobs
