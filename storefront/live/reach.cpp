#include "storefront/live/reach.hpp"

#include <algorithm>
#include <functional>
#include <string_view>
#include <utility>

#include "core/region.hpp"
#include "logistics/network.hpp"
#include "logistics/pickup_codes.hpp"
#include "logistics/shipments.hpp"
#include "logistics/telemetry.hpp"
#include "marketplace/archive.hpp"
#include "marketplace/orders.hpp"
#include "marketplace/registry.hpp"
#include "payments/intents.hpp"
#include "payments/refunds.hpp"

namespace cunhuo::storefront::live {
namespace {

template <class T>
bool holds(const std::vector<T>& list, const T& value) {
  return std::find(list.begin(), list.end(), value) != list.end();
}

// An order's buyer, shop, the shop's area and households, and its stations.
Status add_order(db::Session& s, std::int64_t order_id, Reach& reach) {
  auto order = CUNHUO_TRY(marketplace::find_order(s, marketplace::OrderId{order_id}));
  if (!order) return {};
  reach.buyers.push_back(order->buyer);
  reach.shops.push_back(order->shop.value);
  if (auto shop = CUNHUO_TRY(marketplace::find_shop(s, order->shop))) {
    reach.areas.push_back(shop->village_code);
    if (shop->kind == marketplace::ShopKind::household)
      for (const auto& member : shop->members) reach.households.push_back(member.value);
  }
  for (std::int64_t node : CUNHUO_TRY(logistics::nodes_of_order(s, order_id)))
    reach.nodes.push_back(node);
  return {};
}

Status add_household(db::Session& s, std::int64_t household_id, Reach& reach) {
  auto household =
      CUNHUO_TRY(marketplace::find_household(s, marketplace::HouseholdId{household_id}));
  if (!household) return {};
  reach.households.push_back(household_id);
  reach.areas.push_back(household->village_code);
  return {};
}

Status add_node(db::Session& s, std::string_view code, Reach& reach) {
  auto node = CUNHUO_TRY(logistics::find_node(s, code));
  if (!node) return {};
  reach.nodes.push_back(node->id.value);
  reach.areas.push_back(node->region_code);
  return {};
}

using Placer = std::function<Status(db::Session&, std::string_view payload, Reach&)>;

Status by_order(db::Session& s, std::string_view payload, Reach& reach) {
  auto changed = CUNHUO_TRY(marketplace::OrderStatusChanged::decode(payload));
  return add_order(s, changed.order_id.value, reach);
}

Status by_shipment(db::Session& s, std::string_view payload, Reach& reach) {
  auto event = CUNHUO_TRY(logistics::ShipmentEvent::decode(payload));
  return add_order(s, event.order_id, reach);
}

Status by_capture(db::Session& s, std::string_view payload, Reach& reach) {
  auto captured = CUNHUO_TRY(payments::PaymentCaptured::decode(payload));
  for (std::int64_t order : captured.order_ids) CUNHUO_CHECK(add_order(s, order, reach));
  return {};
}

Status by_refund(db::Session& s, std::string_view payload, Reach& reach) {
  auto refunded = CUNHUO_TRY(payments::OrderRefunded::decode(payload));
  return add_order(s, refunded.order_id, reach);
}

Status by_excursion(db::Session& s, std::string_view payload, Reach& reach) {
  auto raised = CUNHUO_TRY(logistics::ExcursionRaised::decode(payload));
  return add_node(s, raised.node_code, reach);
}

Status by_verdict(db::Session& s, std::string_view payload, Reach& reach) {
  auto decided = CUNHUO_TRY(logistics::ExcursionDecided::decode(payload));
  return add_node(s, decided.node_code, reach);
}

Status by_claim(db::Session& s, std::string_view payload, Reach& reach) {
  auto moved = CUNHUO_TRY(payments::RefundClaimMoved::decode(payload));
  return add_order(s, moved.order_id, reach);
}

Status by_card(db::Session& s, std::string_view payload, Reach& reach) {
  auto changed = CUNHUO_TRY(marketplace::CardChanged::decode(payload));
  return add_household(s, changed.household_id.value, reach);
}

// The table: a topic (or, ending in '.', a topic prefix) and how its events are placed.
const std::vector<std::pair<std::string_view, Placer>>& placers() {
  static const std::vector<std::pair<std::string_view, Placer>> table = {
      {marketplace::kOrderTopicPrefix, by_order},
      {logistics::kShipmentDeparted, by_shipment},
      {logistics::kShipmentDelivered, by_shipment},
      {logistics::kShipmentSpoiledTopic, by_shipment},
      {payments::kPaymentCaptured, by_capture},
      {payments::kOrderRefunded, by_refund},
      {logistics::kExcursionRaised, by_excursion},
      {marketplace::kCardChanged, by_card},
      {logistics::kExcursionDecided, by_verdict},
      {payments::kRefundClaimTopicPrefix, by_claim},
      {logistics::kShipmentReadyForPickup, by_shipment},
  };
  return table;
}

bool topic_matches(std::string_view key, std::string_view topic) {
  return key.ends_with('.') ? topic.starts_with(key) : topic == key;
}

bool in_any_area(const Account& account, const Reach& reach) {
  if (account.region_code.empty()) return false;
  return std::any_of(reach.areas.begin(), reach.areas.end(), [&](const std::string& area) {
    return region_within(area, account.region_code);
  });
}

}  // namespace

Result<Reach> reach_of(db::Session& s, const outbox::Event& event) {
  Reach reach;
  for (const auto& [key, place] : placers()) {
    if (!topic_matches(key, event.topic)) continue;
    CUNHUO_CHECK(place(s, event.payload, reach));
    break;
  }
  return reach;
}

bool may_receive(const Account& a, const Reach& reach) {
  switch (a.role) {
    case Role::admin: return true;
    case Role::consumer:
    case Role::org_buyer: return holds(reach.buyers, a.id);
    case Role::farmer: return a.household_id && holds(reach.households, *a.household_id);
    case Role::shop_manager: return a.shop_id && holds(reach.shops, *a.shop_id);
    case Role::station_operator: return a.node_id && holds(reach.nodes, *a.node_id);
    case Role::county_centre:
    case Role::poverty_office: return in_any_area(a, reach);
    case Role::helper: return false;
  }
  return false;
}

}  // namespace cunhuo::storefront::live
