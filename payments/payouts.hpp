// Payouts: what households have earned leaves the platform in batches to their bank
// accounts. A batch holds each household's balance (pending transfers to the bank
// clearing account) until the bank confirms it (posted) or reports an account failed
// (voided, the money stays with the household). Account numbers are stored whole and
// appear whole only in the bank file of a batch; everywhere else they are masked.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "core/clock.hpp"
#include "core/db/database.hpp"
#include "core/db/migrations.hpp"
#include "core/money.hpp"

namespace cunhuo::payments {

inline constexpr std::size_t kMaxPayoutsPerBatch = 1000;

struct PayoutAccount {
  std::int64_t household_id = 0;
  std::string bank, account_number, holder;
};

struct Payout {
  std::int64_t household_id = 0;
  Money amount;
  std::string bank, account_number, holder, status;  // pending, paid, failed
};

struct PayoutBatch {
  std::int64_t id = 0, created_at_ms = 0;
  std::string status;  // pending, confirmed
  Money total;
  std::vector<Payout> payouts;
};

std::span<const db::Migration> payout_migrations();

Status set_payout_account(db::Session& tx, const PayoutAccount& account, const Clock& clock);
Result<std::optional<PayoutAccount>> payout_account(db::Session& s, std::int64_t household_id);

// Holds the balance of each of `households` that has one and a payout account.
Result<PayoutBatch> create_payout_batch(db::Session& tx, std::span<const std::int64_t> households, const Clock& clock);
// The bank's answer: every payout is paid except those to `failed` households.
Result<PayoutBatch> confirm_payout_batch(db::Session& tx, std::int64_t batch_id, std::span<const std::int64_t> failed,
                                         const Clock& clock);
Result<std::optional<PayoutBatch>> find_payout_batch(db::Session& s, std::int64_t batch_id);

}  // namespace cunhuo::payments
