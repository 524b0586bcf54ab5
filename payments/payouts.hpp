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
// What a payout account's fields may hold (the payout_accounts columns).
inline constexpr std::size_t kMaxBankBytes = 60;
inline constexpr std::size_t kMaxHolderBytes = 100;
inline constexpr std::size_t kMinAccountNumberDigits = 12;
inline constexpr std::size_t kMaxAccountNumberDigits = 30;

struct PayoutAccount {
  std::int64_t household_id = 0;
  std::string bank, account_number, holder;
};

struct Payout {
  std::int64_t household_id = 0;
  Money amount;
  std::string bank, account_number, holder, status;  // pending, paid, failed
  std::int64_t sandbox_fen = 0;  // of the amount, what the sandbox captured (a demonstration's)
};

struct PayoutBatch {
  std::int64_t id = 0, created_at_ms = 0;
  std::string status;  // pending, confirmed
  Money total;
  std::vector<Payout> payouts;
};

std::span<const db::Migration> payout_migrations();

// Sets (or replaces) a household's payout account; refuses quotes and control characters
// in the bank and holder names. The change is audited: who, when, old and new masked.
Status set_payout_account(db::Session& tx, const PayoutAccount& account, std::int64_t actor_id,
                          const Clock& clock);
Result<std::optional<PayoutAccount>> payout_account(db::Session& s, std::int64_t household_id);

struct PayoutAccountChange {
  std::int64_t actor_id = 0;
  std::string old_value, new_value;  // "bank account-masked holder-masked"; old empty at first
  std::int64_t at_ms = 0;
};
Result<std::vector<PayoutAccountChange>> payout_account_changes(db::Session& s,
                                                                std::int64_t household_id);

// Holds the balance of each of `households` that has one and a payout account. With the
// sandbox off, what households earned from money the sandbox captured stays out of it.
Result<PayoutBatch> create_payout_batch(db::Session& tx, std::span<const std::int64_t> households,
                                        bool sandbox_on, const Clock& clock);
// The batch's payout record for the bank (CSV): every field quoted and a leading
// formula character defused, so no field can add a row or run in a spreadsheet. A batch
// that pays out sandbox money has no bank file while the sandbox is off (409).
Result<std::string> bank_file_csv(const PayoutBatch& batch, bool sandbox_on);
// The bank's answer: every payout is paid except those to `failed` households.
Result<PayoutBatch> confirm_payout_batch(db::Session& tx, std::int64_t batch_id,
                                         std::span<const std::int64_t> failed, const Clock& clock);
// Published for each payout the bank paid, in the confirmation's transaction.
inline constexpr const char* kPayoutSent = "payout.sent";
struct PayoutSent {
  std::int64_t batch_id = 0, household_id = 0;
  Money amount;

  std::string encode() const;  // {"batch_id", "household_id", "amount_fen"}
  static Result<PayoutSent> decode(std::string_view payload);
  bool operator==(const PayoutSent&) const = default;
};

Result<std::optional<PayoutBatch>> find_payout_batch(db::Session& s, std::int64_t batch_id);

}  // namespace cunhuo::payments
