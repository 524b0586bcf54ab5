// The payments module: the double-entry ledger (ledger.hpp), payment intents and signed
// provider notifications (intents.hpp, provider.hpp; WeChat Pay v3 in wechatpay/),
// settlement splits (settlement.hpp), refunds (refunds.hpp), payouts
// (payouts.hpp), daily reconciliation (reconciliation.hpp) and household income
// statements (statements.hpp).
#pragma once

#include <vector>

#include "core/db/migrations.hpp"

namespace cunhuo::payments {

// Every payments migration, in order.
std::vector<db::Migration> migrations();

}  // namespace cunhuo::payments
