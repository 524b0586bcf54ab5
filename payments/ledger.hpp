// The double-entry ledger (TigerBeetle's model): accounts keep posted and pending
// debits and credits in integer fen; money moves only as immutable transfers with a
// client-chosen key, so a retry finds its transfer instead of moving money twice.
// Two-phase transfers hold money (pending) until they are posted or voided. A batch
// runs in the caller's transaction, so it is atomic with it. Every transfer debits one
// account and credits another by the same amount, so balances always sum to zero;
// `check_ledger` proves it from the stored rows at start.
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

inline constexpr std::size_t kMaxTransfersPerBatch = 8192;
inline constexpr std::size_t kMaxKeyBytes = 100;

struct AccountSpec {
  std::string code;              // "household:12", "escrow:order:7", "provider:sim"
  bool may_go_negative = false;  // outside money (a provider's clearing account) may
};

struct AccountBalance {
  std::string code;
  std::int64_t debits_posted = 0, credits_posted = 0, debits_pending = 0, credits_pending = 0;
  bool may_go_negative = false;
  // Credit-normal: what the account holds, and what it holds net of money on hold.
  std::int64_t balance() const { return credits_posted - debits_posted; }
  std::int64_t available() const { return credits_posted - debits_posted - debits_pending; }
};

enum class TransferKind {
  posted,        // moves money now
  pending,       // holds money on both sides until posted or voided
  post_pending,  // completes the pending transfer named by `pending_key` (whole amount)
  void_pending,  // releases the pending transfer named by `pending_key`
};

struct Transfer {
  std::string key;            // client-chosen, unique for ever
  std::string debit, credit;  // account codes (post/void: taken from the pending transfer)
  Money amount;               // post/void: taken from the pending transfer
  TransferKind kind = TransferKind::posted;
  std::string pending_key;
  std::string reference;  // what it is for: "order:12", "checkout:3"
  std::string memo;
};

enum class Outcome { created, exists };

// Opens the accounts that do not exist yet; existing ones are left as they are.
Status open_accounts(db::Session& tx, std::span<const AccountSpec> accounts, const Clock& clock);

// Applies the transfers in order, all or none (an error leaves the caller to roll back).
// A key already used with the same fields is `exists`; with other fields it is refused.
Result<std::vector<Outcome>> transfer(db::Session& tx, std::span<const Transfer> batch,
                                      const Clock& clock);

Result<std::optional<AccountBalance>> find_account(db::Session& s, std::string_view code);
// The posted transfers touching an account, newest first.
struct Posting {
  std::string key, counterparty, reference, memo;
  std::int64_t amount = 0;  // + credit to the account, - debit
  std::int64_t at_ms = 0;
};
Result<std::vector<Posting>> postings(db::Session& s, std::string_view code, int limit);

// Sums every account and re-adds every transfer: balances must sum to zero and each
// account must equal its transfers. An error names the first discrepancy, coded
// kLedgerUnbalanced or kLedgerMismatch (any other code: the store did not answer).
inline constexpr std::string_view kLedgerUnbalanced = "ledger_unbalanced";
inline constexpr std::string_view kLedgerMismatch = "ledger_mismatch";
Status check_ledger(db::Session& s);

std::span<const db::Migration> ledger_migrations();

}  // namespace cunhuo::payments
