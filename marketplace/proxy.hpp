// Assisted selling (代买代卖): a station operator orders or lists for a villager who cannot
// use a phone, once the villager has confirmed it with a code. Each such action is kept
// "by proxy" with both sides: the operator's account and the household (and its farmer's
// account, when it has one), and also goes into the household's own audit trail.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "core/clock.hpp"
#include "core/db/database.hpp"
#include "core/db/migrations.hpp"
#include "marketplace/catalog.hpp"
#include "marketplace/orders.hpp"
#include "marketplace/registry.hpp"

namespace cunhuo::marketplace {

enum class ProxyKind { order, listing };
std::string_view to_string(ProxyKind kind);

struct ProxyAction {
  std::int64_t id = 0;
  ProxyKind kind = ProxyKind::order;
  std::int64_t object_id = 0;  // the order's or the listing's
  std::int64_t operator_account = 0;
  HouseholdId household;
  std::optional<std::int64_t> villager_account;  // the household's farmer, when it has one
  std::int64_t at_ms = 0;
};

std::span<const db::Migration> proxy_migrations();

// Keeps `action` (its id and time are set here) and a line in the household's audit.
Status record_proxy_action(db::Session& tx, const ProxyAction& action, const Clock& clock);
// The household's proxy actions, oldest first.
Result<std::vector<ProxyAction>> proxy_actions_of(db::Session& s, HouseholdId household);
// What a villager confirms is bound to the code by a digest (64 hex digits) of its canonical
// form: the same content gives the same digest however its JSON was written (key order,
// the order of a cart's items), and any other content another.
// A cart: its items and quantities, its campaign, the address (not the buyer: the station
// operator who asks is bound to the confirmation anyway).
std::string order_digest(const CheckoutRequest& cart);
// A listing: every field it states, its producers in household order.
std::string listing_digest(const ListingFields& listing);
// A unit's name as a villager's text says it ("box": "箱"); an unknown unit as it is.
std::string_view unit_in_chinese(std::string_view unit);

// The household's own shop (kind household), where a listing made for it goes.
Result<std::optional<ShopId>> household_shop(db::Session& s, HouseholdId household);

}  // namespace cunhuo::marketplace
