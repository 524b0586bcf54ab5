#include "payments/county_days.hpp"

#include <string>

#include "core/assert.hpp"

namespace cunhuo::payments {
namespace {

constexpr std::int64_t kDayMs = 86'400'000;

// Adds each row's amount (column 1) to the day its time (column 0) falls on.
void add_by_day(const std::vector<db::Row>& rows, std::int64_t from_ms,
                std::vector<std::int64_t>& fen) {
  for (const auto& r : rows)
    fen[static_cast<std::size_t>((r.i64(0) - from_ms) / kDayMs)] += r.i64(1);
}

}  // namespace

Result<std::vector<CountyDay>> county_days(db::Session& s, std::string_view county,
                                           std::int64_t from_ms, int days) {
  CUNHUO_ASSERT(days > 0 && days <= kMaxCountyDays);
  const auto n = static_cast<std::size_t>(days);
  const std::int64_t to_ms = from_ms + days * kDayMs;
  const std::string area = std::string(county) + "%";
  std::vector<std::int64_t> income(n, 0), refunds(n, 0);
  add_by_day(CUNHUO_TRY(s.query(
                 "SELECT l.settled_at, l.net_fen FROM settlement_lines l JOIN payment_orders o "
                 "ON o.order_id = l.order_id WHERE o.region_code LIKE ? AND l.settled_at >= ? "
                 "AND l.settled_at < ?",
                 {area, from_ms, to_ms})),
             from_ms, income);
  add_by_day(CUNHUO_TRY(s.query(
                 "SELECT r.created_at, r.amount_fen FROM provider_refunds r JOIN payment_orders o "
                 "ON o.order_id = r.order_id WHERE o.region_code LIKE ? AND r.created_at >= ? "
                 "AND r.created_at < ?",
                 {area, from_ms, to_ms})),
             from_ms, refunds);
  std::vector<CountyDay> out;
  for (std::size_t i = 0; i < n; ++i)
    out.push_back(CountyDay{Money::fen(income[i]), Money::fen(refunds[i])});
  return out;
}

}  // namespace cunhuo::payments
