#include "payments/module.hpp"

#include "payments/intents.hpp"
#include "payments/ledger.hpp"
#include "payments/payouts.hpp"
#include "payments/reconciliation.hpp"
#include "payments/refunds.hpp"
#include "payments/settlement.hpp"
#include "payments/simulator.hpp"
#include "payments/statement_keys.hpp"
#include "payments/work_queue.hpp"

namespace cunhuo::payments {

std::vector<db::Migration> migrations() {
  std::vector<db::Migration> out;
  for (auto list :
       {ledger_migrations(), intent_migrations(), Simulator::migrations(), settlement_migrations(),
        refund_migrations(), payout_migrations(), reconciliation_migrations(),
        statement_key_migrations()})
    out.insert(out.end(), list.begin(), list.end());
  const auto queue = work_queue_migrations();  // an index for the "what needs me now" read
  out.insert(out.end(), queue.begin(), queue.end());
  return out;
}

}  // namespace cunhuo::payments
