#include "storefront/centre_moves.hpp"

#include "core/region.hpp"
#include "logistics/network.hpp"
#include "marketplace/orders.hpp"
#include "marketplace/registry.hpp"

namespace cunhuo::storefront {
namespace {

// Where the caller stands to the household; the policy table says what that shows.
Relation relation_to(const Account& a, const marketplace::HouseholdRecord& r) {
  if (a.household_id && *a.household_id == r.household.id.value) return Relation::own;
  if (r.card.helper_account && *r.card.helper_account == a.id) return Relation::assigned;
  if (!a.region_code.empty() && region_within(r.household.village_code, a.region_code))
    return Relation::in_area;
  return Relation::unrelated;
}

Error no_excursion() { return make_error(ErrorKind::not_found, "not_found", "no such excursion"); }

}  // namespace

bool in_centre_county(const Account& a, std::string_view region_code) {
  if (a.role == Role::admin) return true;
  return !a.region_code.empty() && region_within(region_code, a.region_code.substr(0, 6));
}

Result<logistics::Excursion> decide_excursion_as(db::Session& tx, const Account& account,
                                                 std::int64_t id, bool spoiled,
                                                 const Clock& clock) {
  auto e = CUNHUO_TRY(logistics::find_excursion(tx, id));
  if (!e) return no_excursion();
  auto node = CUNHUO_TRY(logistics::find_node(tx, e->node_code));
  if (!node || !in_centre_county(account, node->region_code)) return no_excursion();
  return logistics::decide_excursion(tx, id, spoiled, clock);
}

Result<bool> centre_covers_order(db::Session& s, const Account& a, std::int64_t order_id) {
  if (a.role == Role::admin) return true;
  auto order = CUNHUO_TRY(marketplace::find_order(s, marketplace::OrderId{order_id}));
  if (!order || a.role != Role::county_centre) return false;
  auto shop = CUNHUO_TRY(marketplace::find_shop(s, order->shop));
  return shop && region_within(shop->village_code, a.region_code);
}

Result<payments::RefundClaim> decide_claim_as(db::Session& tx, const Account& account,
                                              std::int64_t id, bool approve,
                                              payments::LossBearer bearer,
                                              const payments::FeeRules& fees, const Clock& clock) {
  auto claim = CUNHUO_TRY(payments::find_claim(tx, id));
  if (!claim || !CUNHUO_TRY(centre_covers_order(tx, account, claim->order_id)))
    return make_error(ErrorKind::not_found, "not_found", "no such refund claim");
  return payments::decide_claim(tx, id, approve, bearer, fees, clock);
}

View household_view(const Account& a, const marketplace::HouseholdRecord& r) {
  return view_of(ObjectKind::household_card, a.role, relation_to(a, r));
}

}  // namespace cunhuo::storefront
