#include "payments/ledger.hpp"

#include <spdlog/spdlog.h>

#include <map>

#include "core/assert.hpp"
#include "core/enum_names.hpp"

namespace cunhuo::payments {
namespace {

constexpr db::Migration kMigrations[] = {
    {"payments", 1, "ledger accounts and transfers",
     "CREATE TABLE IF NOT EXISTS ledger_accounts (\n"
     "  id {{ID}},\n"
     "  code VARCHAR(100) NOT NULL UNIQUE,\n"
     "  may_go_negative INT NOT NULL,\n"
     "  debits_posted BIGINT NOT NULL DEFAULT 0,\n"
     "  credits_posted BIGINT NOT NULL DEFAULT 0,\n"
     "  debits_pending BIGINT NOT NULL DEFAULT 0,\n"
     "  credits_pending BIGINT NOT NULL DEFAULT 0,\n"
     "  created_at BIGINT NOT NULL\n"
     ");\n"
     "CREATE TABLE IF NOT EXISTS ledger_transfers (\n"
     "  id {{ID}},\n"
     "  transfer_key VARCHAR(100) NOT NULL UNIQUE,\n"
     "  kind VARCHAR(16) NOT NULL,\n"
     "  debit_account BIGINT NOT NULL,\n"
     "  credit_account BIGINT NOT NULL,\n"
     "  amount BIGINT NOT NULL,\n"
     "  pending_key VARCHAR(100),\n"
     "  state VARCHAR(10) NOT NULL,\n"
     "  reference VARCHAR(100) NOT NULL,\n"
     "  memo VARCHAR(200) NOT NULL,\n"
     "  created_at BIGINT NOT NULL\n"
     ");\n"
     "CREATE INDEX IF NOT EXISTS ledger_transfers_debit ON ledger_transfers (debit_account, id);\n"
     "CREATE INDEX IF NOT EXISTS ledger_transfers_credit ON ledger_transfers (credit_account, "
     "id);\n"
     "CREATE INDEX IF NOT EXISTS ledger_transfers_reference ON ledger_transfers (reference);\n"},
};

constexpr std::array<std::pair<TransferKind, std::string_view>, 4> kKindNames = {{
    {TransferKind::posted, "posted"},
    {TransferKind::pending, "pending"},
    {TransferKind::post_pending, "post_pending"},
    {TransferKind::void_pending, "void_pending"},
}};

Error refused(std::string code, std::string message, std::string field = "") {
  return make_error(ErrorKind::conflict, std::move(code), std::move(message), std::move(field));
}

struct AccountRef {
  std::int64_t id = 0;
};

class Accounts {
 public:
  explicit Accounts(db::Session& tx) : tx_(tx) {}
  Result<AccountRef> by_code(const std::string& code) {
    if (auto it = by_code_.find(code); it != by_code_.end()) return it->second;
    auto row = CUNHUO_TRY(tx_.query_one("SELECT id FROM ledger_accounts WHERE code = ?", {code}));
    if (!row)
      return make_error(ErrorKind::not_found, "unknown_account", "no ledger account " + code,
                        "account");
    AccountRef ref{row->i64(0)};
    by_code_.emplace(code, ref);
    return ref;
  }

 private:
  db::Session& tx_;
  std::map<std::string, AccountRef> by_code_;
};

Status check_shape(const Transfer& t) {
  if (t.key.empty() || t.key.size() > kMaxKeyBytes)
    return make_error(ErrorKind::invalid, "invalid_key", "a transfer key is 1 to 100 bytes", "key");
  if (t.reference.size() > 100 || t.memo.size() > 200)
    return make_error(ErrorKind::invalid, "invalid_length",
                      "reference up to 100 bytes, memo up to 200", "memo");
  const bool completes =
      t.kind == TransferKind::post_pending || t.kind == TransferKind::void_pending;
  if (completes) {
    if (t.pending_key.empty())
      return make_error(ErrorKind::invalid, "missing_field", "name the pending transfer",
                        "pending_key");
    return {};
  }
  if (t.amount.fen() <= 0)
    return make_error(ErrorKind::invalid, "out_of_range", "a transfer moves a positive amount",
                      "amount");
  if (t.debit == t.credit)
    return make_error(ErrorKind::invalid, "same_account", "debit and credit are the same account",
                      "credit");
  return {};
}

// What a batch has added to all credits minus all debits, posted and pending: zero
// after every transfer, because each one adds the same amount to both sides.
struct Net {
  std::int64_t posted = 0, pending = 0;
  void add(std::string_view column, std::int64_t amount) {
    const std::int64_t signed_amount = column.starts_with("credits") ? amount : -amount;
    (column.ends_with("posted") ? posted : pending) += signed_amount;
  }
  bool zero() const { return posted == 0 && pending == 0; }
};

// Adds to one side of an account. A debit on an account that may not go negative
// only succeeds while what it holds, net of holds, covers it.
Status move(db::Session& tx, Net& net, std::int64_t account, std::string_view column,
            std::int64_t amount, bool checked) {
  net.add(column, amount);
  std::string sql = "UPDATE ledger_accounts SET " + std::string(column) + " = " +
                    std::string(column) + " + ? WHERE id = ?";
  if (checked)
    sql += " AND (may_go_negative = 1 OR credits_posted - debits_posted - debits_pending >= ?)";
  auto done = checked ? CUNHUO_TRY(tx.exec(sql, {amount, account, amount}))
                      : CUNHUO_TRY(tx.exec(sql, {amount, account}));
  if (done.affected_rows != 1) {
    spdlog::warn("ledger: debit of {} fen refused, account {} would go below zero", amount,
                 account);
    return refused(
        "exceeds_credits",
        "the account does not hold enough to be debited " + std::to_string(amount) + " fen",
        "amount");
  }
  return {};
}

struct Stored {
  TransferKind kind;
  std::int64_t debit = 0, credit = 0, amount = 0;
  std::string pending_key, state;
};

Result<std::optional<Stored>> stored(db::Session& tx, const std::string& key) {
  auto row =
      CUNHUO_TRY(tx.query_one("SELECT kind, debit_account, credit_account, amount, "
                              "COALESCE(pending_key, ''), state FROM ledger_transfers "
                              "WHERE transfer_key = ?",
                              {key}));
  if (!row) return std::optional<Stored>();
  auto kind = value_of(kKindNames, row->str(0));
  CUNHUO_ASSERT(kind);  // a stored transfer kind is always one this code wrote
  return std::optional<Stored>(
      Stored{*kind, row->i64(1), row->i64(2), row->i64(3), row->str(4), row->str(5)});
}

Status insert(db::Session& tx, const Transfer& t, std::int64_t debit, std::int64_t credit,
              std::int64_t amount, std::string_view state, std::int64_t now) {
  CUNHUO_TRY(
      tx.exec("INSERT INTO ledger_transfers (transfer_key, kind, debit_account, credit_account, "
              "amount, pending_key, state, "
              "reference, memo, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
              {t.key, name_of(kKindNames, t.kind), debit, credit, amount,
               t.pending_key.empty() ? db::Value() : db::Value(t.pending_key), state, t.reference,
               t.memo, now}));
  return {};
}

// Posts or voids a pending transfer: the hold on both sides is released, and for a
// post the amount moves for good.
Status complete(db::Session& tx, Net& net, const Transfer& t, std::int64_t now) {
  auto pending = CUNHUO_TRY(stored(tx, t.pending_key));
  if (!pending || pending->kind != TransferKind::pending)
    return make_error(ErrorKind::not_found, "unknown_pending",
                      "no pending transfer " + t.pending_key, "pending_key");
  if (pending->state != "pending")
    return refused("pending_done", "the pending transfer was already " + pending->state,
                   "pending_key");
  const bool post = t.kind == TransferKind::post_pending;
  auto changed = CUNHUO_TRY(
      tx.exec("UPDATE ledger_transfers SET state = ? WHERE transfer_key = ? AND state = 'pending'",
              {post ? "posted" : "voided", t.pending_key}));
  // Another transaction completed it after we read it (MariaDB reads a snapshot, updates
  // the latest row): only one of the two may move the money.
  if (changed.affected_rows != 1)
    return refused("pending_done", "the pending transfer was completed meanwhile", "pending_key");
  CUNHUO_CHECK(move(tx, net, pending->debit, "debits_pending", -pending->amount, false));
  CUNHUO_CHECK(move(tx, net, pending->credit, "credits_pending", -pending->amount, false));
  if (post) {
    CUNHUO_CHECK(move(tx, net, pending->debit, "debits_posted", pending->amount, false));
    CUNHUO_CHECK(move(tx, net, pending->credit, "credits_posted", pending->amount, false));
  }
  return insert(tx, t, pending->debit, pending->credit, pending->amount, "done", now);
}

Result<Outcome> apply(db::Session& tx, Accounts& accounts, Net& net, const Transfer& t,
                      std::int64_t now) {
  CUNHUO_CHECK(check_shape(t));
  const bool completes =
      t.kind == TransferKind::post_pending || t.kind == TransferKind::void_pending;
  if (auto before = CUNHUO_TRY(stored(tx, t.key))) {
    bool same = before->kind == t.kind && before->pending_key == t.pending_key;
    if (same && !completes) {
      const auto debit = CUNHUO_TRY(accounts.by_code(t.debit)),
                 credit = CUNHUO_TRY(accounts.by_code(t.credit));
      same = before->debit == debit.id && before->credit == credit.id &&
             before->amount == t.amount.fen();
    }
    if (!same)
      return make_error(ErrorKind::unprocessable, "transfer_key_reused",
                        "transfer " + t.key + " exists with other fields", "key");
    return Outcome::exists;
  }
  if (completes) {
    CUNHUO_CHECK(complete(tx, net, t, now));
    return Outcome::created;
  }
  const auto debit = CUNHUO_TRY(accounts.by_code(t.debit));
  const auto credit = CUNHUO_TRY(accounts.by_code(t.credit));
  const bool hold = t.kind == TransferKind::pending;
  CUNHUO_CHECK(
      move(tx, net, debit.id, hold ? "debits_pending" : "debits_posted", t.amount.fen(), true));
  CUNHUO_CHECK(
      move(tx, net, credit.id, hold ? "credits_pending" : "credits_posted", t.amount.fen(), false));
  CUNHUO_CHECK(
      insert(tx, t, debit.id, credit.id, t.amount.fen(), hold ? "pending" : "posted", now));
  return Outcome::created;
}

}  // namespace

std::span<const db::Migration> ledger_migrations() { return kMigrations; }

Status open_accounts(db::Session& tx, std::span<const AccountSpec> specs, const Clock& clock) {
  for (const auto& a : specs) {
    if (a.code.empty() || a.code.size() > 100)
      return make_error(ErrorKind::invalid, "invalid_account", "an account code is 1 to 100 bytes",
                        "code");
    CUNHUO_TRY(
        tx.exec(std::string(tx.insert_ignore()) +
                    " INTO ledger_accounts (code, may_go_negative, created_at) VALUES (?, ?, ?)",
                {a.code, a.may_go_negative ? 1 : 0, clock.now_ms()}));
  }
  return {};
}

Result<std::vector<Outcome>> transfer(db::Session& tx, std::span<const Transfer> batch,
                                      const Clock& clock) {
  if (batch.size() > kMaxTransfersPerBatch)
    return make_error(ErrorKind::too_large, "batch_too_large",
                      "at most 8192 transfers in one batch", "transfers");
  Accounts accounts(tx);
  std::vector<Outcome> out;
  out.reserve(batch.size());
  const std::int64_t now = clock.now_ms();
  Net net;
  for (const auto& t : batch) {
    out.push_back(CUNHUO_TRY(apply(tx, accounts, net, t, now)));
    CUNHUO_ASSERT(net.zero());  // every transfer debits and credits the same amount
  }
  return out;
}

Result<std::optional<AccountBalance>> find_account(db::Session& s, std::string_view code) {
  auto row =
      CUNHUO_TRY(s.query_one("SELECT code, debits_posted, credits_posted, debits_pending, "
                             "credits_pending, may_go_negative FROM ledger_accounts "
                             "WHERE code = ?",
                             {code}));
  if (!row) return std::optional<AccountBalance>();
  AccountBalance b{row->str(0), row->i64(1), row->i64(2),
                   row->i64(3), row->i64(4), row->i64(5) != 0};
  CUNHUO_ASSERT(b.may_go_negative || b.available() >= 0);  // the conditional debit guarantees it
  return std::optional<AccountBalance>(b);
}

Result<std::vector<Posting>> postings(db::Session& s, std::string_view code, int limit) {
  std::vector<Posting> out;
  for (const auto& r : CUNHUO_TRY(
           s.query("SELECT t.transfer_key, CASE WHEN t.credit_account = a.id THEN t.amount ELSE "
                   "-t.amount END, "
                   "c.code, t.reference, t.memo, t.created_at FROM ledger_accounts a "
                   "JOIN ledger_transfers t ON (t.credit_account = a.id OR t.debit_account = a.id) "
                   "JOIN ledger_accounts c ON c.id = CASE WHEN t.credit_account = a.id THEN "
                   "t.debit_account ELSE t.credit_account END "
                   "WHERE a.code = ? AND t.state = 'posted' ORDER BY t.id DESC LIMIT ?",
                   {code, limit})))
    out.push_back(Posting{r.str(0), r.str(2), r.str(3), r.str(4), r.i64(1), r.i64(5)});
  return out;
}

Status check_ledger(db::Session& s) {
  auto sums =
      CUNHUO_TRY(s.query_one("SELECT COALESCE(SUM(credits_posted - debits_posted), 0), "
                             "COALESCE(SUM(credits_pending - debits_pending), 0), "
                             "COUNT(*) FROM ledger_accounts"));
  if (sums->i64(0) != 0 || sums->i64(1) != 0)
    return make_error(ErrorKind::internal, std::string(kLedgerUnbalanced),
                      "posted balances sum to " + std::to_string(sums->i64(0)) + ", pending to " +
                          std::to_string(sums->i64(1)));
  // Each account against its own transfers: posted ones, pending ones still held, and
  // pending ones posted later (whose amount moved when the post record was written).
  auto off = CUNHUO_TRY(s.query_one(
      "SELECT a.code FROM ledger_accounts a LEFT JOIN ("
      " SELECT account, SUM(dp) dp, SUM(cp) cp, SUM(dh) dh, SUM(ch) ch FROM ("
      "  SELECT debit_account account, CASE WHEN state = 'posted' THEN amount ELSE 0 END dp, 0 cp,"
      "   CASE WHEN state = 'pending' THEN amount ELSE 0 END dh, 0 ch FROM ledger_transfers WHERE "
      "kind IN ('posted', 'pending')"
      "  UNION ALL"
      "  SELECT credit_account, 0, CASE WHEN state = 'posted' THEN amount ELSE 0 END, 0,"
      "   CASE WHEN state = 'pending' THEN amount ELSE 0 END FROM ledger_transfers WHERE kind IN "
      "('posted', 'pending')"
      " ) m GROUP BY account) t ON t.account = a.id "
      "WHERE a.debits_posted <> COALESCE(t.dp, 0) OR a.credits_posted <> COALESCE(t.cp, 0) "
      "OR a.debits_pending <> COALESCE(t.dh, 0) OR a.credits_pending <> COALESCE(t.ch, 0) LIMIT "
      "1"));
  if (off)
    return make_error(ErrorKind::internal, std::string(kLedgerMismatch),
                      "account " + off->str(0) + " does not equal its transfers");
  return {};
}

}  // namespace cunhuo::payments
