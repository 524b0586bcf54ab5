// Paged lists over HTTP: GET /api/v1/orders (whose orders is decided by the caller's role),
// the running campaigns and one campaign with its listings, and an organisation buyer's
// progress against its budget and certified share.
#pragma once

#include <optional>
#include <string>

#include "core/clock.hpp"
#include "core/db/database.hpp"
#include "storefront/auth.hpp"
#include "storefront/cursor.hpp"
#include "storefront/route_table.hpp"

namespace cunhuo::storefront {

struct ListContext {
  db::Database& db;
  const Clock& clock;
  const CursorSeal& cursors;
};

// The query of GET /api/v1/orders as given (each absent when not in the query).
struct OrderListParams {
  std::optional<std::string> status, from, to, shop, village, to_pack, limit, cursor;
};

// The answer of GET /api/v1/orders for `caller`: the page as JSON, with the recipient of
// each order whole or masked as policy.hpp says. The route and the lists benchmark both
// call this.
Result<std::string> order_list_answer(db::Session& s, const CursorSeal& cursors,
                                      const Account& caller, const OrderListParams& params);

void add_list_routes(RouteTable& table, ListContext context);

}  // namespace cunhuo::storefront
