// A small, bounded read of what waits on the county centre in payments, for the "what
// needs me now" queue: refund claims still to decide.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "core/db/database.hpp"
#include "core/db/migrations.hpp"

namespace cunhuo::payments {

// The index this read uses (payments migration 13).
std::span<const db::Migration> work_queue_migrations();

struct WaitingClaim {
  std::int64_t id = 0, order_id = 0, since_ms = 0;
};
// Refund claims not yet decided, oldest first, at most `limit`.
Result<std::vector<WaitingClaim>> requested_claims(db::Session& s, int limit);

}  // namespace cunhuo::payments
