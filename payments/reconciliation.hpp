// Daily reconciliation: the provider's bill for a day against what the platform's books
// say it received and refunded through that provider. Every difference (a payment or
// refund on one side only, or with another amount) is recorded in a report the county
// centre reads, and logged.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "core/clock.hpp"
#include "core/db/database.hpp"
#include "core/db/migrations.hpp"
#include "payments/provider.hpp"

namespace cunhuo::payments {

struct Difference {
  std::string kind;  // missing_in_books, missing_at_provider, amount_mismatch
  std::string type;  // payment or refund
  std::string reference;
  std::int64_t intent_id = 0, books_fen = 0, provider_fen = 0;
};

struct Reconciliation {
  std::int64_t id = 0;
  std::string date, provider;
  int matched = 0;
  std::vector<Difference> differences;
  std::int64_t run_at_ms = 0;
};

std::span<const db::Migration> reconciliation_migrations();

// Fetches the provider's bill for `date` (outside any transaction), compares, records.
Result<Reconciliation> reconcile(db::Database& db, PaymentProvider& provider, const std::string& date, const Clock& clock);
// The latest report for `date`.
Result<std::optional<Reconciliation>> find_reconciliation(db::Session& s, const std::string& date);

}  // namespace cunhuo::payments
