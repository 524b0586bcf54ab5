// Checkout and orders. One checkout spans several shops and makes one order per shop,
// each in pending_payment, with lines that snapshot price, campaign, temperature class
// and producer shares. Stock is reserved by conditional decrements inside the checkout's
// short transaction (nothing slow runs while a stock row is locked); an unpaid order
// gives its stock back when its hold expires.
#pragma once

#include <chrono>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.hpp"
#include "core/db/database.hpp"
#include "core/db/migrations.hpp"
#include "core/id.hpp"
#include "core/money.hpp"
#include "marketplace/campaigns.hpp"
#include "marketplace/catalog.hpp"

namespace cunhuo::marketplace {

using CheckoutId = Id<struct CheckoutTag>;
using OrderId = Id<struct OrderTag>;

enum class OrderStatus {
  pending_payment,
  paid,
  packed,
  shipped,
  delivered,
  completed,
  cancelled,
  refunded
};
std::string_view to_string(OrderStatus status);
Result<OrderStatus> parse_order_status(std::string_view text);
// pending_payment -> paid -> packed -> shipped -> delivered -> completed; cancelled
// from pending_payment (or paid, before packing); refunded from paid onwards.
bool transition_allowed(OrderStatus from, OrderStatus to);

constexpr std::size_t kMaxCheckoutItems = 50;
constexpr std::int64_t kMaxItemQuantity = 10'000;

struct CheckoutItem {
  ProductId product;
  std::int64_t quantity = 0;
  // The campaign this item is bought in (a buyer who came through a campaign's page);
  // none: the request's campaign, if any.
  std::optional<CampaignId> campaign;
};

struct ShippingAddress {
  std::string name, phone, address, region_code;
};

struct CheckoutRequest {
  std::int64_t buyer = 0;  // account id
  std::vector<CheckoutItem> items;
  std::optional<CampaignId> campaign;  // for every item that names none of its own
  ShippingAddress ship_to;
};
// The campaign an item of `request` is bought in, if any.
std::optional<CampaignId> campaign_of(const CheckoutRequest& request, const CheckoutItem& item);

struct OrderLine {
  ProductId product;
  std::string title;
  std::int64_t quantity = 0;
  Money unit_price, line_total;
  std::optional<CampaignId> campaign;
  TemperatureClass temperature = TemperatureClass::ambient;
  std::vector<ProducerShare> producers;  // as they were when the order was placed
};

struct Order {
  OrderId id;
  CheckoutId checkout;
  std::int64_t buyer = 0;
  ShopId shop;
  OrderStatus status = OrderStatus::pending_payment;
  Money total;
  std::int64_t created_at_ms = 0, expires_at_ms = 0;
  ShippingAddress ship_to;
  std::vector<OrderLine> lines;
};

struct Checkout {
  CheckoutId id;
  std::int64_t buyer = 0;
  Money total;
  std::int64_t expires_at_ms = 0;
  std::vector<Order> orders;
};

std::span<const db::Migration> order_migrations();

Result<Checkout> place_checkout(db::Session& tx, const CheckoutRequest& request, const Clock& clock,
                                std::chrono::milliseconds payment_window);
// What the cart would cost at `now_ms`: its lines priced and checked as checkout prices and
// checks them (campaign prices, stock, a campaign's limits), writing and locking nothing.
struct Quote {
  std::vector<OrderLine> lines;
  Money total;
};
Result<Quote> quote_checkout(db::Session& s, const CheckoutRequest& request, std::int64_t now_ms);
Result<std::optional<Order>> find_order(db::Session& s, OrderId id);
Result<std::optional<Checkout>> find_checkout(db::Session& s, CheckoutId id);
// Moves an order along its life; a move the state machine does not allow is a 409.
Result<Order> change_order_status(db::Session& tx, OrderId id, OrderStatus to,
                                  std::string_view actor, std::string_view reason,
                                  const Clock& clock);
// A staff correction (a parcel scanned wrongly, or not at all): moves the order forward along
// paid, packed, shipped, delivered to `to`, each step recorded as a correction with `reason`.
// Anything else is the state machine's 409.
Result<Order> correct_order_status(db::Session& tx, OrderId id, OrderStatus to,
                                   std::string_view actor, std::string_view reason,
                                   const Clock& clock);

// One change of an order's status: who made it, from what to what, why, when.
struct OrderEvent {
  std::optional<OrderStatus> from;  // none for the order's creation
  OrderStatus to = OrderStatus::pending_payment;
  std::string actor, reason;
  std::int64_t at_ms = 0;
  bool correction = false;  // staff corrected it by hand
};
// The order's history, oldest first.
Result<std::vector<OrderEvent>> order_history(db::Session& s, OrderId id);

// Cancels up to `limit` unpaid orders whose hold has expired and gives their stock back.
Result<int> release_expired_orders(db::Database& db, const Clock& clock, int limit);
// Completes up to `limit` orders delivered longer than `window` ago that the buyer has
// not confirmed (nor disputed): the auto-confirmation that lets escrow settle.
Result<int> confirm_delivered_orders(db::Database& db, const Clock& clock,
                                     std::chrono::milliseconds window, int limit);

// Every status change publishes "order.<new status>" in the same transaction.
inline constexpr std::string_view kOrderTopicPrefix = "order.";
std::string order_topic(OrderStatus to);
struct OrderStatusChanged {
  OrderId order_id;
  ShopId shop_id;
  std::int64_t buyer_id = 0;
  Money total;

  std::string encode() const;  // {"order_id", "shop_id", "buyer_id", "total_fen"}
  static Result<OrderStatusChanged> decode(std::string_view payload);
  bool operator==(const OrderStatusChanged&) const = default;
};

}  // namespace cunhuo::marketplace
