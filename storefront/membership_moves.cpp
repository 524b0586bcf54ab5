#include "storefront/membership_moves.hpp"

#include "core/assert.hpp"
#include "core/region.hpp"
#include "storefront/route_support.hpp"

namespace cunhuo::storefront {

namespace mk = cunhuo::marketplace;

bool manages(const Account& a, const mk::Shop& shop) {
  if (a.role != Role::shop_manager) return false;
  return (a.shop_id && *a.shop_id == shop.id.value) ||
         (shop.manager_account && *shop.manager_account == a.id);
}

Result<mk::HouseholdId> own_household(db::Session& s, const Account& a) {
  if (a.household_id) {
    auto h = CUNHUO_TRY(mk::find_household(s, mk::HouseholdId{*a.household_id}));
    if (h && !h->merged_into) return h->id;
  }
  return make_error(ErrorKind::forbidden, "household_not_confirmed",
                    "your account is not linked to a household in the registry");
}

Result<mk::MembershipRequest> ask_or_invite_as(db::Session& tx, const Account& a,
                                               mk::ShopId shop_id,
                                               std::optional<std::int64_t> named,
                                               const Clock& clock) {
  auto shop = CUNHUO_TRY(mk::find_shop(tx, shop_id));
  if (!shop) return no_such("shop");
  mk::HouseholdId household;
  auto direction = mk::RequestDirection::ask;
  if (a.role == Role::farmer) {
    household = CUNHUO_TRY(own_household(tx, a));
    if (named && *named != household.value)
      return make_error(ErrorKind::forbidden, "not_your_household",
                        "a farmer asks for their own household only", "household_id");
  } else {
    if (!manages(a, *shop)) return no_such("shop");
    if (!named)
      return make_error(ErrorKind::invalid, "missing_field", "name the household to invite",
                        "household_id");
    auto h = CUNHUO_TRY(mk::find_household(tx, mk::HouseholdId{*named}));
    if (!h || !region_within(h->village_code, county_of(shop->village_code)))
      return make_error(ErrorKind::not_found, "unknown_household", "no such household",
                        "household_id");
    household = h->id;
    direction = mk::RequestDirection::invite;
  }
  auto id = CUNHUO_TRY(mk::request_membership(tx, shop_id, household, direction, clock));
  auto request = CUNHUO_TRY(mk::find_membership_request(tx, id));
  CUNHUO_ASSERT(request.has_value());
  return *request;
}

// A manager answering its own invitation would add a household without its consent.
Result<mk::MembershipRequest> answer_request_as(db::Session& tx, const Account& a,
                                                mk::MembershipRequestId id, bool accept,
                                                const Clock& clock) {
  auto request = CUNHUO_TRY(mk::find_membership_request(tx, id));
  if (!request) return no_such("request");
  auto shop = CUNHUO_TRY(mk::find_shop(tx, request->shop));
  CUNHUO_ASSERT(shop.has_value());  // shops are never deleted
  const bool household_side = a.household_id && *a.household_id == request->household.value;
  const bool shop_side = manages(a, *shop);
  const bool invited = request->direction == mk::RequestDirection::invite;
  if (invited && shop_side)
    return make_error(ErrorKind::forbidden, "household_consent_required",
                      "the household itself accepts an invitation");
  if (!invited && household_side)
    return make_error(ErrorKind::forbidden, "shop_consent_required",
                      "the shop's manager answers a household's request");
  if (invited ? !household_side : !shop_side) return no_such("request");
  return mk::answer_membership(tx, id, accept, clock);
}

}  // namespace cunhuo::storefront
