// Daily reconciliation: the provider's bill for a day against what the platform's books
// say it received and refunded through that provider. Every difference (a payment or
// refund on one side only, or with another amount) is recorded in a report the county
// centre reads, and logged. A report covers the whole bill or one county's part of it.
#pragma once

#include <cstdint>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.hpp"
#include "core/db/database.hpp"
#include "core/db/migrations.hpp"
#include "payments/provider.hpp"

namespace cunhuo::payments {

// The daily run of the whole bill, one per bill date, in the shared job records (core/jobs).
inline constexpr std::string_view kReconciliationJob = "payments.reconciliation";

struct Difference {
  std::string kind;  // missing_in_books, missing_at_provider, amount_mismatch
  std::string type;  // payment or refund
  std::string reference;
  std::int64_t intent_id = 0, books_fen = 0, provider_fen = 0;
};

// Which part of the bill a run covers: all of it (an admin, the daily run), or one
// county's: the payments of checkouts with an order from one of the county's shops, and
// the refunds of those orders. A checkout with shops in two counties is in both parts;
// a provider line for an intent the books do not know is in the whole bill only.
struct BillScope {
  std::string county_code;          // "" for the whole bill
  std::set<std::int64_t> shop_ids;  // the county's shops

  bool whole() const { return county_code.empty(); }
};
BillScope whole_bill();

struct Reconciliation {
  std::int64_t id = 0;
  std::string date, provider;
  std::string county_code;  // "" for the whole bill
  int matched = 0;
  std::vector<Difference> differences;
  std::int64_t run_at_ms = 0;
};

std::span<const db::Migration> reconciliation_migrations();

// A report's differences as a JSON array, as stored and as answered.
std::string differences_json(const std::vector<Difference>& differences);

// Fetches the provider's bill for `date` (outside any transaction), compares the part of
// it in `scope` with the books, records the report.
Result<Reconciliation> reconcile(db::Database& db, PaymentProvider& provider,
                                 const std::string& date, const BillScope& scope,
                                 const Clock& clock);
// The latest report for `date` of `county_code` ("" for the whole bill's).
Result<std::optional<Reconciliation>> find_reconciliation(db::Session& s, const std::string& date,
                                                          const std::string& county_code);

}  // namespace cunhuo::payments
