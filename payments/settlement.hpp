// Settlement: when an order is completed (the buyer confirmed delivery, or the window ran
// out), what is in its escrow is split, per line, among the line's producer households
// by their shares, the cooperative's commission, the logistics fee and the platform fee
// (none on lines sold in poverty-alleviation campaigns). Fen remainders go by the
// largest-remainder rule with ties to the lower household id, so the parts always add
// up to the escrow to the fen. Each household's part is a settlement line: its income
// evidence.
#pragma once

#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.hpp"
#include "core/db/database.hpp"
#include "core/db/migrations.hpp"
#include "core/money.hpp"

namespace cunhuo::payments {

struct FeeRules {
  int platform_fee_bps = 300;             // on lines outside poverty-alleviation campaigns
  int alleviation_platform_fee_bps = 0;   // on lines inside them
  int cooperative_commission_bps = 500;   // a cooperative shop's share
  Money logistics_fee = Money::fen(600);  // per order, never more than the order
};

// Where the money of one order buying one listing at `price` goes, split as a settlement
// splits it: the logistics fee of the order, the platform fee, a cooperative's commission,
// and what is left for the producing households. Shown to buyers before they buy.
struct PriceSplit {
  Money price, logistics, platform, commission, households;
};
Result<PriceSplit> split_of_price(Money price, bool cooperative, bool alleviation,
                                  const FeeRules& rules);

enum class SettleOutcome {
  settled,      // money moved now
  already,      // settled before: nothing moved
  waiting,      // a refund claim holds part of the escrow; settles when it is decided
  not_payable,  // unpaid, or refunded in full: nothing to settle
};

struct SettlementLine {
  std::int64_t household_id = 0, order_id = 0, product_id = 0, quantity = 0;
  int line_no = 0, share_bps = 0;
  std::string title, campaign_kind;
  std::optional<std::int64_t> campaign_id;
  Money gross, fees, net;
  std::int64_t settled_at_ms = 0;
};

std::span<const db::Migration> settlement_migrations();

// Published when an order settles: the households whose income it paid.
inline constexpr const char* kIncomeSettled = "payment.settled";
struct IncomeSettled {
  std::int64_t order_id = 0;
  std::vector<std::int64_t> household_ids;

  std::string encode() const;  // {"order_id", "household_ids": [...]}
  static Result<IncomeSettled> decode(std::string_view payload);
  bool operator==(const IncomeSettled&) const = default;
};

// Marks the order completed (the delivery is confirmed) and settles it when it can.
Result<SettleOutcome> complete_order(db::Session& tx, std::int64_t order_id, const FeeRules& rules,
                                     const Clock& clock);
// Settles a completed order; a no-op when it was settled before.
Result<SettleOutcome> settle_order(db::Session& tx, std::int64_t order_id, const FeeRules& rules,
                                   const Clock& clock);

// Net settled income of the households with ids in (after, last], settled in [from_ms, to_ms).
Result<std::map<std::int64_t, Money>> household_net_income(db::Session& s, std::int64_t after,
                                                           std::int64_t last, std::int64_t from_ms,
                                                           std::int64_t to_ms);

// What each household sold and earned in [from_ms, to_ms): gross sales and net income,
// for open statistics. Households with no line are absent.
struct HouseholdSales {
  std::int64_t household_id = 0;
  Money gross, net;
};
inline constexpr std::size_t kMaxSellingHouseholds = 1'000'000;
Result<std::vector<HouseholdSales>> sales_by_household(db::Session& s, std::int64_t from_ms,
                                                       std::int64_t to_ms);

// A household's settlement lines settled in [from_ms, to_ms), oldest first.
Result<std::vector<SettlementLine>> settlement_lines(db::Session& s, std::int64_t household_id,
                                                     std::int64_t from_ms, std::int64_t to_ms);

// The settlement lines of one order (each household's part of each line), by line.
Result<std::vector<SettlementLine>> settlement_lines_of_order(db::Session& s,
                                                              std::int64_t order_id);

}  // namespace cunhuo::payments
