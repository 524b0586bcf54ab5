// Counts and daily sums of a county's orders for the county centre's board, each one
// bounded read over the county's order columns (marketplace migration 16): orders created
// in a span by state, orders left unpaid past their payment window, and sales paid per day.
#pragma once

#include <cstdint>
#include <string_view>
#include <utility>
#include <vector>

#include "core/db/database.hpp"
#include "core/money.hpp"
#include "marketplace/orders.hpp"

namespace cunhuo::marketplace {

// An order is paid within its payment window, at most this long after it was placed (the
// longest --payment-window-ms core/config.cpp takes): a day's paid orders are found among
// those placed from this long before it, by the county's list index.
inline constexpr std::int64_t kLongestPaymentWindowMs = 7LL * 24 * 3600 * 1000;

// The board's daily charts cover at most this many days.
inline constexpr int kMaxBoardDays = 60;

// The orders of shops in `county` (6 digits) created in [from_ms, to_ms), counted by
// state; states with none are absent.
Result<std::vector<std::pair<OrderStatus, std::int64_t>>> orders_by_status(db::Session& s,
                                                                           std::string_view county,
                                                                           std::int64_t from_ms,
                                                                           std::int64_t to_ms);

// Orders of the county still waiting for payment after their window closed at `now_ms`.
Result<std::int64_t> unpaid_past_window(db::Session& s, std::string_view county,
                                        std::int64_t now_ms);

// The totals of the county's orders paid on each of `days` days of kDayMs from `from_ms`
// (refunded and cancelled ones too: what was sold that day).
Result<std::vector<Money>> sales_by_day(db::Session& s, std::string_view county,
                                        std::int64_t from_ms, int days);

}  // namespace cunhuo::marketplace
