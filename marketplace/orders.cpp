#include "marketplace/orders.hpp"

#include <array>

#include <map>
#include <set>

#include "core/assert.hpp"
#include "core/enum_names.hpp"
#include "core/json.hpp"
#include "core/outbox/outbox.hpp"
#include "core/outbox/payload.hpp"
#include "core/privacy.hpp"
#include "core/region.hpp"
#include "marketplace/organisations.hpp"
#include "marketplace/shops.hpp"

namespace cunhuo::marketplace {
namespace {

constexpr db::Migration kMigrations[] = {
    {"marketplace", 4, "checkouts and orders",
     "CREATE TABLE IF NOT EXISTS checkouts (\n"
     "  id {{ID}},\n"
     "  buyer_id BIGINT NOT NULL,\n"
     "  total_fen BIGINT NOT NULL,\n"
     "  created_at BIGINT NOT NULL,\n"
     "  expires_at BIGINT NOT NULL\n"
     ");\n"
     "CREATE TABLE IF NOT EXISTS orders (\n"
     "  id {{ID}},\n"
     "  checkout_id BIGINT NOT NULL,\n"
     "  buyer_id BIGINT NOT NULL,\n"
     "  shop_id BIGINT NOT NULL,\n"
     "  status VARCHAR(20) NOT NULL,\n"
     "  total_fen BIGINT NOT NULL,\n"
     "  ship_name VARCHAR(100) NOT NULL,\n"
     "  ship_phone VARCHAR(20) NOT NULL,\n"
     "  ship_address VARCHAR(500) NOT NULL,\n"
     "  ship_region VARCHAR(12) NOT NULL,\n"
     "  created_at BIGINT NOT NULL,\n"
     "  updated_at BIGINT NOT NULL,\n"
     "  expires_at BIGINT NOT NULL\n"
     ");\n"
     "CREATE INDEX IF NOT EXISTS orders_checkout ON orders (checkout_id);\n"
     "CREATE INDEX IF NOT EXISTS orders_buyer ON orders (buyer_id);\n"
     "CREATE INDEX IF NOT EXISTS orders_shop ON orders (shop_id);\n"
     "CREATE INDEX IF NOT EXISTS orders_hold ON orders (status, expires_at);\n"
     "CREATE TABLE IF NOT EXISTS order_lines (\n"
     "  id {{ID}},\n"
     "  order_id BIGINT NOT NULL,\n"
     "  product_id BIGINT NOT NULL,\n"
     "  title VARCHAR(200) NOT NULL,\n"
     "  quantity BIGINT NOT NULL,\n"
     "  unit_price_fen BIGINT NOT NULL,\n"
     "  line_total_fen BIGINT NOT NULL,\n"
     "  campaign_id BIGINT,\n"
     "  temperature_class VARCHAR(10) NOT NULL,\n"
     "  producers TEXT NOT NULL\n"
     ");\n"
     "CREATE INDEX IF NOT EXISTS order_lines_order ON order_lines (order_id);\n"
     "CREATE TABLE IF NOT EXISTS order_events (\n"
     "  id {{ID}},\n"
     "  order_id BIGINT NOT NULL,\n"
     "  from_status VARCHAR(20),\n"
     "  to_status VARCHAR(20) NOT NULL,\n"
     "  actor VARCHAR(100) NOT NULL,\n"
     "  reason VARCHAR(500) NOT NULL,\n"
     "  at BIGINT NOT NULL\n"
     ");\n"
     "CREATE INDEX IF NOT EXISTS order_events_order ON order_events (order_id);\n"},
    // The order lists (order_lists.hpp) read one row per order: the shop's village and
    // county, when it was paid, how many lines and the first line's title are copied onto
    // the order at checkout (and here from what is already stored), so that each list is
    // one index range scan in its sort order.
    {"marketplace", 16, "order list columns and indexes",
     "ALTER TABLE orders ADD COLUMN shop_village VARCHAR(12) NOT NULL DEFAULT '';\n"
     "ALTER TABLE orders ADD COLUMN shop_county VARCHAR(6) NOT NULL DEFAULT '';\n"
     "ALTER TABLE orders ADD COLUMN paid_at BIGINT;\n"
     "ALTER TABLE orders ADD COLUMN item_count INTEGER NOT NULL DEFAULT 0;\n"
     "ALTER TABLE orders ADD COLUMN first_title VARCHAR(200) NOT NULL DEFAULT '';\n"
     "UPDATE orders SET shop_village = COALESCE((SELECT s.village_code FROM shops s "
     "WHERE s.id = orders.shop_id), '');\n"
     "UPDATE orders SET shop_county = SUBSTR(shop_village, 1, 6);\n"
     "UPDATE orders SET paid_at = (SELECT MIN(e.at) FROM order_events e "
     "WHERE e.order_id = orders.id AND e.to_status = 'paid');\n"
     "UPDATE orders SET item_count = (SELECT COUNT(*) FROM order_lines l "
     "WHERE l.order_id = orders.id);\n"
     "UPDATE orders SET first_title = COALESCE((SELECT l.title FROM order_lines l "
     "WHERE l.order_id = orders.id ORDER BY l.id LIMIT 1), '');\n"
     "CREATE INDEX IF NOT EXISTS orders_list_buyer ON orders (buyer_id, created_at, id);\n"
     "CREATE INDEX IF NOT EXISTS orders_list_shop ON orders (shop_id, created_at, id);\n"
     "CREATE INDEX IF NOT EXISTS orders_list_shop_status ON orders "
     "(shop_id, status, created_at, id);\n"
     "CREATE INDEX IF NOT EXISTS orders_list_to_pack ON orders (shop_id, status, paid_at, id);\n"
     "CREATE INDEX IF NOT EXISTS orders_list_village ON orders (shop_village, created_at, id);\n"
     "CREATE INDEX IF NOT EXISTS orders_list_village_status ON orders "
     "(shop_village, status, created_at, id);\n"
     "CREATE INDEX IF NOT EXISTS orders_list_county ON orders (shop_county, created_at, id);\n"
     "CREATE INDEX IF NOT EXISTS orders_list_county_status ON orders "
     "(shop_county, status, created_at, id);\n"
     "CREATE INDEX IF NOT EXISTS orders_list_all ON orders (created_at, id);\n"},
    // Staff corrections of an order's status stand apart in its history.
    {"marketplace", 18, "order status corrections",
     "ALTER TABLE order_events ADD COLUMN correction INT NOT NULL DEFAULT 0;\n"},
};

constexpr std::array<std::pair<OrderStatus, std::string_view>, 8> kStatusNames = {{
    {OrderStatus::pending_payment, "pending_payment"},
    {OrderStatus::paid, "paid"},
    {OrderStatus::packed, "packed"},
    {OrderStatus::shipped, "shipped"},
    {OrderStatus::delivered, "delivered"},
    {OrderStatus::completed, "completed"},
    {OrderStatus::cancelled, "cancelled"},
    {OrderStatus::refunded, "refunded"},
}};

Error invalid(std::string code, std::string message, std::string field) {
  return make_error(ErrorKind::invalid, std::move(code), std::move(message), std::move(field));
}

Status check_request(const CheckoutRequest& r) {
  if (r.items.empty()) return invalid("missing_field", "the cart is empty", "items");
  if (r.items.size() > kMaxCheckoutItems)
    return invalid("too_many_items", "at most 50 items per checkout", "items");
  std::set<std::int64_t> seen;
  for (std::size_t i = 0; i < r.items.size(); ++i) {
    const std::string field = "items[" + std::to_string(i) + "]";
    if (r.items[i].quantity < 1 || r.items[i].quantity > kMaxItemQuantity)
      return invalid("out_of_range", "quantity must be 1 to 10000", field + ".quantity");
    if (!seen.insert(r.items[i].product.value).second)
      return invalid("duplicate_item",
                     "a product appears twice; send one item with the total quantity",
                     field + ".product_id");
  }
  const auto& s = r.ship_to;
  if (s.name.empty() || s.name.size() > 100)
    return invalid("invalid_length", "recipient name must be 1 to 100 bytes",
                   "shipping_address.name");
  if (!is_mobile_number(s.phone))
    return invalid("invalid_phone", "an 11-digit mobile number", "shipping_address.phone");
  if (s.address.empty() || s.address.size() > 500)
    return invalid("invalid_length", "address must be 1 to 500 bytes", "shipping_address.address");
  CUNHUO_TRY(region_level(s.region_code, "shipping_address.region_code"));
  return {};
}

std::string producers_json(const std::vector<ProducerShare>& producers) {
  JsonWriter w;
  w.begin_array();
  for (const auto& p : producers)
    w.begin_object()
        .field("household_id", p.household.value)
        .field("share_bps", p.share_bps)
        .end_object();
  w.end_array();
  return w.take();
}

std::vector<ProducerShare> producers_from_json(const std::string& text) {
  std::vector<ProducerShare> out;
  auto doc = Json::parse(text);
  if (!doc.ok() || doc->type() != Json::Type::array) return out;
  for (const auto& item : doc->as_array()) {
    const Json* h = item.find("household_id");
    const Json* s = item.find("share_bps");
    if (h && s && h->type() == Json::Type::integer && s->type() == Json::Type::integer)
      out.push_back(ProducerShare{HouseholdId{h->as_integer()}, static_cast<int>(s->as_integer())});
  }
  return out;
}

Status record_event(db::Session& tx, OrderId id, std::optional<OrderStatus> from, OrderStatus to,
                    std::string_view actor, std::string_view reason, std::int64_t now,
                    bool correction = false) {
  CUNHUO_TRY(tx.exec(
      "INSERT INTO order_events (order_id, from_status, to_status, actor, reason, at, correction) "
      "VALUES (?, ?, ?, ?, ?, ?, ?)",
      {id.value, from ? db::Value(to_string(*from)) : db::Value(), to_string(to), actor, reason,
       now, correction ? 1 : 0}));
  return {};
}

}  // namespace

std::optional<CampaignId> campaign_of(const CheckoutRequest& request, const CheckoutItem& item) {
  return item.campaign ? item.campaign : request.campaign;
}

namespace {

// Prices one item; locks nothing.
Result<OrderLine> price_item(db::Session& tx, const CheckoutRequest& r, std::size_t i,
                             std::int64_t now, ShopId& shop, std::optional<CampaignTerms>& terms) {
  const auto& item = r.items[i];
  const std::string field = "items[" + std::to_string(i) + "]";
  auto product = CUNHUO_TRY(find_product(tx, item.product));
  if (!product || !product->active)
    return make_error(ErrorKind::not_found, "unknown_product", "no such product on sale",
                      field + ".product_id");
  if (product->stock < item.quantity)  // a fast refusal; the decrement below is what counts
    return make_error(ErrorKind::conflict, "out_of_stock", "not enough stock for this quantity",
                      field + ".quantity");
  // A household that left the shop no longer sells through it: the listing waits until its
  // shares name members only (orders placed before keep the shares they snapshotted).
  for (const auto& p : product->producers)
    if (!CUNHUO_TRY(is_member(tx, product->shop, p.household)))
      return make_error(ErrorKind::conflict, "producer_left_shop",
                        "a household producing this listing left the shop; its shares must be "
                        "set anew",
                        field + ".product_id");
  OrderLine line;
  line.product = product->id;
  line.title = product->title;
  line.quantity = item.quantity;
  line.unit_price = product->price;
  line.temperature = product->temperature;
  line.producers = product->producers;
  if (auto campaign = campaign_of(r, item)) {
    terms = CUNHUO_TRY(campaign_terms(tx, *campaign, *product, item.quantity, now, field));
    line.unit_price = terms->unit_price;
    line.campaign = campaign;
  }
  line.line_total = CUNHUO_TRY(line.unit_price.times(item.quantity));
  shop = product->shop;
  return line;
}

// Takes the stock (and the campaign's share) of one item. These rows are the contended
// ones, so this runs last: their locks are held only until the commit that follows.
Status take_item(db::Session& tx, const CheckoutRequest& r, std::size_t i,
                 const std::optional<CampaignTerms>& terms) {
  const auto& item = r.items[i];
  const std::string field = "items[" + std::to_string(i) + "]";
  auto taken = CUNHUO_TRY(
      tx.exec("UPDATE products SET stock = stock - ? WHERE id = ? AND stock >= ? AND active = 1",
              {item.quantity, item.product.value, item.quantity}));
  if (taken.affected_rows != 1)
    return make_error(ErrorKind::conflict, "out_of_stock", "not enough stock for this quantity",
                      field + ".quantity");
  const auto campaign = campaign_of(r, item);
  CUNHUO_ASSERT(campaign.has_value() == terms.has_value());
  if (campaign)
    CUNHUO_CHECK(
        take_in_campaign(tx, *campaign, *terms, item.product, r.buyer, item.quantity, field));
  return {};
}

// The village of a shop, copied onto its orders for the area lists.
Result<std::string> shop_village(db::Session& tx, ShopId shop) {
  auto row = CUNHUO_TRY(tx.query_one("SELECT village_code FROM shops WHERE id = ?", {shop.value}));
  return row ? row->str(0) : std::string();
}

Result<Order> insert_order(db::Session& tx, const CheckoutRequest& r, CheckoutId checkout,
                           ShopId shop, std::vector<OrderLine> lines, std::int64_t now,
                           std::int64_t expires) {
  Order order;
  order.checkout = checkout;
  order.buyer = r.buyer;
  order.shop = shop;
  order.created_at_ms = now;
  order.expires_at_ms = expires;
  order.ship_to = r.ship_to;
  for (const auto& l : lines) order.total = CUNHUO_TRY(order.total.plus(l.line_total));
  CUNHUO_ASSERT(!lines.empty());
  const std::string village = CUNHUO_TRY(shop_village(tx, shop));
  CUNHUO_TRY(
      tx.exec("INSERT INTO orders (checkout_id, buyer_id, shop_id, status, total_fen, ship_name, "
              "ship_phone, ship_address, ship_region, created_at, updated_at, expires_at, "
              "shop_village, shop_county, item_count, first_title) "
              "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
              {checkout.value, r.buyer, shop.value, to_string(OrderStatus::pending_payment),
               order.total.fen(), r.ship_to.name, r.ship_to.phone, r.ship_to.address,
               r.ship_to.region_code, now, now, expires, village, village.substr(0, 6),
               static_cast<std::int64_t>(lines.size()), lines.front().title}));
  order.id = OrderId{CUNHUO_TRY(tx.last_insert_id())};
  for (const auto& l : lines)
    CUNHUO_TRY(
        tx.exec("INSERT INTO order_lines (order_id, product_id, title, quantity, unit_price_fen, "
                "line_total_fen, campaign_id, "
                "temperature_class, producers) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                {order.id.value, l.product.value, l.title, l.quantity, l.unit_price.fen(),
                 l.line_total.fen(), l.campaign ? db::Value(l.campaign->value) : db::Value(),
                 to_string(l.temperature), producers_json(l.producers)}));
  order.lines = std::move(lines);
  CUNHUO_CHECK(record_event(tx, order.id, std::nullopt, OrderStatus::pending_payment, "buyer",
                            "checkout", now));
  return order;
}

Result<std::vector<OrderLine>> load_lines(db::Session& s, OrderId id) {
  std::vector<OrderLine> lines;
  for (const auto& r :
       CUNHUO_TRY(s.query("SELECT product_id, title, quantity, unit_price_fen, line_total_fen, "
                          "campaign_id, temperature_class, producers "
                          "FROM order_lines WHERE order_id = ? ORDER BY id",
                          {id.value}))) {
    OrderLine l;
    l.product = ProductId{r.i64(0)};
    l.title = r.str(1);
    l.quantity = r.i64(2);
    l.unit_price = Money::fen(r.i64(3));
    l.line_total = Money::fen(r.i64(4));
    if (auto c = r.opt_i64(5)) l.campaign = CampaignId{*c};
    l.temperature = CUNHUO_TRY(parse_temperature_class(r.str(6)));
    l.producers = producers_from_json(r.str(7));
    lines.push_back(std::move(l));
  }
  return lines;
}

constexpr const char* kOrderColumns =
    "id, checkout_id, buyer_id, shop_id, status, total_fen, created_at, expires_at, ship_name, "
    "ship_phone, "
    "ship_address, ship_region";

Result<Order> order_from(db::Session& s, const db::Row& r) {
  Order o;
  o.id = OrderId{r.i64(0)};
  o.checkout = CheckoutId{r.i64(1)};
  o.buyer = r.i64(2);
  o.shop = ShopId{r.i64(3)};
  o.status = CUNHUO_TRY(parse_order_status(r.str(4)));
  o.total = Money::fen(r.i64(5));
  o.created_at_ms = r.i64(6);
  o.expires_at_ms = r.i64(7);
  o.ship_to = ShippingAddress{r.str(8), r.str(9), r.str(10), r.str(11)};
  o.lines = CUNHUO_TRY(load_lines(s, o.id));
  return o;
}

// Puts an order's stock (and campaign quantities) back.
Status give_back(db::Session& tx, const Order& order) {
  for (const auto& l : order.lines) {
    CUNHUO_TRY(tx.exec("UPDATE products SET stock = stock + ? WHERE id = ?",
                       {l.quantity, l.product.value}));
    if (l.campaign)
      CUNHUO_CHECK(release_in_campaign(tx, *l.campaign, l.product, order.buyer, l.quantity));
  }
  return {};
}

}  // namespace

std::span<const db::Migration> order_migrations() { return kMigrations; }

std::string_view to_string(OrderStatus status) { return name_of(kStatusNames, status); }

Result<OrderStatus> parse_order_status(std::string_view text) {
  if (auto v = value_of(kStatusNames, text)) return *v;
  return invalid("invalid_status", "unknown order status", "status");
}

bool transition_allowed(OrderStatus from, OrderStatus to) {
  using S = OrderStatus;
  switch (from) {
    case S::pending_payment: return to == S::paid || to == S::cancelled;
    case S::paid: return to == S::packed || to == S::cancelled || to == S::refunded;
    case S::packed: return to == S::shipped || to == S::refunded;
    case S::shipped: return to == S::delivered || to == S::refunded;
    case S::delivered: return to == S::completed || to == S::refunded;
    case S::completed: return to == S::refunded;
    case S::cancelled:
    case S::refunded: return false;
  }
  return false;
}

Result<Checkout> place_checkout(db::Session& tx, const CheckoutRequest& r, const Clock& clock,
                                std::chrono::milliseconds payment_window) {
  CUNHUO_CHECK(check_request(r));
  const std::int64_t now = clock.now_ms();
  const std::int64_t expires = now + payment_window.count();
  std::map<std::int64_t, std::vector<OrderLine>> by_shop;  // ordered: deterministic order ids
  Money total;
  std::vector<std::optional<CampaignTerms>> terms(r.items.size());
  for (std::size_t i = 0; i < r.items.size(); ++i) {
    ShopId shop;
    auto line = CUNHUO_TRY(price_item(tx, r, i, now, shop, terms[i]));
    total = CUNHUO_TRY(total.plus(line.line_total));
    by_shop[shop.value].push_back(std::move(line));
  }
  Checkout checkout;
  checkout.buyer = r.buyer;
  checkout.expires_at_ms = expires;
  checkout.total = total;
  CUNHUO_TRY(tx.exec(
      "INSERT INTO checkouts (buyer_id, total_fen, created_at, expires_at) VALUES (?, ?, ?, ?)",
      {r.buyer, total.fen(), now, expires}));
  checkout.id = CheckoutId{CUNHUO_TRY(tx.last_insert_id())};
  for (auto& [shop, lines] : by_shop)
    checkout.orders.push_back(
        CUNHUO_TRY(insert_order(tx, r, checkout.id, ShopId{shop}, std::move(lines), now, expires)));
  for (std::size_t i = 0; i < r.items.size(); ++i) CUNHUO_CHECK(take_item(tx, r, i, terms[i]));
  return checkout;
}

Result<Quote> quote_checkout(db::Session& s, const CheckoutRequest& r, std::int64_t now_ms) {
  CUNHUO_CHECK(check_request(r));
  Quote quote;
  for (std::size_t i = 0; i < r.items.size(); ++i) {
    ShopId shop;
    std::optional<CampaignTerms> terms;
    quote.lines.push_back(CUNHUO_TRY(price_item(s, r, i, now_ms, shop, terms)));
    quote.total = CUNHUO_TRY(quote.total.plus(quote.lines.back().line_total));
  }
  return quote;
}

Result<std::optional<Order>> find_order(db::Session& s, OrderId id) {
  auto row = CUNHUO_TRY(s.query_one(
      std::string("SELECT ") + kOrderColumns + " FROM orders WHERE id = ?", {id.value}));
  if (!row) return std::optional<Order>();
  return std::optional<Order>(CUNHUO_TRY(order_from(s, *row)));
}

Result<std::optional<Checkout>> find_checkout(db::Session& s, CheckoutId id) {
  auto row = CUNHUO_TRY(s.query_one(
      "SELECT id, buyer_id, total_fen, expires_at FROM checkouts WHERE id = ?", {id.value}));
  if (!row) return std::optional<Checkout>();
  Checkout c{CheckoutId{row->i64(0)}, row->i64(1), Money::fen(row->i64(2)), row->i64(3), {}};
  for (const auto& r : CUNHUO_TRY(s.query(std::string("SELECT ") + kOrderColumns +
                                              " FROM orders WHERE checkout_id = ? ORDER BY id",
                                          {id.value})))
    c.orders.push_back(CUNHUO_TRY(order_from(s, r)));
  return std::optional<Checkout>(std::move(c));
}

namespace {

Result<Order> move_status(db::Session& tx, OrderId id, OrderStatus to, std::string_view actor,
                          std::string_view reason, const Clock& clock, bool correction) {
  auto order = CUNHUO_TRY(find_order(tx, id));
  if (!order) return make_error(ErrorKind::not_found, "unknown_order", "no such order", "id");
  if (!transition_allowed(order->status, to))
    return make_error(ErrorKind::conflict, "invalid_transition",
                      "an order cannot go from " + std::string(to_string(order->status)) + " to " +
                          std::string(to_string(to)),
                      "status");
  const auto now = clock.now_ms();
  // paid_at starts the shop's pack window (the to-pack list sorts by it).
  auto moved = CUNHUO_TRY(
      tx.exec("UPDATE orders SET status = ?, updated_at = ?, paid_at = COALESCE(?, paid_at) "
              "WHERE id = ? AND status = ?",
              {to_string(to), now, to == OrderStatus::paid ? db::Value(now) : db::Value(), id.value,
               to_string(order->status)}));
  if (moved.affected_rows != 1)
    return make_error(ErrorKind::conflict, "concurrent_update", "the order changed meanwhile",
                      "status");
  if (to == OrderStatus::cancelled) {
    CUNHUO_CHECK(give_back(tx, *order));
    CUNHUO_CHECK(release_order_charge(tx, order->id.value));
  }
  CUNHUO_CHECK(record_event(tx, id, order->status, to, actor, reason, now, correction));
  const OrderStatusChanged changed{
      .order_id = id, .shop_id = order->shop, .buyer_id = order->buyer, .total = order->total};
  CUNHUO_TRY(outbox::publish(tx, order_topic(to), changed.encode(), clock));
  order->status = to;
  return std::move(*order);
}

// The way an order goes while its goods travel, in order.
constexpr std::array<OrderStatus, 4> kForward = {OrderStatus::paid, OrderStatus::packed,
                                                 OrderStatus::shipped, OrderStatus::delivered};

std::optional<std::size_t> forward_step(OrderStatus s) {
  for (std::size_t i = 0; i < kForward.size(); ++i)
    if (kForward[i] == s) return i;
  return std::nullopt;
}

}  // namespace

Result<Order> change_order_status(db::Session& tx, OrderId id, OrderStatus to,
                                  std::string_view actor, std::string_view reason,
                                  const Clock& clock) {
  return move_status(tx, id, to, actor, reason, clock, false);
}

Result<Order> correct_order_status(db::Session& tx, OrderId id, OrderStatus to,
                                   std::string_view actor, std::string_view reason,
                                   const Clock& clock) {
  auto order = CUNHUO_TRY(find_order(tx, id));
  if (!order) return make_error(ErrorKind::not_found, "unknown_order", "no such order", "id");
  const auto from = forward_step(order->status), target = forward_step(to);
  // Anything but a step forward along the way is the state machine's to refuse.
  if (!from || !target || *target <= *from)
    return move_status(tx, id, to, actor, reason, clock, true);
  Order moved = std::move(*order);
  for (std::size_t i = *from + 1; i <= *target; ++i)
    moved = CUNHUO_TRY(move_status(tx, id, kForward[i], actor, reason, clock, true));
  return moved;
}

Result<std::vector<OrderEvent>> order_history(db::Session& s, OrderId id) {
  std::vector<OrderEvent> out;
  for (const auto& r : CUNHUO_TRY(
           s.query("SELECT from_status, to_status, actor, reason, at, correction FROM order_events "
                   "WHERE order_id = ? ORDER BY id",
                   {id.value}))) {
    std::optional<OrderStatus> from;
    if (!r.is_null(0)) from = CUNHUO_TRY(parse_order_status(r.str(0)));
    out.push_back(OrderEvent{.from = from,
                             .to = CUNHUO_TRY(parse_order_status(r.str(1))),
                             .actor = r.str(2),
                             .reason = r.str(3),
                             .at_ms = r.i64(4),
                             .correction = r.i64(5) == 1});
  }
  return out;
}

Result<int> release_expired_orders(db::Database& db, const Clock& clock, int limit) {
  auto due = CUNHUO_TRY(db.read([&](db::Session& s) -> Result<std::vector<db::Row>> {
    return s.query(
        "SELECT id FROM orders WHERE status = ? AND expires_at <= ? ORDER BY expires_at LIMIT ?",
        {to_string(OrderStatus::pending_payment), clock.now_ms(), limit});
  }));
  int released = 0;
  for (const auto& row : due) {
    auto moved = db.write([&](db::Session& tx) {
      return change_order_status(tx, OrderId{row.i64(0)}, OrderStatus::cancelled, "system",
                                 "payment window expired", clock);
    });
    // A concurrent payment wins: the order is no longer pending, nothing to give back.
    if (moved.ok())
      ++released;
    else if (moved.error().kind != ErrorKind::conflict)
      return moved.error();
  }
  return released;
}

Result<int> confirm_delivered_orders(db::Database& db, const Clock& clock,
                                     std::chrono::milliseconds window, int limit) {
  auto due = CUNHUO_TRY(db.read([&](db::Session& s) -> Result<std::vector<db::Row>> {
    return s.query(
        "SELECT id FROM orders WHERE status = ? AND updated_at <= ? ORDER BY updated_at LIMIT ?",
        {to_string(OrderStatus::delivered), clock.now_ms() - window.count(), limit});
  }));
  int confirmed = 0;
  for (const auto& row : due) {
    auto moved = db.write([&](db::Session& tx) {
      return change_order_status(tx, OrderId{row.i64(0)}, OrderStatus::completed, "system",
                                 "delivery confirmed automatically after the window", clock);
    });
    if (moved.ok())
      ++confirmed;
    else if (moved.error().kind != ErrorKind::conflict)
      return moved.error();
  }
  return confirmed;
}

std::string order_topic(OrderStatus to) {
  return std::string(kOrderTopicPrefix) + std::string(to_string(to));
}

std::string OrderStatusChanged::encode() const {
  JsonWriter w;
  w.begin_object().field("order_id", order_id.value).field("shop_id", shop_id.value);
  w.field("buyer_id", buyer_id).field("total_fen", total.fen()).end_object();
  return w.take();
}

Result<OrderStatusChanged> OrderStatusChanged::decode(std::string_view payload) {
  const auto p = CUNHUO_TRY(outbox::PayloadReader::parse("OrderStatusChanged", payload));
  return OrderStatusChanged{.order_id = OrderId{CUNHUO_TRY(p.integer("order_id"))},
                            .shop_id = ShopId{CUNHUO_TRY(p.integer("shop_id"))},
                            .buyer_id = CUNHUO_TRY(p.integer("buyer_id")),
                            .total = Money::fen(CUNHUO_TRY(p.integer("total_fen")))};
}

}  // namespace cunhuo::marketplace
