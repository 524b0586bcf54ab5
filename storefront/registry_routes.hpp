// The household registry over HTTP, for the poverty-alleviation office: archive cards,
// their changes and the audit trail. Other roles see a household masked, or not at all.
#pragma once

#include "core/clock.hpp"
#include "core/db/database.hpp"
#include "storefront/auth.hpp"
#include "storefront/cursor.hpp"
#include "storefront/http.hpp"
#include "storefront/route_table.hpp"

namespace cunhuo::storefront {

void add_registry_routes(RouteTable& table, db::Database& db, const Clock& clock, Auth& auth,
                         const CursorSeal& cursors);

}  // namespace cunhuo::storefront
