// The marketplace over HTTP: listings, catalog search, campaigns, checkout and orders.
#pragma once

#include <chrono>
#include <string>

#include "core/clock.hpp"
#include "core/db/database.hpp"
#include "storefront/auth.hpp"
#include "storefront/work_pool.hpp"
#include "storefront/http.hpp"
#include "storefront/route_table.hpp"
#include "storefront/idempotency.hpp"

namespace cunhuo::storefront {

struct MarketplaceContext {
  db::Database& db;
  const Clock& clock;
  Auth& auth;
  Idempotency& idempotency;
  std::chrono::milliseconds payment_window;
  std::string photo_folder;  // where listing photos are kept
  std::int64_t max_upload_body = 8 << 20;
  WorkPool* work_pool = nullptr;  // decodes photos off the network threads
};

void add_marketplace_routes(RouteTable& table, MarketplaceContext context);

}  // namespace cunhuo::storefront
