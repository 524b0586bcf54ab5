// Moving an order along its states, as the API and the pages both do it: its shop packs
// it; its buyer confirms receipt; shipped and delivered follow the parcels' scans, and the
// county centre (or admin) corrects them by hand, with a reason that is audited.
#pragma once

#include <optional>
#include <string>

#include "core/clock.hpp"
#include "core/db/database.hpp"
#include "marketplace/orders.hpp"
#include "storefront/auth.hpp"

namespace cunhuo::storefront {

// What a status change asks for: the status, and for a correction why.
struct OrderMove {
  marketplace::OrderStatus to = marketplace::OrderStatus::completed;
  std::optional<std::string> correction_reason;
};

// Shipped and delivered follow the parcels' scans.
bool follows_shipments(marketplace::OrderStatus to);
Result<bool> may_move_order(db::Session& s, const Account& a, const marketplace::Order& o,
                            marketplace::OrderStatus to);

// Moves order `id` as `account` asks: 404 when the account may not see it, 403 when its role
// may not make this move, 409 for shipped or delivered without a correction.
Result<marketplace::Order> move_order_as(db::Session& tx, const Account& account,
                                         marketplace::OrderId id, const OrderMove& move,
                                         const Clock& clock);

}  // namespace cunhuo::storefront
