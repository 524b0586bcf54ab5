#include "marketplace/order_lists.hpp"

#include <algorithm>

#include "core/assert.hpp"
#include "core/region.hpp"

namespace cunhuo::marketplace {
namespace {

constexpr const char* kSummaryColumns =
    "SELECT id, checkout_id, buyer_id, shop_id, status, total_fen, created_at, paid_at, "
    "item_count, first_title, ship_name, ship_phone, ship_region, shop_village FROM orders ";

Result<OrderSummary> summary_from(const db::Row& r) {
  return OrderSummary{.id = OrderId{r.i64(0)},
                      .checkout = CheckoutId{r.i64(1)},
                      .buyer = r.i64(2),
                      .shop = ShopId{r.i64(3)},
                      .status = CUNHUO_TRY(parse_order_status(r.str(4))),
                      .total = Money::fen(r.i64(5)),
                      .created_at_ms = r.i64(6),
                      .paid_at_ms = r.opt_i64(7),
                      .item_count = r.i64(8),
                      .first_title = r.str(9),
                      .ship_name = r.str(10),
                      .ship_phone = r.str(11),
                      .ship_region = r.str(12),
                      .shop_village = r.str(13)};
}

// The statement's WHERE clause, as it is built up.
struct Where {
  std::string sql;
  std::vector<db::Value> params;

  void add(std::string condition, std::initializer_list<db::Value> values) {
    sql += sql.empty() ? "WHERE " : " AND ";
    sql += condition;
    params.insert(params.end(), values.begin(), values.end());
  }
};

// Whose orders. The area columns are copied from the shop, so that a county or a village
// is an equality on an indexed column; a township is its county narrowed by prefix.
void add_scope(Where& w, const OrderListQuery& q) {
  if (q.buyer) w.add("buyer_id = ?", {*q.buyer});
  if (q.organisation)
    w.add("id IN (SELECT order_id FROM organisation_orders WHERE organisation_id = ?)",
          {*q.organisation});
  if (!q.shops.empty()) {
    w.add("shop_id IN (" + db::placeholders(q.shops.size()) + ")", {});
    for (const auto& shop : q.shops) w.params.emplace_back(shop.value);
  }
  if (q.area.empty()) return;
  const std::string prefix(region_prefix(q.area));
  if (prefix.size() >= kVillageCodeDigits)
    w.add("shop_village = ?", {prefix});
  else if (prefix.size() == kCountyCodeDigits)
    w.add("shop_county = ?", {prefix});
  else if (prefix.size() > kCountyCodeDigits)
    w.add("shop_county = ? AND shop_village LIKE ?",
          {prefix.substr(0, kCountyCodeDigits), prefix + "%"});
  else
    w.add("shop_village LIKE ?", {prefix + "%"});
}

// The filters, and the keyset position: `key <= k AND (key < k OR id < i)` keeps the range
// on the index's sort column (both stores use it) and breaks ties by id.
void add_filters(Where& w, const OrderListQuery& q, const char* key) {
  if (q.to_pack)
    w.add("status = ? AND paid_at IS NOT NULL", {to_string(OrderStatus::paid)});
  else if (q.status)
    w.add("status = ?", {to_string(*q.status)});
  if (q.from_ms) w.add("created_at >= ?", {*q.from_ms});
  if (q.to_ms) w.add("created_at < ?", {*q.to_ms});
  if (!q.after) return;
  CUNHUO_ASSERT(q.after->size() == kOrderPositionKeys);
  const std::string k(key);
  const auto& at = *q.after;
  if (q.to_pack)
    w.add(k + " >= ? AND (" + k + " > ? OR id > ?)", {at[0], at[0], at[1]});
  else
    w.add(k + " <= ? AND (" + k + " < ? OR id < ?)", {at[0], at[0], at[1]});
}

// The index a list reads, named to MariaDB: its planner otherwise weighs, on every call, each
// index on the scope's columns and index merges for the keyset's OR, which costs more than
// reading the page itself (150 of 260 µs of a shop's to-pack page). SQLite's planner picks
// the same index at little cost. Empty where no one index fits (several shops, an area wider
// than a county, everyone's orders): the planner chooses.
std::string list_index(const OrderListQuery& q) {
  const bool by_status = q.status.has_value();
  if (q.to_pack) return q.shops.size() == 1 ? "orders_list_to_pack" : "";
  if (q.buyer) return "orders_list_buyer";
  if (q.shops.size() == 1) return by_status ? "orders_list_shop_status" : "orders_list_shop";
  if (!q.shops.empty() || q.area.empty()) return "";
  const std::size_t digits = region_prefix(q.area).size();
  if (digits >= kVillageCodeDigits)
    return by_status ? "orders_list_village_status" : "orders_list_village";
  if (digits >= kCountyCodeDigits)
    return by_status ? "orders_list_county_status" : "orders_list_county";
  return "";
}

std::string from_clause(const OrderListQuery& q, db::Dialect dialect) {
  const std::string index = dialect == db::Dialect::mysql ? list_index(q) : "";
  return kSummaryColumns + (index.empty() ? "" : "USE INDEX (" + index + ") ");
}

std::vector<std::int64_t> position_of(const OrderSummary& o, bool to_pack) {
  return {to_pack ? o.paid_at_ms.value_or(0) : o.created_at_ms, o.id.value};
}

}  // namespace

std::optional<std::int64_t> OrderSummary::pack_by_ms() const {
  if (!paid_at_ms) return std::nullopt;
  return *paid_at_ms + kPackWindowMs;
}

ListStatement order_list_statement(const OrderListQuery& q, db::Dialect dialect) {
  const char* key = q.to_pack ? "paid_at" : "created_at";
  Where w;
  add_scope(w, q);
  add_filters(w, q, key);
  const std::string direction = q.to_pack ? " ASC" : " DESC";
  std::string sql = from_clause(q, dialect) + w.sql + " ORDER BY " + key + direction + ", id" +
                    direction + " LIMIT ?";
  w.params.emplace_back(static_cast<std::int64_t>(q.limit) + 1);  // one more: is there a next?
  return ListStatement{std::move(sql), std::move(w.params)};
}

Result<OrderPage> list_orders(db::Session& s, const OrderListQuery& q) {
  CUNHUO_ASSERT(q.limit >= 1 && q.limit <= kMaxOrderListPage);
  CUNHUO_ASSERT(!q.to_pack || !q.shops.empty());
  const auto statement = order_list_statement(q, s.dialect());
  const auto rows = CUNHUO_TRY(s.query_with(statement.sql, statement.params));
  OrderPage page;
  for (const auto& r : rows) {
    if (page.items.size() == static_cast<std::size_t>(q.limit)) {
      page.next = position_of(page.items.back(), q.to_pack);
      break;
    }
    page.items.push_back(CUNHUO_TRY(summary_from(r)));
  }
  return page;
}

Result<std::vector<OrderSummary>> order_summaries(db::Session& s,
                                                  const std::vector<std::int64_t>& ids,
                                                  const OrderFilters& filters) {
  std::vector<OrderSummary> out;
  if (ids.empty()) return out;
  Where w;
  w.add("id IN (" + db::placeholders(ids.size()) + ")", {});
  w.params.assign(ids.begin(), ids.end());
  if (filters.status) w.add("status = ?", {to_string(*filters.status)});
  if (filters.from_ms) w.add("created_at >= ?", {*filters.from_ms});
  if (filters.to_ms) w.add("created_at < ?", {*filters.to_ms});
  if (filters.shop) w.add("shop_id = ?", {filters.shop->value});
  if (!filters.village.empty()) w.add("shop_village = ?", {filters.village});
  for (const auto& r :
       CUNHUO_TRY(s.query_with(kSummaryColumns + w.sql + " ORDER BY id DESC", w.params)))
    out.push_back(CUNHUO_TRY(summary_from(r)));
  return out;
}

}  // namespace cunhuo::marketplace
