// A county's money per day for the county centre's board: the net income settled to
// households and the refunds sent back to buyers, on orders of the county's shops (the
// area copied onto each paid order, payments migration 15).
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "core/db/database.hpp"
#include "core/money.hpp"

namespace cunhuo::payments {

inline constexpr int kMaxCountyDays = 60;

struct CountyDay {
  Money household_income, refunds;
};
// `days` days of 24 hours from `from_ms`, in order.
Result<std::vector<CountyDay>> county_days(db::Session& s, std::string_view county,
                                           std::int64_t from_ms, int days);

}  // namespace cunhuo::payments
