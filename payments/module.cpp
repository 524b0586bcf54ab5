#include "payments/module.hpp"

#include "payments/closes.hpp"
#include "payments/intents.hpp"
#include "payments/ledger.hpp"
#include "payments/payouts.hpp"
#include "payments/reconciliation.hpp"
#include "payments/refunds.hpp"
#include "payments/settlement.hpp"
#include "payments/statement_keys.hpp"
#include "payments/work_queue.hpp"

namespace cunhuo::payments {
namespace {

// The tables of the in-process provider simulator this platform had before it spoke WeChat
// Pay v3 to a sandbox provider (paysandbox/): nothing reads them now; the migration stays so
// that stores migrated before and new ones agree.
constexpr db::Migration kRetiredSimulator[] = {
    {"payments", 3, "the provider simulator's own books",
     "CREATE TABLE IF NOT EXISTS sim_payments (\n"
     "  id {{ID}},\n"
     "  intent_id BIGINT NOT NULL UNIQUE,\n"
     "  amount_fen BIGINT NOT NULL,\n"
     "  currency VARCHAR(3) NOT NULL,\n"
     "  status VARCHAR(12) NOT NULL,\n"
     "  created_at BIGINT NOT NULL,\n"
     "  paid_at BIGINT\n"
     ");\n"
     "CREATE TABLE IF NOT EXISTS sim_notifications (\n"
     "  id {{ID}},\n"
     "  payment_id BIGINT NOT NULL,\n"
     "  body TEXT NOT NULL,\n"
     "  attempts INT NOT NULL DEFAULT 0,\n"
     "  next_attempt_at BIGINT NOT NULL,\n"
     "  acknowledged INT NOT NULL DEFAULT 0,\n"
     "  last_status INT NOT NULL DEFAULT 0\n"
     ");\n"
     "CREATE INDEX IF NOT EXISTS sim_notifications_due ON sim_notifications (acknowledged, "
     "next_attempt_at);\n"
     "CREATE TABLE IF NOT EXISTS sim_refunds (\n"
     "  id {{ID}},\n"
     "  refund_key VARCHAR(100) NOT NULL UNIQUE,\n"
     "  intent_id BIGINT NOT NULL,\n"
     "  amount_fen BIGINT NOT NULL,\n"
     "  created_at BIGINT NOT NULL\n"
     ");\n"},
};

}  // namespace

std::vector<db::Migration> migrations() {
  std::vector<db::Migration> out;
  for (auto list :
       {ledger_migrations(), intent_migrations(), std::span<const db::Migration>(kRetiredSimulator),
        settlement_migrations(), refund_migrations(), payout_migrations(),
        reconciliation_migrations(), statement_key_migrations(), close_migrations()})
    out.insert(out.end(), list.begin(), list.end());
  const auto queue = work_queue_migrations();  // an index for the "what needs me now" read
  out.insert(out.end(), queue.begin(), queue.end());
  return out;
}

}  // namespace cunhuo::payments
