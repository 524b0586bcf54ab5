// Small reads of what waits on an office or a helper, for the "what needs me now" queue:
// exit proposals at a review step, objections to resolve, open monitoring alerts. Each is
// counted exactly within the area, by the same WHERE as its items: a proposal keeps its
// household's village (copied when proposed), as an alert does.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/db/database.hpp"
#include "core/db/migrations.hpp"

namespace cunhuo::alleviation {

// The proposals' village column and the indexes these reads use (alleviation migration 8).
std::span<const db::Migration> work_queue_migrations();

struct WaitingCase {
  std::int64_t id = 0;  // the proposal, objection or alert
  std::int64_t household_id = 0;
  std::string what;  // the proposal's status, or the alert's rule
  std::int64_t since_ms = 0;
};
struct WaitingCases {
  std::int64_t count = 0;          // every one within the area
  std::vector<WaitingCase> items;  // oldest first, up to the limit
};

// Exit proposals in one of `statuses` for households within `region_code` ("" for all).
Result<WaitingCases> proposals_at(db::Session& s, std::initializer_list<std::string_view> statuses,
                                  std::string_view region_code, int limit);
// Objections still open against notices of households within `region_code`.
Result<WaitingCases> open_objections(db::Session& s, std::string_view region_code, int limit);
// Open alerts of households within `region_code`, or (when given) of one helper's.
Result<WaitingCases> open_alerts(db::Session& s, std::string_view region_code,
                                 std::optional<std::int64_t> helper_account, int limit);

// Proposals made before their village was copied (alleviation migration 8): fills up to
// `limit` of them after `after_id` from the registry, and returns the last id looked at
// (none: nothing was left).
Result<std::optional<std::int64_t>> fill_proposal_villages(db::Session& tx, std::int64_t after_id,
                                                           int limit);

}  // namespace cunhuo::alleviation
