// An account's inbox and its queue over HTTP:
//   GET  /api/v1/notifications            own, newest first, ?unread=true, cursor-paged
//   POST /api/v1/notifications/{id}/read  own only (another's is a 404)
//   POST /api/v1/notifications/read-all
//   GET  /api/v1/queue                    "what needs me now": a few counted groups for the
//                                         caller's role, each item linking to an object the
//                                         caller may GET
#pragma once

#include "core/clock.hpp"
#include "core/db/database.hpp"
#include "storefront/cursor.hpp"
#include "storefront/route_table.hpp"

namespace cunhuo::storefront {

// Items one group of the queue lists (its count says how many wait in all).
inline constexpr int kQueueItemsPerGroup = 5;

struct NotificationContext {
  db::Database& db;
  const Clock& clock;
  const CursorSeal& cursors;
  std::int64_t fund_idle_ms = 90LL * 24 * 3600 * 1000;
};

void add_notification_routes(RouteTable& table, NotificationContext context);
// The queue (queue_routes.cpp).
void add_queue_routes(RouteTable& table, NotificationContext context);

}  // namespace cunhuo::storefront
