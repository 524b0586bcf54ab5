// Areas copied from the registry onto another module's rows so that its queues count by
// area in SQL: an order's shop village onto its payment record and refund claims
// (payments), a household's village onto its exit proposals (alleviation). New rows get
// theirs when written; rows stored before the copies existed are filled here at start-up.
#pragma once

#include "core/db/database.hpp"

namespace cunhuo::storefront {

// Rows filled in one transaction.
inline constexpr int kAreaFillBatch = 500;

// Fills every row still without its area, a batch per transaction.
Status fill_area_copies(db::Database& db);

}  // namespace cunhuo::storefront
