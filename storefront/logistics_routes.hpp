// Logistics over HTTP: the network (nodes, timetabled links), route planning, shipments
// with their scans and public tracking, the station's and the centre's lists of parcels,
// pickup runs, sensors, telemetry batches and excursions. (The outbox handlers that turn a
// paid order into shipments and move the order along with its parcels are in flows.cpp.)
#pragma once

#include "core/clock.hpp"
#include "core/db/database.hpp"
#include "core/outbox/outbox.hpp"
#include "logistics/planner.hpp"
#include "logistics/telemetry.hpp"
#include "storefront/auth.hpp"
#include "storefront/cursor.hpp"
#include "storefront/http.hpp"
#include "storefront/route_table.hpp"

namespace cunhuo::storefront {

struct LogisticsContext {
  db::Database& db;
  const Clock& clock;
  Auth& auth;
  logistics::Planner& planner;
  logistics::ExcursionRules excursions;
  outbox::Dispatcher& dispatcher;
  const CursorSeal& cursors;
};

void add_logistics_routes(RouteTable& table, LogisticsContext context);

}  // namespace cunhuo::storefront
