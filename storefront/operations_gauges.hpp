// What a county's operator watches besides the requests (Metrics): the outbox backlog and
// its parked events, whether the ledger still balances, the differences in yesterday's
// reconciliation with the provider and the last day reconciled, and the cold-chain excursions
// open. Read from the store on a scrape (or /readyz), at most once per kGaugeRefreshMs (the
// ledger check, a whole scan, on a scrape once per kLedgerCheckIntervalMs), so a busy scraper
// costs the store little. Every process reports the same store-wide values: the alert rules
// take the max over processes.
// The store is never read under the reading's lock: while one caller refreshes, the others
// get the last reading at once, with its age, so a hung store never queues /readyz.
#pragma once

#include <cstdint>
#include <mutex>
#include <optional>
#include <string>

#include "core/clock.hpp"
#include "core/db/database.hpp"
#include "core/outbox/outbox.hpp"

namespace cunhuo::storefront {

inline constexpr std::int64_t kGaugeRefreshMs = 15'000;
inline constexpr std::int64_t kLedgerCheckIntervalMs = 10 * 60'000;

struct OperationsReading {
  bool store_up = false;  // the last read of the gauges reached the store
  outbox::Backlog outbox;
  bool ledger_balanced = true;
  std::int64_t ledger_checked_at_ms = 0;  // 0: not checked yet
  std::int64_t unreconciled = 0;          // differences in yesterday's whole-bill report
  std::int64_t open_excursions = 0;
  std::int64_t undelivered_refunds = 0;  // refunds the provider reported ABNORMAL or CLOSED
  // The end (Asia/Shanghai midnight after it) of the last day whose bill was reconciled.
  std::optional<std::int64_t> reconciled_through_ms;  // none: no day reconciled yet
  std::int64_t read_at_ms = 0;                        // 0: not read yet
  std::int64_t age_ms = 0;                            // how old the counts were when handed out
};

class OperationsGauges {
 public:
  OperationsGauges(db::Database& db, const Clock& clock) : db_(db), clock_(clock) {}
  // The reading, its counts refreshed first when older than kGaugeRefreshMs (the ledger's
  // verdict is the last render's); the last reading, without waiting, while another caller
  // refreshes it.
  OperationsReading read();
  // The reading in the Prometheus text format, the ledger checked first when due.
  std::string render();

 private:
  struct Counts {
    bool store_up = false;
    outbox::Backlog outbox;
    std::int64_t unreconciled = 0, open_excursions = 0, undelivered_refunds = 0;
    std::optional<std::int64_t> reconciled_through_ms;
  };
  Counts read_counts(std::int64_t now);  // from the store: never under mu_
  void check_ledger_if_due();

  db::Database& db_;
  const Clock& clock_;
  std::mutex mu_;         // last_, refreshing_
  std::mutex ledger_mu_;  // one ledger check at a time
  OperationsReading last_;
  bool refreshing_ = false;  // a caller is reading the counts from the store
};

}  // namespace cunhuo::storefront
