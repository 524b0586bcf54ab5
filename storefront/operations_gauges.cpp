#include "storefront/operations_gauges.hpp"

#include <spdlog/spdlog.h>

#include "core/jobs/jobs.hpp"
#include "logistics/work_queue.hpp"
#include "payments/ledger.hpp"
#include "payments/reconciliation.hpp"
#include "payments/refunds.hpp"

namespace cunhuo::storefront {
namespace {

void gauge(std::string& out, const char* name, const char* help, std::int64_t value) {
  out += std::string("# HELP ") + name + " " + help + "\n# TYPE " + name + " gauge\n" + name + " " +
         std::to_string(value) + "\n";
}

}  // namespace

OperationsGauges::Counts OperationsGauges::read_counts(std::int64_t now) {
  Counts next;
  auto counts = db_.read([&](db::Session& s) -> Status {
    next.outbox = CUNHUO_TRY(outbox::backlog(s));
    next.open_excursions = CUNHUO_TRY(logistics::open_excursions_in(s, "", 0)).count;
    const std::string yesterday = format_date(shanghai_date(now - 86'400'000));
    auto report = CUNHUO_TRY(payments::find_reconciliation(s, yesterday, ""));
    next.unreconciled = report ? static_cast<std::int64_t>(report->differences.size()) : 0;
    next.undelivered_refunds = CUNHUO_TRY(payments::count_undelivered_refunds(s));
    next.reconciled_through_ms.reset();
    auto day = CUNHUO_TRY(jobs::last_done(s, payments::kReconciliationJob));
    if (auto date = day ? parse_date(*day) : std::nullopt)
      next.reconciled_through_ms = shanghai_midnight_ms(*date) + 86'400'000;
    return {};
  });
  next.store_up = counts.ok();
  return next;
}

void OperationsGauges::check_ledger_if_due() {
  // One check at a time, outside mu_ (it scans the ledger): /readyz does not wait for it,
  // and a scrape that finds one running reports the last verdict.
  std::unique_lock checking(ledger_mu_, std::try_to_lock);
  if (!checking.owns_lock()) return;
  const std::int64_t now = clock_.now_ms();
  {
    std::lock_guard lock(mu_);
    if (last_.ledger_checked_at_ms != 0 &&
        now - last_.ledger_checked_at_ms < kLedgerCheckIntervalMs)
      return;
  }
  auto checked = db_.read([](db::Session& s) { return payments::check_ledger(s); });
  const bool found_wrong = !checked.ok() && (checked.error().code == payments::kLedgerUnbalanced ||
                                             checked.error().code == payments::kLedgerMismatch);
  if (found_wrong) spdlog::error("ledger check failed: {}", checked.error().message);
  // A store that did not answer gave no verdict: the next scrape asks again.
  if (!checked.ok() && !found_wrong) return;
  std::lock_guard lock(mu_);
  last_.ledger_balanced = checked.ok();
  last_.ledger_checked_at_ms = now;
}

OperationsReading OperationsGauges::read() {
  const std::int64_t now = clock_.now_ms();
  auto handed_out = [now](OperationsReading r) {
    r.age_ms = r.read_at_ms == 0 ? 0 : std::max<std::int64_t>(0, now - r.read_at_ms);
    return r;
  };
  {
    std::lock_guard lock(mu_);
    const bool due = last_.read_at_ms == 0 || now - last_.read_at_ms >= kGaugeRefreshMs;
    if (!due || refreshing_) return handed_out(last_);
    refreshing_ = true;
  }
  // Copy, let go, query, swap: the others meanwhile get the last reading.
  const Counts counts = read_counts(now);
  std::lock_guard lock(mu_);
  refreshing_ = false;
  last_.store_up = counts.store_up;
  if (counts.store_up) {  // a store that did not answer leaves the last counts
    last_.outbox = counts.outbox;
    last_.unreconciled = counts.unreconciled;
    last_.open_excursions = counts.open_excursions;
    last_.undelivered_refunds = counts.undelivered_refunds;
    last_.reconciled_through_ms = counts.reconciled_through_ms;
  }
  last_.read_at_ms = now;
  return handed_out(last_);
}

std::string OperationsGauges::render() {
  check_ledger_if_due();
  const OperationsReading r = read();
  std::string out;
  gauge(out, "cunhuo_store_up", "The last read of these gauges reached the store (1) or not (0).",
        r.store_up ? 1 : 0);
  gauge(out, "cunhuo_operations_reading_age_seconds",
        "How old the counts below are: the last reading is served while a refresh runs.",
        r.age_ms / 1000);
  gauge(out, "cunhuo_outbox_pending_events", "Outbox events not yet handled.", r.outbox.pending);
  gauge(out, "cunhuo_outbox_parked_events",
        "Outbox events given up on after too many attempts, for a person to look at.",
        r.outbox.parked);
  gauge(out, "cunhuo_outbox_oldest_pending_age_seconds",
        "Age of the oldest outbox event not yet handled (0: none).",
        r.outbox.oldest_pending_at_ms == 0
            ? 0
            : std::max<std::int64_t>(0, (r.read_at_ms - r.outbox.oldest_pending_at_ms) / 1000));
  gauge(out, "cunhuo_ledger_check_failed",
        "The last ledger check found balances that do not sum to zero or match their transfers.",
        r.ledger_balanced ? 0 : 1);
  gauge(out, "cunhuo_ledger_checked_timestamp_seconds", "When the ledger was last checked.",
        r.ledger_checked_at_ms / 1000);
  gauge(out, "cunhuo_payments_unreconciled",
        "Differences between the provider's bill and the books in yesterday's reconciliation.",
        r.unreconciled);
  gauge(out, "cunhuo_refunds_undelivered",
        "Refunds the provider reported ABNORMAL or CLOSED: owed to buyers, for staff to pay.",
        r.undelivered_refunds);
  if (r.reconciled_through_ms)  // no series before the first day: the alert waits for one
    gauge(out, "cunhuo_reconciled_through_timestamp_seconds",
          "End of the last day reconciled with the provider's bill (Asia/Shanghai midnight).",
          *r.reconciled_through_ms / 1000);
  gauge(out, "cunhuo_excursions_open", "Cold-chain excursions open, awaiting the centre.",
        r.open_excursions);
  return out;
}

}  // namespace cunhuo::storefront
