// Payments under attack and under races, against both stores: two decisions at once on
// a payout batch and on a refund claim, a late success for a checkout already paid, the
// sandbox's money kept out of payouts, and payout accounts that try to rewrite the bank
// file.
#include <atomic>
#include <latch>
#include <thread>

#include "core/outbox/outbox.hpp"
#include "tests/support/service_flows.hpp"
#include "payments/accounts.hpp"
#include "payments/intents.hpp"
#include "payments/ledger.hpp"
#include "payments/payouts.hpp"
#include "payments/refunds.hpp"
#include "payments/settlement.hpp"
#include "storefront/payments_routes.hpp"
#include "tests/support/support.hpp"

using namespace cunhuo;
using namespace cunhuo::payments;
using cunhuo::test::StoreKind;
using cunhuo::test::TestStore;

namespace {

constexpr std::int64_t kNow = 1'790'000'000'000;
const std::string kAccountNumber = "6228480402564890018";

std::int64_t balance_of(db::Database& db, const std::string& code) {
  auto b = db.read([&](db::Session& s) { return find_account(s, code); });
  REQUIRE(b.ok());
  return b->has_value() ? (*b)->balance() : 0;
}

std::int64_t count(db::Database& db, const std::string& sql) {
  auto r = db.read([&](db::Session& s) { return s.query_one(sql); });
  REQUIRE(r.ok());
  return (*r)->i64(0);
}

void ledger_is_sound(db::Database& db) {
  auto st = db.read([](db::Session& s) { return check_ledger(s); });
  INFO((st.ok() ? std::string() : st.error().message));
  CHECK(st.ok());
}

Payable payable(std::int64_t checkout, std::int64_t order, std::int64_t household) {
  PayableLine melon{11,           "民勤蜜瓜", 2,     Money::fen(10000),
                    std::nullopt, "",         false, {{household, 10000}}};
  return Payable{
      checkout, 42, Money::fen(10000), {PayableOrder{order, 5, false, Money::fen(10000), {melon}}}};
}

std::string notice_body(std::int64_t intent, const char* type, std::int64_t fen) {
  return R"({"id":"e","event_type":")" + std::string(type) + R"(","out_trade_no":")" +
         std::to_string(intent) + R"(","transaction_id":"T)" + std::to_string(intent) +
         R"(","amount":{"total":)" + std::to_string(fen) + R"(,"currency":"CNY"}})";
}

Result<NoticeOutcome> notify(db::Database& db, const Clock& clock, std::int64_t intent,
                             const char* type, std::int64_t fen, const std::string& nonce,
                             const std::string& provider = "sim") {
  return db.write([&](db::Session& tx) {
    return apply_notification(tx, Notification{"", "", nonce, "", notice_body(intent, type, fen)},
                              provider, clock);
  });
}

// Opens an intent with `provider`, the provider says it succeeded, the order settles.
void pay_and_settle(db::Database& db, const Clock& clock, const Payable& p,
                    const std::string& provider) {
  auto intent = db.write([&](db::Session& tx) { return open_intent(tx, p, provider, clock); });
  REQUIRE(intent.ok());
  auto paid = notify(db, clock, intent->id, "TRANSACTION.SUCCESS", p.total.fen(),
                     "n" + std::to_string(intent->id), provider);
  REQUIRE(paid.ok());
  REQUIRE(*paid == NoticeOutcome::captured);
  for (const auto& o : p.orders)
    REQUIRE(db.write([&](db::Session& tx) {
                return complete_order(tx, o.order_id, FeeRules{}, clock);
              }).ok());
}

PayoutAccount household_account(std::string bank, std::string number, std::string holder) {
  return PayoutAccount{.household_id = 1,
                       .bank = std::move(bank),
                       .account_number = std::move(number),
                       .holder = std::move(holder)};
}

Status set_account(db::Database& db, const Clock& clock, PayoutAccount a, std::int64_t actor = 7) {
  return db.write([&](db::Session& tx) { return set_payout_account(tx, a, actor, clock); });
}

// Household 1 holds 1000 fen and has a payout account; a batch holds it.
std::int64_t pending_batch(db::Database& db, const Clock& clock) {
  const AccountSpec specs[] = {{"provider:wechat", true}, {accounts::household(1), false}};
  REQUIRE(db.write([&](db::Session& tx) { return open_accounts(tx, specs, clock); }).ok());
  const Transfer in{.key = "in",
                    .debit = "provider:wechat",
                    .credit = accounts::household(1),
                    .amount = Money::fen(1000),
                    .kind = TransferKind::posted,
                    .pending_key = "",
                    .reference = "test",
                    .memo = ""};
  REQUIRE(db.write([&](db::Session& tx) { return transfer(tx, std::span(&in, 1), clock); }).ok());
  REQUIRE(
      set_account(db, clock, household_account("甘肃农村信用社", kAccountNumber, "王建国")).ok());
  auto batch = db.write([&](db::Session& tx) {
    const std::int64_t households[] = {1};
    return create_payout_batch(tx, households, true, clock);
  });
  REQUIRE(batch.ok());
  REQUIRE(batch->total.fen() == 1000);
  return batch->id;
}

// Runs `decide` on two threads at once and returns what each got. On MariaDB both
// transactions first read (taking their snapshots) and only then decide, so both see the
// undecided state: the race the conditional updates must settle. SQLite has one writer at
// a time, so there the second only ever sees the first one's decision.
template <class Read, class Decide>
std::vector<Status> two_at_once(db::Database& db, StoreKind kind, Read read, Decide decide) {
  std::latch start(2), both_read(2);
  std::vector<Status> out(2);
  auto run = [&](std::size_t i) {
    std::atomic<bool> arrived = false;  // a retried body must not wait a second time
    start.arrive_and_wait();
    out[i] = db.write([&](db::Session& tx) -> Status {
      CUNHUO_CHECK(read(tx));
      if (kind == StoreKind::mariadb && !arrived.exchange(true)) both_read.arrive_and_wait();
      return decide(tx);
    });
  };
  std::thread a(run, 0), b(run, 1);
  a.join();
  b.join();
  return out;
}

int winners(const std::vector<Status>& outcomes) {
  int won = 0;
  for (const auto& st : outcomes) {
    if (st.ok())
      ++won;
    else
      CHECK(st.error().kind == ErrorKind::conflict);
  }
  return won;
}

}  // namespace

STORE_TEST(
    "two confirmations of one payout batch at once: exactly one wins and the money moves once",
    "[store][payouts][race]") {
  TestStore store(store_kind);
  store.migrate();
  ManualClock clock(kNow);
  const std::int64_t batch = pending_batch(store.db(), clock);
  auto outcomes = two_at_once(
      store.db(), store_kind,
      [&](db::Session& tx) -> Status {
        CUNHUO_TRY(find_payout_batch(tx, batch));
        return {};
      },
      [&](db::Session& tx) -> Status {
        CUNHUO_TRY(confirm_payout_batch(tx, batch, {}, clock));
        return {};
      });
  CHECK(winners(outcomes) == 1);
  CHECK(balance_of(store.db(), accounts::household(1)) == 0);
  CHECK(balance_of(store.db(), accounts::kPayoutClearing) == 1000);
  CHECK(count(store.db(),
              "SELECT COUNT(*) FROM ledger_transfers WHERE transfer_key LIKE 'payout:%:post'") ==
        1);
  ledger_is_sound(store.db());
}

STORE_TEST("two decisions on one refund claim at once: exactly one wins and the money moves once",
           "[store][refunds][race]") {
  TestStore store(store_kind);
  store.migrate();
  ManualClock clock(kNow);
  const Payable p = payable(1, 100, 1);
  auto intent = store.db().write([&](db::Session& tx) { return open_intent(tx, p, "sim", clock); });
  REQUIRE(intent.ok());
  REQUIRE(notify(store.db(), clock, intent->id, "TRANSACTION.SUCCESS", 10000, "n1").ok());
  auto claim = store.db().write([&](db::Session& tx) {
    return claim_refund(tx, 100, 42, Money::fen(4000), "bruised", clock);
  });
  REQUIRE(claim.ok());
  auto outcomes = two_at_once(
      store.db(), store_kind,
      [&](db::Session& tx) -> Status {
        CUNHUO_TRY(find_claim(tx, claim->id));
        return {};
      },
      [&](db::Session& tx) -> Status {
        CUNHUO_TRY(decide_claim(tx, claim->id, true, LossBearer::shop, FeeRules{}, clock));
        return {};
      });
  CHECK(winners(outcomes) == 1);
  CHECK(count(store.db(), "SELECT COUNT(*) FROM provider_refunds") == 1);
  CHECK(count(store.db(), "SELECT refunded_fen FROM payment_orders WHERE order_id = 100") == 4000);
  CHECK(balance_of(store.db(), accounts::escrow(100)) == 6000);
  CHECK(balance_of(store.db(), "provider:sim") == -6000);
  ledger_is_sound(store.db());
}

STORE_TEST(
    "a late success for a failed intent, after another paid the checkout, is sent back through the "
    "outbox",
    "[store][payments]") {
  TestStore store(store_kind);
  store.migrate();
  ManualClock clock(kNow);
  const Payable p = payable(1, 100, 1);
  auto first = store.db().write([&](db::Session& tx) { return open_intent(tx, p, "sim", clock); });
  REQUIRE(first.ok());
  REQUIRE(*notify(store.db(), clock, first->id, "TRANSACTION.FAIL", 10000, "a") ==
          NoticeOutcome::failed);
  auto second = store.db().write([&](db::Session& tx) { return open_intent(tx, p, "sim", clock); });
  REQUIRE(second.ok());
  REQUIRE(second->id != first->id);
  REQUIRE(*notify(store.db(), clock, second->id, "TRANSACTION.SUCCESS", 10000, "b") ==
          NoticeOutcome::captured);
  // The first payment went through after all: the checkout is paid once, not twice.
  auto late = notify(store.db(), clock, first->id, "TRANSACTION.SUCCESS", 10000, "c");
  REQUIRE(late.ok());
  CHECK(*late == NoticeOutcome::returned);
  CHECK(balance_of(store.db(), accounts::escrow(100)) == 10000);
  CHECK(*notify(store.db(), clock, first->id, "TRANSACTION.SUCCESS", 10000, "d") ==
        NoticeOutcome::duplicate);
  CHECK(count(store.db(), "SELECT COUNT(*) FROM provider_refunds") ==
        0);  // not yet: the outbox sends it back

  outbox::Dispatcher dispatcher(store.db(), clock);
  test::ServiceFlows flows(store.db(), dispatcher, clock);
  REQUIRE(dispatcher.drain().ok());
  REQUIRE(dispatcher.drain().ok());  // a second pass finds nothing more to do
  CHECK(count(store.db(), "SELECT COUNT(*) FROM provider_refunds WHERE intent_id = " +
                              std::to_string(first->id) +
                              " AND amount_fen = 10000 AND status = 'requested'") == 1);
  CHECK(count(store.db(), "SELECT COUNT(*) FROM provider_refunds") == 1);
  CHECK(balance_of(store.db(), accounts::kReturns) == 0);
  CHECK(balance_of(store.db(), "provider:sim") == -10000);
  CHECK(balance_of(store.db(), accounts::escrow(100)) == 10000);
  ledger_is_sound(store.db());
}

STORE_TEST("money the sandbox captured stays out of payout batches while the sandbox is off",
           "[store][payouts]") {
  TestStore store(store_kind);
  store.migrate();
  ManualClock clock(kNow);
  pay_and_settle(store.db(), clock, payable(1, 100, 1), "sim");
  REQUIRE(
      set_account(store.db(), clock, household_account("甘肃农村信用社", kAccountNumber, "王建国"))
          .ok());
  const std::int64_t households[] = {1};
  auto batch = [&](bool sandbox_on) {
    auto b = store.db().write(
        [&](db::Session& tx) { return create_payout_batch(tx, households, sandbox_on, clock); });
    REQUIRE(b.ok());
    return *b;
  };
  const std::int64_t from_sandbox = balance_of(store.db(), accounts::household(1));
  REQUIRE(from_sandbox > 0);
  CHECK(batch(false).payouts.empty());
  pay_and_settle(store.db(), clock, payable(2, 200, 1), "wechat");
  const std::int64_t from_wechat = balance_of(store.db(), accounts::household(1)) - from_sandbox;
  REQUIRE(from_wechat > 0);
  auto real_only = batch(false);
  REQUIRE(real_only.payouts.size() == 1);
  CHECK(real_only.total.fen() == from_wechat);
  CHECK(bank_file_csv(real_only, false).ok());
  // With the sandbox on (a demonstration), its money is paid out too, and only once; that
  // batch has no bank file once the sandbox is off.
  const auto demo = batch(true);
  CHECK(demo.total.fen() == from_sandbox);
  CHECK(bank_file_csv(demo, true).ok());
  auto no_file = bank_file_csv(demo, false);
  REQUIRE_FALSE(no_file.ok());
  CHECK(no_file.error().code == "sandbox_money");
  CHECK(batch(true).payouts.empty());
  CHECK(batch(false).payouts.empty());
  ledger_is_sound(store.db());
}

STORE_TEST(
    "payout account names with quotes or control characters are refused, in order of precedence",
    "[store][payouts][bad-input]") {
  TestStore store(store_kind);
  store.migrate();
  ManualClock clock(kNow);
  struct Case {
    PayoutAccount account;
    const char* code;
    const char* field;
  };
  const Case cases[] = {
      {household_account("", kAccountNumber, "王建国"), "invalid_length", "bank"},
      {household_account("农信\"社", "12ab", "王\"建国"), "invalid_characters", "bank"},
      {household_account("农信社\r", kAccountNumber, "王建国"), "invalid_characters", "bank"},
      {household_account("农信社", "12ab", "王\"建国"), "invalid_account_number", "account_number"},
      {household_account("农信社", kAccountNumber, "王\"\n1,x,6228000000000000000,\"y"),
       "invalid_characters", "holder"},
      {household_account("农信社", kAccountNumber, "王'建国"), "invalid_characters", "holder"},
      {household_account("农信社", kAccountNumber, "\t=1+1"), "invalid_characters", "holder"},
      {household_account("农信社", kAccountNumber, std::string("王\0国", 4)), "invalid_characters",
       "holder"},
  };
  for (const auto& c : cases) {
    auto st = set_account(store.db(), clock, c.account);
    INFO(c.account.bank << " / " << c.account.account_number << " / " << c.account.holder);
    REQUIRE_FALSE(st.ok());
    CHECK(st.error().kind == ErrorKind::invalid);
    CHECK(st.error().code == c.code);
    CHECK(st.error().field == c.field);
  }
  CHECK(count(store.db(), "SELECT COUNT(*) FROM payout_accounts") == 0);
  CHECK(count(store.db(), "SELECT COUNT(*) FROM payout_account_audit") == 0);
}

namespace {

// The records of a CSV text, honouring quoted fields (RFC 4180).
std::vector<std::vector<std::string>> csv_records(const std::string& text) {
  std::vector<std::vector<std::string>> out(1, std::vector<std::string>(1));
  bool quoted = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (quoted && c == '"' && i + 1 < text.size() && text[i + 1] == '"')
      out.back().back() += text[++i];
    else if (c == '"')
      quoted = !quoted;
    else if (!quoted && c == ',')
      out.back().emplace_back();
    else if (!quoted && c == '\n')
      out.emplace_back(1);
    else
      out.back().back() += c;
  }
  if (out.back().size() == 1 && out.back().front().empty()) out.pop_back();
  return out;
}

}  // namespace

STORE_TEST("the bank file has exactly one row per payout whatever a stored name holds",
           "[store][payouts][bad-input]") {
  TestStore store(store_kind);
  store.migrate();
  ManualClock clock(kNow);
  const std::int64_t id = pending_batch(store.db(), clock);
  // Names stored before they were checked: a quote and a newline that add a row paying
  // elsewhere, and a formula.
  const std::string holder = "王\"\n1,农信社,6228000000000000000,\"攻击者\",99999.00\n\"";
  REQUIRE(store.db()
              .write([&](db::Session& tx) -> Status {
                CUNHUO_TRY(tx.exec("UPDATE payouts SET holder = ?, bank = ? WHERE batch_id = ?",
                                   {holder, "=HYPERLINK(\"x\")", id}));
                return {};
              })
              .ok());
  auto batch = store.db().read([&](db::Session& s) { return find_payout_batch(s, id); });
  REQUIRE(batch.ok());
  REQUIRE(batch->has_value());
  const auto records = csv_records(*bank_file_csv(**batch, true));
  REQUIRE(records.size() == 1 + (*batch)->payouts.size());
  for (std::size_t r = 1; r < records.size(); ++r) {
    REQUIRE(records[r].size() == 5);
    CHECK(records[r][0] == "1");
    CHECK(records[r][1].front() == '\'');  // the formula is text
    CHECK(records[r][2] == kAccountNumber);
    CHECK(records[r][3].find('\n') == std::string::npos);
    CHECK(records[r][4] == "10.00");
  }
}

STORE_TEST("a payout account change is audited: who, when, the old and the new account masked",
           "[store][payouts]") {
  TestStore store(store_kind);
  store.migrate();
  ManualClock clock(kNow);
  REQUIRE(set_account(store.db(), clock,
                      household_account("甘肃农村信用社", kAccountNumber, "王建国"), 7)
              .ok());
  clock.advance(std::chrono::minutes(5));
  REQUIRE(set_account(store.db(), clock,
                      household_account("中国邮政储蓄银行", "6210981234567890123", "王建国"), 8)
              .ok());
  auto changes = store.db().read([&](db::Session& s) { return payout_account_changes(s, 1); });
  REQUIRE(changes.ok());
  REQUIRE(changes->size() == 2);
  const auto& first = changes->at(0);
  const auto& second = changes->at(1);
  CHECK(first.actor_id == 7);
  CHECK(first.at_ms == kNow);
  CHECK(first.old_value.empty());
  CHECK(second.actor_id == 8);
  CHECK(second.at_ms == kNow + 5 * 60 * 1000);
  CHECK(second.old_value == first.new_value);
  CHECK(second.new_value.find("中国邮政储蓄银行") != std::string::npos);
  for (const auto& c : *changes) {
    CHECK(c.new_value.find(kAccountNumber) == std::string::npos);
    CHECK(c.new_value.find("6210981234567890123") == std::string::npos);
    CHECK(c.new_value.find("建国") == std::string::npos);
  }
}
