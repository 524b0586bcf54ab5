#include "storefront/order_moves.hpp"

#include "core/region.hpp"
#include "marketplace/registry.hpp"
#include "storefront/route_support.hpp"

namespace cunhuo::storefront {
namespace {

// Shipped and delivered by hand: only as a correction, by the centre or admin.
Status check_correction(const Account& a, const OrderMove& move) {
  if (!follows_shipments(move.to)) return {};
  if (!move.correction_reason)
    return make_error(ErrorKind::conflict, "follows_shipments",
                      "an order is shipped and delivered as its parcels are scanned; staff "
                      "correct it with a correction_reason",
                      "status");
  if (a.role != Role::county_centre && a.role != Role::admin)
    return make_error(ErrorKind::forbidden, "forbidden",
                      "only the county centre corrects an order's status", "correction_reason");
  return {};
}

}  // namespace

// Who moves an order along: its shop packs it; its buyer confirms receipt. Shipped and
// delivered follow the parcels' scans: the county's centre and stations may ask for them, to
// be told so, and the centre (or admin) corrects them by hand with a reason.
Result<bool> may_move_order(db::Session& s, const Account& a, const marketplace::Order& o,
                            marketplace::OrderStatus to) {
  if (a.role == Role::admin) return true;
  switch (to) {
    case marketplace::OrderStatus::packed: return can_manage_shop(s, a, o.shop);
    case marketplace::OrderStatus::shipped:
    case marketplace::OrderStatus::delivered: {
      if (a.role != Role::county_centre && a.role != Role::station_operator) return false;
      auto shop = CUNHUO_TRY(marketplace::find_shop(s, o.shop));
      return shop && region_within(shop->village_code, a.region_code.substr(0, 6));
    }
    case marketplace::OrderStatus::completed: return o.buyer == a.id;
    default: return false;
  }
}

bool follows_shipments(marketplace::OrderStatus to) {
  return to == marketplace::OrderStatus::shipped || to == marketplace::OrderStatus::delivered;
}

Result<marketplace::Order> move_order_as(db::Session& tx, const Account& account,
                                         marketplace::OrderId id, const OrderMove& move,
                                         const Clock& clock) {
  namespace mk = marketplace;
  auto order = CUNHUO_TRY(mk::find_order(tx, id));
  if (!order || !CUNHUO_TRY(may_see_order(tx, account, *order))) return no_such("order");
  if (!CUNHUO_TRY(may_move_order(tx, account, *order, move.to)))
    return make_error(ErrorKind::forbidden, "forbidden",
                      "your role cannot move this order to " + std::string(mk::to_string(move.to)));
  CUNHUO_CHECK(check_correction(account, move));
  if (move.correction_reason)
    return mk::correct_order_status(tx, id, move.to, actor_of(account), *move.correction_reason,
                                    clock);
  return mk::change_order_status(tx, id, move.to, actor_of(account),
                                 "moved by " + std::string(to_string(account.role)), clock);
}

}  // namespace cunhuo::storefront
