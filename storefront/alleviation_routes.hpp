// Alleviation over HTTP: exit scores with their reasons, re-scoring an area, the
// evaluation model's versions, exit proposals and notices, monitoring alerts, open
// statistics (pages and CSV); fund projects, allocations and disbursements with their
// flags; and the outbox handlers that re-score a household when its card changes or its
// sales settle.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "alleviation/exits.hpp"
#include "core/clock.hpp"
#include "core/json.hpp"
#include "core/db/database.hpp"
#include "core/outbox/outbox.hpp"
#include "storefront/auth.hpp"
#include "storefront/cursor.hpp"
#include "storefront/http.hpp"
#include "storefront/route_table.hpp"
#include "storefront/idempotency.hpp"

namespace cunhuo::storefront {

namespace web {
class PageTable;
}

struct AlleviationContext {
  db::Database& db;
  const Clock& clock;
  Auth& auth;
  Idempotency& idempotency;
  const CursorSeal& cursors;
  std::int64_t exit_notice_ms = 7LL * 24 * 3600 * 1000;
  std::int64_t fund_idle_ms = 90LL * 24 * 3600 * 1000;
  const web::PageTable* pages = nullptr;  // the frame of the statistics page (account, language)
};

// `?county=`: the county an admin acts on; every other caller acts on its own.
inline QueryParam county_query() {
  return QueryParam{.name = "county",
                    .type = "string",
                    .description = "a county's 6-digit code (admin); others use their own",
                    .required = false};
}

// A public exit notice, as the notices list and the open statistics answer it.
void write_notice(JsonWriter& w, const alleviation::Notice& notice);

void add_alleviation_routes(RouteTable& table, AlleviationContext context);
// Fund tracking (fund_routes.cpp).
void add_fund_routes(RouteTable& table, AlleviationContext context);
// Open statistics pages and downloads (statistics_routes.cpp).
void add_statistics_routes(RouteTable& table, AlleviationContext context);

}  // namespace cunhuo::storefront
