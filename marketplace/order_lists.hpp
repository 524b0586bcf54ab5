// Lists of orders, one row per order, read by keyset from the indexes of migration
// marketplace 16 (never OFFSET): a buyer's own, a shop's (or a farmer's shops'), an area's
// (a county, township or village: the shop's village copied onto the order), everyone's,
// or a given set of ids (a station's, from logistics). Newest first by (created_at, id),
// except the to-pack list: paid orders by when they must be packed, oldest first.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/db/database.hpp"
#include "marketplace/orders.hpp"
#include "marketplace/registry.hpp"

namespace cunhuo::marketplace {

// A paid order must be packed within this long of its payment (the to-pack list's pack_by).
inline constexpr std::chrono::hours kPackWindow{24};
inline constexpr std::int64_t kPackWindowMs =
    std::chrono::duration_cast<std::chrono::milliseconds>(kPackWindow).count();
// A page holds at most this many orders.
inline constexpr int kMaxOrderListPage = 100;

// Which orders: exactly one scope is set (none at all: every order).
struct OrderListQuery {
  std::optional<std::int64_t> buyer;  // account id
  // An organisation's: the orders charged to its budget (marketplace/organisations.hpp).
  std::optional<std::int64_t> organisation;
  std::vector<ShopId> shops;  // when non-empty: these shops' orders
  std::string area;           // a county (6), township (9) or village (12) code: its shops' orders
  std::optional<OrderStatus> status;
  std::optional<std::int64_t> from_ms, to_ms;  // created in [from, to)
  // Paid and not yet packed, oldest payment first (shops only).
  bool to_pack = false;
  // The position after which the page starts: {created_at, id}, or {paid_at, id} to pack.
  std::optional<std::vector<std::int64_t>> after;
  int limit = 20;
};

struct OrderSummary {
  OrderId id;
  CheckoutId checkout;
  std::int64_t buyer = 0;
  ShopId shop;
  OrderStatus status = OrderStatus::pending_payment;
  Money total;
  std::int64_t created_at_ms = 0;
  std::optional<std::int64_t> paid_at_ms;
  std::int64_t item_count = 0;
  std::string first_title;
  std::string ship_name, ship_phone, ship_region;
  std::string shop_village;

  // When a paid order must be packed by.
  std::optional<std::int64_t> pack_by_ms() const;
};

struct OrderPage {
  std::vector<OrderSummary> items;
  // Where the next page starts (the list's sort key of the last item); none on the last page.
  std::optional<std::vector<std::int64_t>> next;
};

// The number of values in a position of the list `q` asks for (always 2).
inline constexpr std::size_t kOrderPositionKeys = 2;

Result<OrderPage> list_orders(db::Session& s, const OrderListQuery& q);

// The statement list_orders runs for `q` on a store of `dialect`, for checking its plan
// (EXPLAIN) in tests and benchmarks. On MariaDB it names the list's index (USE INDEX).
struct ListStatement {
  std::string sql;
  std::vector<db::Value> params;
};
ListStatement order_list_statement(const OrderListQuery& q, db::Dialect dialect);

// What narrows a given set of orders (a station's); each one set must hold.
struct OrderFilters {
  std::optional<OrderStatus> status;
  std::optional<std::int64_t> from_ms, to_ms;  // created in [from, to)
  std::optional<ShopId> shop;
  std::string village;  // the shop's village ("" for any)
};

// The orders among `ids` that pass `filters`, newest id first.
Result<std::vector<OrderSummary>> order_summaries(db::Session& s,
                                                  const std::vector<std::int64_t>& ids,
                                                  const OrderFilters& filters);

}  // namespace cunhuo::marketplace
