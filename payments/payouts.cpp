#include "payments/payouts.hpp"

#include <algorithm>

#include "core/json.hpp"
#include "core/outbox/outbox.hpp"
#include "core/outbox/payload.hpp"
#include "core/privacy.hpp"
#include "core/text.hpp"
#include "payments/accounts.hpp"
#include "payments/ledger.hpp"
#include "payments/provider.hpp"

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
    // How much of each payout was money the sandbox captured, so that what the sandbox
    // took is never paid out of a deployment without it; and who changed payout accounts.
    {"payments", 10, "the sandbox's share of payouts, and payout account changes audited",
     "ALTER TABLE payouts ADD COLUMN sandbox_fen BIGINT NOT NULL DEFAULT 0;\n"
     "CREATE TABLE IF NOT EXISTS payout_account_audit (\n"
     "  id {{ID}},\n"
     "  household_id BIGINT NOT NULL,\n"
     "  actor_id BIGINT NOT NULL,\n"
     "  old_value VARCHAR(200) NOT NULL,\n"
     "  new_value VARCHAR(200) NOT NULL,\n"
     "  at BIGINT NOT NULL\n"
     ");\n"
     "CREATE INDEX IF NOT EXISTS payout_account_audit_household ON payout_account_audit "
     "(household_id, id);\n"},
};

std::string hold_key(std::int64_t batch, std::int64_t household) {
  return "payout:" + std::to_string(batch) + ":household:" + std::to_string(household);
}

bool digits_only(const std::string& s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// A name goes into the bank's file: quotes and control characters (a newline would
// start a row of its own) have no place in a bank's or a person's name.
bool plain_name(const std::string& s) {
  return std::none_of(s.begin(), s.end(), [](char c) {
    const auto u = static_cast<unsigned char>(c);
    return u < 0x20 || u == 0x7f || c == '"' || c == '\'' || c == '`';
  });
}

Status check_name(const std::string& value, std::size_t max_bytes, const char* field) {
  if (value.empty() || value.size() > max_bytes)
    return make_error(
        ErrorKind::invalid, "invalid_length",
        std::string("the ") + field + " is 1 to " + std::to_string(max_bytes) + " bytes", field);
  if (!plain_name(value))
    return make_error(ErrorKind::invalid, "invalid_characters",
                      std::string("the ") + field + " may not hold quotes or control characters",
                      field);
  return {};
}

std::string masked(const PayoutAccount& a) {
  return a.bank + " " + mask_account(a.account_number) + " " + mask_name(a.holder);
}

// A stored field with a control character (written before names were checked) still
// cannot break a row of the bank file.
std::string bank_field(std::string_view text) {
  std::string clean(text);
  for (char& c : clean)
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = ' ';
  return csv_field(clean);
}

// What a household earned from orders the sandbox took the money for, less what of it
// was paid out before (while the sandbox was on).
Result<std::int64_t> sandbox_money_left(db::Session& tx, std::int64_t household) {
  auto earned =
      CUNHUO_TRY(tx.query_one("SELECT COALESCE(SUM(l.net_fen), 0) FROM settlement_lines l JOIN "
                              "payment_orders o ON o.order_id = l.order_id "
                              "WHERE l.household_id = ? AND EXISTS (SELECT 1 FROM payment_intents "
                              "i WHERE i.checkout_id = o.checkout_id "
                              "AND i.status = 'succeeded' AND i.provider = ?)",
                              {household, kSandboxProvider}));
  auto paid =
      CUNHUO_TRY(tx.query_one("SELECT COALESCE(SUM(sandbox_fen), 0) FROM payouts WHERE "
                              "household_id = ? AND status IN ('pending', 'paid')",
                              {household}));
  return std::max<std::int64_t>(0, earned->i64(0) - paid->i64(0));
}

}  // namespace

std::span<const db::Migration> payout_migrations() { return kMigrations; }

Status set_payout_account(db::Session& tx, const PayoutAccount& a, std::int64_t actor_id,
                          const Clock& clock) {
  CUNHUO_CHECK(check_name(a.bank, kMaxBankBytes, "bank"));
  if (!digits_only(a.account_number) || a.account_number.size() < kMinAccountNumberDigits ||
      a.account_number.size() > kMaxAccountNumberDigits)
    return make_error(ErrorKind::invalid, "invalid_account_number",
                      "an account number is " + std::to_string(kMinAccountNumberDigits) + " to " +
                          std::to_string(kMaxAccountNumberDigits) + " digits",
                      "account_number");
  CUNHUO_CHECK(check_name(a.holder, kMaxHolderBytes, "holder"));
  const auto before = CUNHUO_TRY(payout_account(tx, a.household_id));
  CUNHUO_TRY(
      tx.exec("INSERT INTO payout_account_audit (household_id, actor_id, old_value, new_value, at) "
              "VALUES (?, ?, ?, ?, ?)",
              {a.household_id, actor_id, before ? masked(*before) : std::string(), masked(a),
               clock.now_ms()}));
  CUNHUO_TRY(tx.exec("DELETE FROM payout_accounts WHERE household_id = ?", {a.household_id}));
  CUNHUO_TRY(
      tx.exec("INSERT INTO payout_accounts (household_id, bank, account_number, holder, "
              "updated_at) VALUES (?, ?, ?, ?, ?)",
              {a.household_id, a.bank, a.account_number, a.holder, clock.now_ms()}));
  return {};
}

Result<std::optional<PayoutAccount>> payout_account(db::Session& s, std::int64_t household_id) {
  auto r =
      CUNHUO_TRY(s.query_one("SELECT household_id, bank, account_number, holder FROM "
                             "payout_accounts WHERE household_id = ?",
                             {household_id}));
  if (!r) return std::optional<PayoutAccount>();
  return std::optional<PayoutAccount>(PayoutAccount{r->i64(0), r->str(1), r->str(2), r->str(3)});
}

Result<std::vector<PayoutAccountChange>> payout_account_changes(db::Session& s,
                                                                std::int64_t household_id) {
  std::vector<PayoutAccountChange> out;
  for (const auto& r :
       CUNHUO_TRY(s.query("SELECT actor_id, old_value, new_value, at FROM payout_account_audit "
                          "WHERE household_id = ? ORDER BY id",
                          {household_id})))
    out.push_back(PayoutAccountChange{
        .actor_id = r.i64(0), .old_value = r.str(1), .new_value = r.str(2), .at_ms = r.i64(3)});
  return out;
}

Result<std::string> bank_file_csv(const PayoutBatch& batch, bool sandbox_on) {
  const bool sandbox_money = std::any_of(batch.payouts.begin(), batch.payouts.end(),
                                         [](const Payout& p) { return p.sandbox_fen > 0; });
  if (sandbox_money && !sandbox_on)
    return make_error(
        ErrorKind::conflict, "sandbox_money",
        "this batch pays out money the sandbox captured: no bank file without the sandbox", "id");
  std::string csv = "household_id,bank,account_number,holder,amount_yuan\n";
  for (const auto& p : batch.payouts)
    csv += bank_field(std::to_string(p.household_id)) + "," + bank_field(p.bank) + "," +
           bank_field(p.account_number) + "," + bank_field(p.holder) + "," +
           bank_field(p.amount.to_yuan()) + "\n";
  return csv;
}

Result<PayoutBatch> create_payout_batch(db::Session& tx, std::span<const std::int64_t> households,
                                        bool sandbox_on, const Clock& clock) {
  const auto now = clock.now_ms();
  CUNHUO_TRY(
      tx.exec("INSERT INTO payout_batches (status, total_fen, created_at) VALUES ('pending', 0, ?)",
              {now}));
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
    const std::int64_t sandbox_left =
        std::min(balance->available(), CUNHUO_TRY(sandbox_money_left(tx, h)));
    const Money amount = Money::fen(balance->available() - (sandbox_on ? 0 : sandbox_left));
    if (amount.fen() <= 0) continue;  // all of it came through the sandbox, which is off
    const Transfer hold{hold_key(batch.id, h),
                        accounts::household(h),
                        accounts::kPayoutClearing,
                        amount,
                        TransferKind::pending,
                        "",
                        "payout:" + std::to_string(batch.id),
                        "payout to the household's bank account"};
    CUNHUO_TRY(transfer(tx, std::span(&hold, 1), clock));
    const Payout payout{.household_id = h,
                        .amount = amount,
                        .bank = account->bank,
                        .account_number = account->account_number,
                        .holder = account->holder,
                        .status = "pending",
                        .sandbox_fen = sandbox_on ? sandbox_left : 0};
    CUNHUO_TRY(
        tx.exec("INSERT INTO payouts (batch_id, household_id, amount_fen, bank, account_number, "
                "holder, status, sandbox_fen) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                {batch.id, h, amount.fen(), payout.bank, payout.account_number, payout.holder,
                 payout.status, payout.sandbox_fen}));
    batch.total = CUNHUO_TRY(batch.total.plus(amount));
    batch.payouts.push_back(payout);
  }
  CUNHUO_TRY(tx.exec("UPDATE payout_batches SET total_fen = ? WHERE id = ?",
                     {batch.total.fen(), batch.id}));
  return batch;
}

Result<std::optional<PayoutBatch>> find_payout_batch(db::Session& s, std::int64_t batch_id) {
  auto b = CUNHUO_TRY(s.query_one(
      "SELECT id, status, total_fen, created_at FROM payout_batches WHERE id = ?", {batch_id}));
  if (!b) return std::optional<PayoutBatch>();
  PayoutBatch batch{b->i64(0), b->i64(3), b->str(1), Money::fen(b->i64(2)), {}};
  for (const auto& r :
       CUNHUO_TRY(s.query("SELECT household_id, amount_fen, bank, account_number, holder, status, "
                          "sandbox_fen FROM payouts WHERE batch_id = ? ORDER BY household_id",
                          {batch_id})))
    batch.payouts.push_back(Payout{.household_id = r.i64(0),
                                   .amount = Money::fen(r.i64(1)),
                                   .bank = r.str(2),
                                   .account_number = r.str(3),
                                   .holder = r.str(4),
                                   .status = r.str(5),
                                   .sandbox_fen = r.i64(6)});
  return std::optional<PayoutBatch>(std::move(batch));
}

Result<PayoutBatch> confirm_payout_batch(db::Session& tx, std::int64_t batch_id,
                                         std::span<const std::int64_t> failed, const Clock& clock) {
  auto batch = CUNHUO_TRY(find_payout_batch(tx, batch_id));
  if (!batch) return make_error(ErrorKind::not_found, "not_found", "no such payout batch", "id");
  // The decision is taken by a conditional update before any money moves: of two
  // confirmations at once (MariaDB reads a snapshot), only one finds the batch pending.
  auto decided = CUNHUO_TRY(
      tx.exec("UPDATE payout_batches SET status = 'confirmed', confirmed_at = ? WHERE id = ? "
              "AND status = 'pending'",
              {clock.now_ms(), batch_id}));
  if (batch->status != "pending" || decided.affected_rows != 1)
    return make_error(ErrorKind::conflict, "already_confirmed", "this batch was confirmed before",
                      "id");
  for (auto& p : batch->payouts) {
    const bool paid = std::find(failed.begin(), failed.end(), p.household_id) == failed.end();
    const std::string key = hold_key(batch_id, p.household_id);
    const Transfer done{key + (paid ? ":post" : ":void"),
                        "",
                        "",
                        Money(),
                        paid ? TransferKind::post_pending : TransferKind::void_pending,
                        key,
                        "payout:" + std::to_string(batch_id),
                        paid ? "paid by the bank" : "the bank refused the account"};
    CUNHUO_TRY(transfer(tx, std::span(&done, 1), clock));
    p.status = paid ? "paid" : "failed";
    CUNHUO_TRY(tx.exec("UPDATE payouts SET status = ? WHERE batch_id = ? AND household_id = ?",
                       {p.status, batch_id, p.household_id}));
    if (!paid) continue;
    const PayoutSent sent{.batch_id = batch_id, .household_id = p.household_id, .amount = p.amount};
    CUNHUO_TRY(outbox::publish(tx, kPayoutSent, sent.encode(), clock));
  }
  batch->status = "confirmed";
  return std::move(*batch);
}

std::string PayoutSent::encode() const {
  JsonWriter w;
  w.begin_object().field("batch_id", batch_id).field("household_id", household_id);
  w.field("amount_fen", amount.fen()).end_object();
  return w.take();
}

Result<PayoutSent> PayoutSent::decode(std::string_view payload) {
  const auto p = CUNHUO_TRY(outbox::PayloadReader::parse("PayoutSent", payload));
  return PayoutSent{.batch_id = CUNHUO_TRY(p.integer("batch_id")),
                    .household_id = CUNHUO_TRY(p.integer("household_id")),
                    .amount = Money::fen(CUNHUO_TRY(p.integer("amount_fen")))};
}

}  // namespace cunhuo::payments
