// Small, bounded reads of what waits on an office or a helper, for the "what needs me now"
// queue: exit proposals at a review step, objections to resolve, open monitoring alerts.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/db/database.hpp"

namespace cunhuo::alleviation {

// How many rows of a kind one read looks at before filtering by area: a county has far
// fewer proposals or objections under way at once.
inline constexpr int kMaxWaitingScanned = 500;

struct WaitingCase {
  std::int64_t id = 0;  // the proposal, objection or alert
  std::int64_t household_id = 0;
  std::string what;  // the proposal's status, or the alert's rule
  std::int64_t since_ms = 0;
};
struct WaitingCases {
  std::int64_t count = 0;          // within the area (of at most kMaxWaitingScanned looked at)
  std::vector<WaitingCase> items;  // oldest first, up to the limit
};

// Exit proposals in one of `statuses` for households within `region_code`.
Result<WaitingCases> proposals_at(db::Session& s, std::initializer_list<std::string_view> statuses,
                                  std::string_view region_code, int limit);
// Objections still open against notices of households within `region_code`.
Result<WaitingCases> open_objections(db::Session& s, std::string_view region_code, int limit);
// Open alerts of households within `region_code`, or (when given) of one helper's.
Result<WaitingCases> open_alerts(db::Session& s, std::string_view region_code,
                                 std::optional<std::int64_t> helper_account, int limit);

}  // namespace cunhuo::alleviation
