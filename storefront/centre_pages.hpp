// The county e-commerce centre's pages (/centre), for its own county (the account's
// region_code; admin: the county of its own region code):
//   /centre                       the board: today's orders by state; the exceptions (late,
//                                 held, unroutable parcels, orders unpaid past their window,
//                                 refund claims, open excursions, reconciliation
//                                 differences); each open excursion with its temperature
//                                 trace, its parcels and the verdict to take; parcels per
//                                 station and cold-store fill; money per day as charts.
//                                 live.js keeps it current from the live feed (/live).
//   /centre/excursions/:id/decision  the verdict (spoiled or released), as the API takes it
//   /centre/orders/:id/status     an order's status corrected by hand, with a reason
//   /centre/claims/:id/decision   a refund claim approved (who bears the loss) or rejected
//   /centre/orders/:id, /centre/shipments/:number, /centre/households/:id
//                                 records the centre may open (households masked, policy.hpp)
// Anything outside the county is the 404 page.
#pragma once

#include "core/clock.hpp"
#include "core/db/database.hpp"
#include "core/outbox/outbox.hpp"
#include "payments/settlement.hpp"
#include "storefront/web/page_table.hpp"

namespace cunhuo::storefront {

inline constexpr int kBoardDays = 14;       // the daily charts' span
inline constexpr int kBoardListItems = 5;   // items shown of each exception
inline constexpr int kBoardCountCap = 100;  // exceptions counted up to this many ("100+")
inline constexpr std::size_t kMaxCorrectionReasonBytes = 500;  // as an order event keeps it
inline constexpr std::int64_t kTraceBeforeMs = 30 * 60'000;    // a trace starts before the start

struct CentrePageContext {
  db::Database& db;
  const Clock& clock;
  outbox::Dispatcher& dispatcher;  // woken after a verdict (its refunds)
  payments::FeeRules fees;         // an approved refund claim's
};

void add_centre_pages(web::PageTable& pages, const CentrePageContext& ctx);

}  // namespace cunhuo::storefront
