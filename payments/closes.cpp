#include "payments/closes.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "payments/intents.hpp"

namespace cunhuo::payments {
namespace {

constexpr db::Migration kMigrations[] = {
    {"payments", 14, "closes of provider orders that can no longer be paid",
     "CREATE TABLE IF NOT EXISTS provider_closes (\n"
     "  intent_id BIGINT NOT NULL PRIMARY KEY,\n"
     "  reason VARCHAR(20) NOT NULL,\n"
     "  status VARCHAR(10) NOT NULL,\n"
     "  attempts INT NOT NULL DEFAULT 0,\n"
     "  next_attempt_at BIGINT NOT NULL,\n"
     "  last_error VARCHAR(200),\n"
     "  created_at BIGINT NOT NULL,\n"
     "  updated_at BIGINT NOT NULL\n"
     ");\n"
     "CREATE INDEX IF NOT EXISTS provider_closes_due ON provider_closes (status, "
     "next_attempt_at);\n"},
};

std::int64_t backoff_ms(int attempts) {
  return std::min(kCloseRetryCapMs, kCloseRetryBaseMs << std::min(attempts - 1, 20));
}

Status record(db::Database& db, std::int64_t intent_id, const Result<CloseOutcome>& outcome,
              int attempts, const Clock& clock) {
  const auto now = clock.now_ms();
  return db.write([&](db::Session& tx) -> Status {
    if (outcome.ok())
      CUNHUO_TRY(
          tx.exec("UPDATE provider_closes SET status = ?, attempts = ?, updated_at = ? "
                  "WHERE intent_id = ? AND status = 'pending'",
                  {std::string(to_string(*outcome)), attempts, now, intent_id}));
    else
      CUNHUO_TRY(
          tx.exec("UPDATE provider_closes SET attempts = ?, next_attempt_at = ?, last_error = ?, "
                  "updated_at = ? WHERE intent_id = ? AND status = 'pending'",
                  {attempts, now + backoff_ms(attempts), outcome.error().code.substr(0, 200), now,
                   intent_id}));
    return {};
  });
}

// The order was paid before it could be closed: its payment is applied now, as its
// notification would apply it (an order cancelled meanwhile gets it back by the late-payment
// path), and the close is recorded `paid` in the same transaction. A notification applied
// before or after finds the intent paid: the money moves once.
Status apply_found_payment(db::Database& db, PaymentProvider& provider, std::int64_t intent_id,
                           int attempts, const Clock& clock) {
  const auto paid = CUNHUO_TRY(provider.query_paid(intent_id));
  if (!paid)  // the close and the query disagree: asked again after the back-off
    return make_error(ErrorKind::unavailable, "paid_not_found",
                      "the provider refused the close as paid, but its query finds no payment");
  return db.write([&](db::Session& tx) -> Status {
    auto recorded = CUNHUO_TRY(
        tx.exec("UPDATE provider_closes SET status = ?, attempts = ?, updated_at = ? "
                "WHERE intent_id = ? AND status = 'pending'",
                {std::string(to_string(CloseOutcome::paid)), attempts, clock.now_ms(), intent_id}));
    if (recorded.affected_rows != 1) return {};  // another pass recorded it meanwhile
    const auto applied =
        CUNHUO_TRY(apply_queried_payment(tx, intent_id, *paid, provider.name(), clock));
    spdlog::warn("intent {} was paid before it could be closed: its payment is applied ({})",
                 intent_id, applied == NoticeOutcome::duplicate ? "it was already" : "now");
    return {};
  });
}

}  // namespace

std::span<const db::Migration> close_migrations() { return kMigrations; }

Status request_close(db::Session& tx, std::int64_t intent_id, std::string_view reason,
                     const Clock& clock) {
  const auto now = clock.now_ms();
  CUNHUO_TRY(tx.exec(std::string(tx.insert_ignore()) +
                         " INTO provider_closes (intent_id, reason, status, next_attempt_at, "
                         "created_at, updated_at) VALUES (?, ?, 'pending', ?, ?, ?)",
                     {intent_id, std::string(reason), now, now, now}));
  return {};
}

Status close_intents_of_order(db::Session& tx, std::int64_t order_id, const Clock& clock) {
  // A paid intent is final; an open or failed one may still be payable at the provider.
  for (const auto& row : CUNHUO_TRY(
           tx.query("SELECT i.id FROM payment_orders o JOIN payment_intents i ON i.checkout_id = "
                    "o.checkout_id WHERE o.order_id = ? AND o.status = 'unpaid' AND i.status IN "
                    "('open', 'failed') ORDER BY i.id",
                    {order_id})))
    CUNHUO_CHECK(request_close(tx, row.i64(0), kCloseCancelled, clock));
  return {};
}

Result<std::optional<ProviderClose>> find_close(db::Session& s, std::int64_t intent_id) {
  auto row = CUNHUO_TRY(s.query_one(
      "SELECT intent_id, reason, status, attempts FROM provider_closes WHERE intent_id = ?",
      {intent_id}));
  if (!row) return std::optional<ProviderClose>();
  return std::optional<ProviderClose>(ProviderClose{.intent_id = row->i64(0),
                                                    .reason = row->str(1),
                                                    .status = row->str(2),
                                                    .attempts = static_cast<int>(row->i64(3))});
}

Result<int> close_provider_orders(db::Database& db, PaymentProvider& provider, const Clock& clock) {
  auto due = CUNHUO_TRY(db.read([&](db::Session& s) {
    return s.query(
        "SELECT c.intent_id, c.attempts FROM provider_closes c JOIN payment_intents i ON i.id = "
        "c.intent_id WHERE c.status = 'pending' AND c.next_attempt_at <= ? AND i.provider = ? "
        "ORDER BY c.next_attempt_at, c.intent_id LIMIT " +
            std::to_string(kCloseBatch),
        {clock.now_ms(), provider.name()});
  }));
  int answered = 0;
  for (const auto& r : due) {
    const std::int64_t intent = r.i64(0);
    const int attempts = static_cast<int>(r.i64(1)) + 1;
    auto outcome = provider.close_payment(intent);
    if (outcome.ok() && *outcome == CloseOutcome::paid) {
      const auto applied = apply_found_payment(db, provider, intent, attempts, clock);
      if (applied.ok()) {
        ++answered;
        continue;
      }
      outcome = applied.error();  // the close stays pending: the next attempt asks again
    }
    if (!outcome.ok())
      spdlog::warn("closing intent {} at the provider failed ({}): tried again later", intent,
                   outcome.error().code);
    CUNHUO_CHECK(record(db, intent, outcome, attempts, clock));
    if (outcome.ok()) ++answered;
  }
  return answered;
}

}  // namespace cunhuo::payments
