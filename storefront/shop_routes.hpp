// Shops over HTTP: a farmer opens the household's shop, a manager proposes a cooperative and
// its county's office approves it, households join by their own consent and leave, and
// anyone reads a shop's public page, the shops of a place and a village's shop counts.
#pragma once

#include "core/clock.hpp"
#include "core/db/database.hpp"
#include "storefront/auth.hpp"
#include "storefront/cursor.hpp"
#include "storefront/route_table.hpp"

namespace cunhuo::storefront {

void add_shop_routes(RouteTable& table, db::Database& db, const Clock& clock, Auth& auth,
                     const CursorSeal& cursors);

}  // namespace cunhuo::storefront
