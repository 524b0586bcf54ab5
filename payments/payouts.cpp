#include "payments/payouts.hpp"

#include <algorithm>

#include "payments/accounts.hpp"
#include "payments/ledger.hpp"

namespace cunhuo::payments {
namespace {

constexpr db::Migration kMigrations[] = {
    {"payments", 6, "household payout accounts and payout batches",
     "CREATE TABLE IF NOT EXISTS payout_accounts (\n"
     "  household_id BIGINT NOT NULL PRIMARY KEY,\n"
     "  bank VARCHAR(60) NOT NULL,\n"
     "  account_number VARCHAR(40) NOT NULL,\n"
     "  holder VARCHAR(100) NOT NULL,\n"
     "  updated_at BIGINT NOT NULL\n"
     ");\n"
     "CREATE TABLE IF NOT EXISTS payout_batches (\n"
     "  id {{ID}},\n"
     "  status VARCHAR(10) NOT NULL,\n"
     "  total_fen BIGINT NOT NULL,\n"
     "  created_at BIGINT NOT NULL,\n"
     "  confirmed_at BIGINT\n"
     ");\n"
     "CREATE TABLE IF NOT EXISTS payouts (\n"
     "  batch_id BIGINT NOT NULL,\n"
     "  household_id BIGINT NOT NULL,\n"
     "  amount_fen BIGINT NOT NULL,\n"
     "  bank VARCHAR(60) NOT NULL,\n"
     "  account_number VARCHAR(40) NOT NULL,\n"
     "  holder VARCHAR(100) NOT NULL,\n"
     "  status VARCHAR(10) NOT NULL,\n"
     "  PRIMARY KEY (batch_id, household_id)\n"
     ");\n"},
};

std::string hold_key(std::int64_t batch, std::int64_t household) {
  return "payout:" + std::to_string(batch) + ":household:" + std::to_string(household);
}

bool digits_only(const std::string& s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

}  // namespace

std::span<const db::Migration> payout_migrations() { return kMigrations; }

Status set_payout_account(db::Session& tx, const PayoutAccount& a, const Clock& clock) {
  if (a.bank.empty() || a.bank.size() > 60) return make_error(ErrorKind::invalid, "invalid_length", "the bank is 1 to 60 bytes", "bank");
  if (!digits_only(a.account_number) || a.account_number.size() < 12 || a.account_number.size() > 30)
    return make_error(ErrorKind::invalid, "invalid_account_number", "an account number is 12 to 30 digits", "account_number");
  if (a.holder.empty() || a.holder.size() > 100) return make_error(ErrorKind::invalid, "invalid_length", "the holder is 1 to 100 bytes", "holder");
  CUNHUO_TRY(tx.exec("DELETE FROM payout_accounts WHERE household_id = ?", {a.household_id}));
  CUNHUO_TRY(tx.exec("INSERT INTO payout_accounts (household_id, bank, account_number, holder, updated_at) VALUES (?, ?, ?, ?, ?)",
                     {a.household_id, a.bank, a.account_number, a.holder, clock.now_ms()}));
  return {};
}

Result<std::optional<PayoutAccount>> payout_account(db::Session& s, std::int64_t household_id) {
  auto r = CUNHUO_TRY(s.query_one("SELECT household_id, bank, account_number, holder FROM payout_accounts WHERE household_id = ?",
                                  {household_id}));
  if (!r) return std::optional<PayoutAccount>();
  return std::optional<PayoutAccount>(PayoutAccount{r->i64(0), r->str(1), r->str(2), r->str(3)});
}

Result<PayoutBatch> create_payout_batch(db::Session& tx, std::span<const std::int64_t> households, const Clock& clock) {
  const auto now = clock.now_ms();
  CUNHUO_TRY(tx.exec("INSERT INTO payout_batches (status, total_fen, created_at) VALUES ('pending', 0, ?)", {now}));
  PayoutBatch batch;
  batch.id = CUNHUO_TRY(tx.last_insert_id());
  batch.status = "pending";
  batch.created_at_ms = now;
  const AccountSpec clearing{accounts::kPayoutClearing, false};
  CUNHUO_CHECK(open_accounts(tx, std::span(&clearing, 1), clock));
  for (auto h : households) {
    if (batch.payouts.size() >= kMaxPayoutsPerBatch) break;  // the rest go in the next batch
    auto balance = CUNHUO_TRY(find_account(tx, accounts::household(h)));
    auto account = CUNHUO_TRY(payout_account(tx, h));
    if (!balance || balance->available() <= 0 || !account) continue;
    const Money amount = Money::fen(balance->available());
    const Transfer hold{hold_key(batch.id, h), accounts::household(h), accounts::kPayoutClearing, amount, TransferKind::pending, "",
                        "payout:" + std::to_string(batch.id), "payout to the household's bank account"};
    CUNHUO_TRY(transfer(tx, std::span(&hold, 1), clock));
    CUNHUO_TRY(tx.exec("INSERT INTO payouts (batch_id, household_id, amount_fen, bank, account_number, holder, status) "
                       "VALUES (?, ?, ?, ?, ?, ?, 'pending')",
                       {batch.id, h, amount.fen(), account->bank, account->account_number, account->holder}));
    batch.total = CUNHUO_TRY(batch.total.plus(amount));
    batch.payouts.push_back(Payout{h, amount, account->bank, account->account_number, account->holder, "pending"});
  }
  CUNHUO_TRY(tx.exec("UPDATE payout_batches SET total_fen = ? WHERE id = ?", {batch.total.fen(), batch.id}));
  return batch;
}

Result<std::optional<PayoutBatch>> find_payout_batch(db::Session& s, std::int64_t batch_id) {
  auto b = CUNHUO_TRY(s.query_one("SELECT id, status, total_fen, created_at FROM payout_batches WHERE id = ?", {batch_id}));
  if (!b) return std::optional<PayoutBatch>();
  PayoutBatch batch{b->i64(0), b->i64(3), b->str(1), Money::fen(b->i64(2)), {}};
  for (const auto& r : CUNHUO_TRY(s.query("SELECT household_id, amount_fen, bank, account_number, holder, status FROM payouts "
                                          "WHERE batch_id = ? ORDER BY household_id", {batch_id})))
    batch.payouts.push_back(Payout{r.i64(0), Money::fen(r.i64(1)), r.str(2), r.str(3), r.str(4), r.str(5)});
  return std::optional<PayoutBatch>(std::move(batch));
}

Result<PayoutBatch> confirm_payout_batch(db::Session& tx, std::int64_t batch_id, std::span<const std::int64_t> failed,
                                         const Clock& clock) {
  auto batch = CUNHUO_TRY(find_payout_batch(tx, batch_id));
  if (!batch) return make_error(ErrorKind::not_found, "not_found", "no such payout batch", "id");
  if (batch->status != "pending") return make_error(ErrorKind::conflict, "already_confirmed", "this batch was confirmed before", "id");
  for (auto& p : batch->payouts) {
    const bool paid = std::find(failed.begin(), failed.end(), p.household_id) == failed.end();
    const std::string key = hold_key(batch_id, p.household_id);
    const Transfer done{key + (paid ? ":post" : ":void"), "", "", Money(), paid ? TransferKind::post_pending : TransferKind::void_pending,
                        key, "payout:" + std::to_string(batch_id), paid ? "paid by the bank" : "the bank refused the account"};
    CUNHUO_TRY(transfer(tx, std::span(&done, 1), clock));
    p.status = paid ? "paid" : "failed";
    CUNHUO_TRY(tx.exec("UPDATE payouts SET status = ? WHERE batch_id = ? AND household_id = ?", {p.status, batch_id, p.household_id}));
  }
  CUNHUO_TRY(tx.exec("UPDATE payout_batches SET status = 'confirmed', confirmed_at = ? WHERE id = ?", {clock.now_ms(), batch_id}));
  batch->status = "confirmed";
  return std::move(*batch);
}

}  // namespace cunhuo::payments
