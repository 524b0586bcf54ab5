#include "payments/work_queue.hpp"

namespace cunhuo::payments {
namespace {

constexpr db::Migration kMigrations[] = {
    {"payments", 13, "refund claims by status",
     "CREATE INDEX IF NOT EXISTS refund_claims_status ON refund_claims (status, id);\n"},
};

}  // namespace

std::span<const db::Migration> work_queue_migrations() { return kMigrations; }

Result<std::vector<WaitingClaim>> requested_claims(db::Session& s, int limit) {
  std::vector<WaitingClaim> out;
  for (const auto& r : CUNHUO_TRY(s.query("SELECT id, order_id, created_at FROM refund_claims "
                                          "WHERE status = 'requested' ORDER BY id LIMIT ?",
                                          {limit})))
    out.push_back(WaitingClaim{r.i64(0), r.i64(1), r.i64(2)});
  return out;
}

}  // namespace cunhuo::payments
