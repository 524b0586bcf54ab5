// An organisation buyer's pages (/org): the organisation's budget and certified share, a
// bulk order form (quantities of many listings at once, placed through the same checkout as
// POST /api/v1/orders and charged to the budget), the year's orders, and a printable
// purchase voucher of each paid order with a yearly summary by seller for the finance office.
// A buyer sees only their own organisation's orders.
#pragma once

#include <chrono>

#include "core/clock.hpp"
#include "core/db/database.hpp"
#include "marketplace/orders.hpp"
#include "storefront/cursor.hpp"
#include "storefront/idempotency.hpp"
#include "storefront/web/page_table.hpp"

namespace cunhuo::storefront {

// The rows of one bulk order: listings shown and lines placed at once.
inline constexpr int kMaxBulkOrderRows = 50;
static_assert(kMaxBulkOrderRows <= static_cast<int>(marketplace::kMaxCheckoutItems));
inline constexpr int kOrgOrdersPerPage = 20;

struct OrgPageContext {
  db::Database& db;
  const Clock& clock;
  Idempotency& idempotency;  // a bulk order sent twice is placed once
  std::chrono::milliseconds payment_window;
  const CursorSeal& cursors;  // the next page of the organisation's orders
};

void add_org_pages(web::PageTable& pages, const OrgPageContext& ctx);

}  // namespace cunhuo::storefront
