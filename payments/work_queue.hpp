// A small, bounded read of what waits on the county centre in payments, for the "what
// needs me now" queue: refund claims still to decide, counted exactly within an area.
// An order's area (its shop's village, given with the payable) is copied onto its claims,
// so that a county or a township is a prefix on an indexed column.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/db/database.hpp"
#include "core/db/migrations.hpp"

namespace cunhuo::payments {

// The index this read uses and the area columns (payments migrations 13 and 15).
std::span<const db::Migration> work_queue_migrations();

struct WaitingClaim {
  std::int64_t id = 0, order_id = 0, since_ms = 0;
};
struct WaitingClaims {
  std::int64_t count = 0;           // every claim still to decide in the area
  std::vector<WaitingClaim> items;  // oldest first, at most the limit
};
// Refund claims not yet decided on orders of shops within `region_code` ("" for all).
Result<WaitingClaims> requested_claims(db::Session& s, std::string_view region_code, int limit);

// Paid orders stored before their area was copied (payments migration 15), by id after
// `after_order_id`, at most `limit`: the composition root fills them from the marketplace
// with `set_order_area`. An undecided claim's order is paid, so its claims are among them.
Result<std::vector<std::int64_t>> paid_orders_without_area(db::Session& s,
                                                           std::int64_t after_order_id, int limit);
// Sets the area of an order and of its claims.
Status set_order_area(db::Session& tx, std::int64_t order_id, std::string_view region_code);

}  // namespace cunhuo::payments
