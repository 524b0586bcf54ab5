// The poverty-alleviation office's workbench (/office), of its own area (a county office
// its county, a township office its township; admin everything): its queues with their
// counts, oldest first, and the decisions on them, each with its reason, taken through the
// same moves as the API (office_moves.hpp); a household's page (card, audit trail, score
// with its income traced to orders, alerts); the fund traces from allocation to recipient;
// and the open statistics as charts.
#pragma once

#include <cstdint>

#include "core/clock.hpp"
#include "core/db/database.hpp"
#include "storefront/auth.hpp"
#include "storefront/auth.hpp"
#include "storefront/cursor.hpp"
#include "storefront/web/page_table.hpp"

namespace cunhuo::storefront {

inline constexpr int kOfficeQueueItems = 10;           // items shown per queue, oldest first
inline constexpr int kOfficeFundProjects = 20;         // projects traced on /office/funds
inline constexpr int kOfficeTracedDisbursements = 50;  // per allocation

struct OfficePageContext {
  db::Database& db;
  const Clock& clock;
  const CursorSeal& cursors;    // the alerts' next page
  std::int64_t exit_notice_ms;  // how long an approved exit stays in public notice
  std::int64_t fund_idle_ms;    // an allocation idle this long is flagged
  Auth& auth;                   // a merge moves farmer accounts: their sessions re-read
};

void add_office_pages(web::PageTable& pages, const OfficePageContext& ctx);

}  // namespace cunhuo::storefront
