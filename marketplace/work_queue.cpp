#include "marketplace/work_queue.hpp"

#include <string>

#include "core/region.hpp"

namespace cunhuo::marketplace {
namespace {

constexpr db::Migration kMigrations[] = {
    {"marketplace", 20, "what waits on a shop or an office, by status",
     "CREATE INDEX IF NOT EXISTS orders_shop_status ON orders (shop_id, status, id);\n"
     "CREATE INDEX IF NOT EXISTS certifications_status ON certifications (status, id);\n"},
};

}  // namespace

std::span<const db::Migration> work_queue_migrations() { return kMigrations; }

Result<std::vector<ShopId>> own_shops_of(db::Session& s, HouseholdId household) {
  std::vector<ShopId> out;
  for (const auto& r : CUNHUO_TRY(s.query("SELECT s.id FROM shops s JOIN shop_members m ON "
                                          "m.shop_id = s.id WHERE s.kind = 'household' AND "
                                          "m.household_id = ? ORDER BY s.id",
                                          {household.value})))
    out.push_back(ShopId{r.i64(0)});
  return out;
}

Result<Waiting> orders_to_pack(db::Session& s, std::span<const ShopId> shops, int limit) {
  Waiting out;
  if (shops.empty()) return out;
  std::vector<db::Value> args;
  for (auto shop : shops) args.emplace_back(shop.value);
  const std::string where =
      " FROM orders WHERE status = 'paid' AND shop_id IN (" + db::placeholders(shops.size()) + ")";
  out.count = CUNHUO_TRY(s.query_with("SELECT COUNT(*)" + where, args)).at(0).i64(0);
  args.emplace_back(static_cast<std::int64_t>(limit));
  for (const auto& r :
       CUNHUO_TRY(s.query_with("SELECT id, updated_at" + where + " ORDER BY id LIMIT ?", args)))
    out.items.push_back(WaitingItem{.id = r.i64(0), .since_ms = r.i64(1)});
  return out;
}

Result<Waiting> deliveries_to_confirm(db::Session& s, std::int64_t buyer, int limit) {
  Waiting out;
  constexpr const char* kWhere = " FROM orders WHERE buyer_id = ? AND status = 'delivered'";
  out.count = CUNHUO_TRY(s.query(std::string("SELECT COUNT(*)") + kWhere, {buyer})).at(0).i64(0);
  for (const auto& r : CUNHUO_TRY(s.query(
           std::string("SELECT id, updated_at") + kWhere + " ORDER BY id LIMIT ?", {buyer, limit})))
    out.items.push_back(WaitingItem{.id = r.i64(0), .since_ms = r.i64(1)});
  return out;
}

Result<Waiting> certifications_in(db::Session& s, CertificationStatus status,
                                  std::string_view region_code, int limit) {
  Waiting out;
  const std::string where =
      " FROM certifications c JOIN products p ON p.id = c.product_id WHERE c.status = ? AND "
      "p.origin_code LIKE ?";
  const std::string prefix = std::string(region_prefix(region_code)) + "%";
  const std::string name(to_string(status));
  out.count = CUNHUO_TRY(s.query("SELECT COUNT(*)" + where, {name, prefix})).at(0).i64(0);
  for (const auto& r : CUNHUO_TRY(
           s.query("SELECT c.id, c.product_id, c.updated_at" + where + " ORDER BY c.id LIMIT ?",
                   {name, prefix, static_cast<std::int64_t>(limit)})))
    out.items.push_back(WaitingItem{.id = r.i64(0), .subject = r.i64(1), .since_ms = r.i64(2)});
  return out;
}

}  // namespace cunhuo::marketplace
