#include "payments/work_queue.hpp"

#include "core/region.hpp"

namespace cunhuo::payments {
namespace {

constexpr db::Migration kMigrations[] = {
    {"payments", 13, "refund claims by status",
     "CREATE INDEX IF NOT EXISTS refund_claims_status ON refund_claims (status, id);\n"},
    // The shop's village of an order, copied onto its claims: the centre's count of claims
    // to decide is a range of refund_claims_area. Rows from before are filled at start-up.
    {"payments", 15, "the area of an order and of its refund claims",
     "ALTER TABLE payment_orders ADD COLUMN region_code VARCHAR(12) NOT NULL DEFAULT '';\n"
     "ALTER TABLE refund_claims ADD COLUMN region_code VARCHAR(12) NOT NULL DEFAULT '';\n"
     "CREATE INDEX IF NOT EXISTS refund_claims_area ON refund_claims (status, region_code, "
     "id);\n"
     "CREATE INDEX IF NOT EXISTS payment_orders_area ON payment_orders (region_code, status, "
     "order_id);\n"},
};

}  // namespace

std::span<const db::Migration> work_queue_migrations() { return kMigrations; }

Result<WaitingClaims> requested_claims(db::Session& s, std::string_view region_code, int limit) {
  constexpr const char* kWhere =
      " FROM refund_claims WHERE status = 'requested' AND region_code LIKE ?";
  const std::string prefix = std::string(region_prefix(region_code)) + "%";
  WaitingClaims out;
  out.count = CUNHUO_TRY(s.query(std::string("SELECT COUNT(*)") + kWhere, {prefix})).at(0).i64(0);
  for (const auto& r : CUNHUO_TRY(
           s.query(std::string("SELECT id, order_id, created_at") + kWhere + " ORDER BY id LIMIT ?",
                   {prefix, limit})))
    out.items.push_back(WaitingClaim{r.i64(0), r.i64(1), r.i64(2)});
  return out;
}

Result<std::vector<std::int64_t>> paid_orders_without_area(db::Session& s,
                                                           std::int64_t after_order_id, int limit) {
  std::vector<std::int64_t> out;
  for (const auto& r : CUNHUO_TRY(s.query("SELECT order_id FROM payment_orders WHERE region_code "
                                          "= '' AND status = 'paid' AND order_id > ? ORDER BY "
                                          "order_id LIMIT ?",
                                          {after_order_id, limit})))
    out.push_back(r.i64(0));
  return out;
}

Status set_order_area(db::Session& tx, std::int64_t order_id, std::string_view region_code) {
  CUNHUO_TRY(tx.exec("UPDATE payment_orders SET region_code = ? WHERE order_id = ?",
                     {region_code, order_id}));
  CUNHUO_TRY(tx.exec("UPDATE refund_claims SET region_code = ? WHERE order_id = ?",
                     {region_code, order_id}));
  return {};
}

}  // namespace cunhuo::payments
