// The poverty-alleviation office's queues over HTTP, each a cursor-paged list of its own
// area (a county office its county, a township office its township, admin everything):
// households by status, village, band and risk; certifications awaiting its review; exit
// proposals at each stage; objections to resolve.
#pragma once

#include "core/clock.hpp"
#include "core/db/database.hpp"
#include "storefront/cursor.hpp"
#include "storefront/route_table.hpp"

namespace cunhuo::storefront {

struct OfficeContext {
  db::Database& db;
  const Clock& clock;
  const CursorSeal& cursors;
};

void add_office_routes(RouteTable& table, OfficeContext context);

}  // namespace cunhuo::storefront
