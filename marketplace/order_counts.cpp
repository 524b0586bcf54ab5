#include "marketplace/order_counts.hpp"

#include <string>

#include "core/assert.hpp"

namespace cunhuo::marketplace {
namespace {

constexpr std::int64_t kDayMs = 86'400'000;

}  // namespace

Result<std::vector<std::pair<OrderStatus, std::int64_t>>> orders_by_status(db::Session& s,
                                                                           std::string_view county,
                                                                           std::int64_t from_ms,
                                                                           std::int64_t to_ms) {
  std::vector<std::pair<OrderStatus, std::int64_t>> out;
  // Through orders_list_county (shop_county, created_at, id).
  for (const auto& r : CUNHUO_TRY(
           s.query("SELECT status, COUNT(*) FROM orders WHERE shop_county = ? AND created_at >= ? "
                   "AND created_at < ? GROUP BY status",
                   {std::string(county), from_ms, to_ms})))
    out.emplace_back(CUNHUO_TRY(parse_order_status(r.str(0))), r.i64(1));
  return out;
}

Result<std::int64_t> unpaid_past_window(db::Session& s, std::string_view county,
                                        std::int64_t now_ms) {
  auto rows = CUNHUO_TRY(
      s.query("SELECT COUNT(*) FROM orders WHERE shop_county = ? AND status = 'pending_payment' "
              "AND expires_at < ?",
              {std::string(county), now_ms}));
  return rows.at(0).i64(0);
}

Result<std::vector<Money>> sales_by_day(db::Session& s, std::string_view county,
                                        std::int64_t from_ms, int days) {
  CUNHUO_ASSERT(days > 0 && days <= kMaxBoardDays);
  std::vector<std::int64_t> fen(static_cast<std::size_t>(days), 0);
  const std::int64_t to_ms = from_ms + days * kDayMs;
  for (const auto& r : CUNHUO_TRY(s.query(
           "SELECT paid_at, total_fen FROM orders WHERE shop_county = ? AND created_at >= ? "
           "AND created_at < ? AND paid_at >= ? AND paid_at < ?",
           {std::string(county), from_ms - kLongestPaymentWindowMs, to_ms, from_ms, to_ms})))
    fen[static_cast<std::size_t>((r.i64(0) - from_ms) / kDayMs)] += r.i64(1);
  std::vector<Money> out;
  for (auto f : fen) out.push_back(Money::fen(f));
  return out;
}

}  // namespace cunhuo::marketplace
