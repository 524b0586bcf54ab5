// The ledger accounts payments uses, by code. Each paid order has an escrow account of
// its own, so what was paid for it, what it settled and what it refunded can be told
// apart to the fen.
#pragma once

#include <cstdint>
#include <string>

namespace cunhuo::payments::accounts {

inline std::string escrow(std::int64_t order_id) {
  return "escrow:order:" + std::to_string(order_id);
}
inline std::string household(std::int64_t household_id) {
  return "household:" + std::to_string(household_id);
}
inline std::string shop(std::int64_t shop_id) { return "shop:" + std::to_string(shop_id); }
inline std::string provider(const std::string& name) {
  return "provider:" + name;
}  // outside money: may go negative
inline const std::string kPlatformFees = "platform:fees";
inline const std::string kLogisticsFees = "logistics:fees";
inline const std::string kLogisticsLiability =
    "logistics:liability";  // what carriers owe for goods they spoiled
inline const std::string kPayoutClearing =
    "payout:bank";  // money on its way to household bank accounts
// A refund the provider reported ABNORMAL or CLOSED: the money came back from the provider
// and is owed to the buyer until staff pay it another way.
inline const std::string kRefundsOwed = "payments:refunds_owed";
// Owed refunds staff paid the buyer outside the provider (a bank transfer, cash at the
// township station): the money has left the platform's books for the buyer.
inline const std::string kRefundsPaidOffline = "payments:refunds_paid_offline";
inline const std::string kReturns =
    "payments:returns";  // a checkout paid twice: the second payment, going back

}  // namespace cunhuo::payments::accounts
