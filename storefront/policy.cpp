#include "storefront/policy.hpp"

namespace cunhuo::storefront {
namespace {

View household_card(Role role, Relation relation) {
  switch (role) {
    case Role::farmer: return relation == Relation::own ? View::full : View::none;
    case Role::poverty_office: return relation == Relation::in_area ? View::full : View::none;
    case Role::county_centre: return relation == Relation::in_area ? View::masked : View::none;
    case Role::helper: return relation == Relation::assigned ? View::masked : View::none;
    case Role::admin: return View::masked;
    case Role::shop_manager:
    case Role::consumer:
    case Role::org_buyer:
    case Role::station_operator: return View::none;
  }
  return View::none;
}

View order(Role role, Relation relation) {
  switch (role) {
    case Role::consumer:
    case Role::org_buyer:
    case Role::farmer:
    case Role::shop_manager: return relation == Relation::own ? View::full : View::none;
    case Role::county_centre:
    case Role::poverty_office:
      return relation == Relation::in_area || relation == Relation::own ? View::full : View::none;
    case Role::admin: return View::full;
    // A station handles the parcels routed through it: who they are for, masked.
    case Role::station_operator:
      return relation == Relation::assigned ? View::masked
             : relation == Relation::own    ? View::full
                                            : View::none;
    case Role::helper: return relation == Relation::own ? View::full : View::none;
  }
  return View::none;
}

}  // namespace

View view_of(ObjectKind kind, Role role, Relation relation) {
  switch (kind) {
    case ObjectKind::household_card: return household_card(role, relation);
    case ObjectKind::order: return order(role, relation);
  }
  return View::none;
}

}  // namespace cunhuo::storefront
