#include "payments/module.hpp"

#include "payments/intents.hpp"
#include "payments/ledger.hpp"
#include "payments/payouts.hpp"
#include "payments/reconciliation.hpp"
#include "payments/refunds.hpp"
#include "payments/settlement.hpp"
#include "payments/simulator.hpp"

namespace cunhuo::payments {

std::vector<db::Migration> migrations() {
  std::vector<db::Migration> out;
  for (auto list :
       {ledger_migrations(), intent_migrations(), Simulator::migrations(), settlement_migrations(),
        refund_migrations(), payout_migrations(), reconciliation_migrations()})
    out.insert(out.end(), list.begin(), list.end());
  return out;
}

}  // namespace cunhuo::payments
