// The ledger, settlement and refunds against both stores.
#include "payments/accounts.hpp"
#include "payments/intents.hpp"
#include "payments/ledger.hpp"
#include "payments/refunds.hpp"
#include "payments/settlement.hpp"
#include "tests/support/support.hpp"

using namespace cunhuo;
using namespace cunhuo::payments;
using cunhuo::test::TestStore;

namespace {

Status open(db::Database& db, const Clock& clock, std::vector<AccountSpec> specs) {
  return db.write([&](db::Session& tx) { return open_accounts(tx, specs, clock); });
}

Result<std::vector<Outcome>> move(db::Database& db, const Clock& clock,
                                  std::vector<Transfer> batch) {
  return db.write([&](db::Session& tx) { return transfer(tx, batch, clock); });
}

AccountBalance balance(db::Database& db, const std::string& code) {
  auto b = db.read([&](db::Session& s) { return find_account(s, code); });
  REQUIRE(b.ok());
  REQUIRE(b->has_value());
  return **b;
}

Transfer posted(std::string key, std::string from, std::string to, std::int64_t fen) {
  return Transfer{std::move(key),
                  std::move(from),
                  std::move(to),
                  Money::fen(fen),
                  TransferKind::posted,
                  "",
                  "test",
                  ""};
}

void ledger_is_sound(db::Database& db) {
  auto st = db.read([](db::Session& s) { return check_ledger(s); });
  INFO((st.ok() ? std::string() : st.error().message));
  CHECK(st.ok());
}

}  // namespace

STORE_TEST("a transfer moves money once; a retry with its key finds it", "[store][ledger]") {
  TestStore store(store_kind);
  store.migrate();
  ManualClock clock(1'000'000);
  REQUIRE(open(store.db(), clock, {{"provider:sim", true}, {"escrow:order:1", false}}).ok());
  auto first = move(store.db(), clock, {posted("t1", "provider:sim", "escrow:order:1", 3980)});
  REQUIRE(first.ok());
  CHECK(first->front() == Outcome::created);
  auto again = move(store.db(), clock, {posted("t1", "provider:sim", "escrow:order:1", 3980)});
  REQUIRE(again.ok());
  CHECK(again->front() == Outcome::exists);
  CHECK(balance(store.db(), "escrow:order:1").balance() == 3980);
  CHECK(balance(store.db(), "provider:sim").balance() == -3980);
  ledger_is_sound(store.db());
}

STORE_TEST("a transfer key reused with other fields is refused", "[store][ledger]") {
  TestStore store(store_kind);
  store.migrate();
  ManualClock clock(1'000'000);
  REQUIRE(open(store.db(), clock, {{"provider:sim", true}, {"escrow:order:1", false}}).ok());
  REQUIRE(move(store.db(), clock, {posted("t1", "provider:sim", "escrow:order:1", 100)}).ok());
  auto other = move(store.db(), clock, {posted("t1", "provider:sim", "escrow:order:1", 101)});
  REQUIRE_FALSE(other.ok());
  CHECK(other.error().code == "transfer_key_reused");
  CHECK(balance(store.db(), "escrow:order:1").balance() == 100);
}

STORE_TEST("an account that may not go negative refuses the debit and the batch writes nothing",
           "[store][ledger]") {
  TestStore store(store_kind);
  store.migrate();
  ManualClock clock(1'000'000);
  REQUIRE(open(store.db(), clock,
               {{"provider:sim", true}, {"escrow:order:1", false}, {"household:1", false}})
              .ok());
  REQUIRE(move(store.db(), clock, {posted("in", "provider:sim", "escrow:order:1", 500)}).ok());
  auto over = move(store.db(), clock,
                   {posted("a", "escrow:order:1", "household:1", 300),
                    posted("b", "escrow:order:1", "household:1", 300)});
  REQUIRE_FALSE(over.ok());
  CHECK(over.error().code == "exceeds_credits");
  CHECK(balance(store.db(), "escrow:order:1").balance() == 500);
  CHECK(balance(store.db(), "household:1").balance() == 0);
  ledger_is_sound(store.db());
}

STORE_TEST("bad transfers are refused: zero, negative, same account, unknown account",
           "[store][ledger]") {
  TestStore store(store_kind);
  store.migrate();
  ManualClock clock(1'000'000);
  REQUIRE(open(store.db(), clock, {{"provider:sim", true}, {"escrow:order:1", false}}).ok());
  CHECK(move(store.db(), clock, {posted("z", "provider:sim", "escrow:order:1", 0)}).error().code ==
        "out_of_range");
  CHECK(move(store.db(), clock, {posted("n", "provider:sim", "escrow:order:1", -5)}).error().code ==
        "out_of_range");
  CHECK(move(store.db(), clock, {posted("s", "provider:sim", "provider:sim", 5)}).error().code ==
        "same_account");
  CHECK(move(store.db(), clock, {posted("u", "provider:sim", "escrow:order:9", 5)}).error().code ==
        "unknown_account");
  CHECK(move(store.db(), clock, {posted("", "provider:sim", "escrow:order:1", 5)}).error().code ==
        "invalid_key");
  ledger_is_sound(store.db());
}

STORE_TEST("a pending transfer holds money until it is posted or voided", "[store][ledger]") {
  TestStore store(store_kind);
  store.migrate();
  ManualClock clock(1'000'000);
  REQUIRE(open(store.db(), clock, {{"provider:sim", true}, {"escrow:order:1", false}}).ok());
  REQUIRE(move(store.db(), clock, {posted("in", "provider:sim", "escrow:order:1", 1000)}).ok());
  Transfer hold{
      "hold", "escrow:order:1", "provider:sim", Money::fen(600), TransferKind::pending, "", "test",
      ""};
  REQUIRE(move(store.db(), clock, {hold}).ok());
  CHECK(balance(store.db(), "escrow:order:1").available() == 400);
  CHECK(balance(store.db(), "escrow:order:1").balance() == 1000);
  // The held money cannot be spent twice.
  Transfer second{
      "hold2", "escrow:order:1", "provider:sim", Money::fen(500), TransferKind::pending, "", "test",
      ""};
  CHECK(move(store.db(), clock, {second}).error().code == "exceeds_credits");
  Transfer voided{"void", "", "", Money(), TransferKind::void_pending, "hold", "test", ""};
  REQUIRE(move(store.db(), clock, {voided}).ok());
  CHECK(balance(store.db(), "escrow:order:1").available() == 1000);
  Transfer again{"post", "", "", Money(), TransferKind::post_pending, "hold", "test", ""};
  CHECK(move(store.db(), clock, {again}).error().code == "pending_done");
  REQUIRE(move(store.db(), clock, {second}).ok());
  Transfer post{"post2", "", "", Money(), TransferKind::post_pending, "hold2", "test", ""};
  REQUIRE(move(store.db(), clock, {post}).ok());
  CHECK(balance(store.db(), "escrow:order:1").balance() == 500);
  CHECK(balance(store.db(), "escrow:order:1").debits_pending == 0);
  ledger_is_sound(store.db());
}

namespace {

// A ledger with money in escrow, then one statement run behind its back.
Error tampered_ledger_error(test::StoreKind kind, const char* tamper) {
  TestStore store(kind);
  store.migrate();
  ManualClock clock(1'000'000);
  REQUIRE(open(store.db(), clock, {{"provider:sim", true}, {"escrow:order:1", false}}).ok());
  REQUIRE(move(store.db(), clock, {posted("in", "provider:sim", "escrow:order:1", 1000)}).ok());
  ledger_is_sound(store.db());
  REQUIRE(store.db()
              .write([&](db::Session& tx) -> Status {
                CUNHUO_TRY(tx.exec(tamper));
                return {};
              })
              .ok());
  auto st = store.db().read([](db::Session& s) { return check_ledger(s); });
  REQUIRE_FALSE(st.ok());
  return st.error();
}

}  // namespace

STORE_TEST("the start-up check finds balances that do not sum to zero", "[store][ledger]") {
  auto error =
      tampered_ledger_error(store_kind,
                            "UPDATE ledger_accounts SET credits_posted = credits_posted + 1 "
                            "WHERE code = 'escrow:order:1'");
  CHECK(error.code == "ledger_unbalanced");
}

STORE_TEST("the start-up check finds an account that does not equal its transfers",
           "[store][ledger]") {
  // Credits and debits of one account both grow by a fen: its balance, and so the sum
  // of all balances, stay as they were; only its transfers tell.
  auto error =
      tampered_ledger_error(store_kind,
                            "UPDATE ledger_accounts SET credits_posted = credits_posted + 1, "
                            "debits_posted = debits_posted + 1 WHERE code = 'escrow:order:1'");
  CHECK(error.code == "ledger_mismatch");
  CHECK(error.message.find("escrow:order:1") != std::string::npos);
}

namespace {

// An order of two lines: one by two households of a cooperative (60/40), one by one
// household in a poverty-alleviation campaign.
Payable sample_payable(std::int64_t checkout, std::int64_t order) {
  PayableLine melon{11,           "民勤蜜瓜", 3,     Money::fen(10001),
                    std::nullopt, "",         false, {{1, 6000}, {2, 4000}}};
  PayableLine lamb{12, "羊肉", 1, Money::fen(5000), 7, "consumption", true, {{3, 10000}}};
  PayableOrder o{order, 5, true, Money::fen(15001), {melon, lamb}};
  return Payable{checkout, 42, Money::fen(15001), {o}};
}

// Pays the payable through a verified-notification path.
std::int64_t pay(db::Database& db, const Clock& clock, const Payable& p) {
  auto intent = db.write([&](db::Session& tx) { return open_intent(tx, p, "sim", clock); });
  REQUIRE(intent.ok());
  const std::string body = R"({"id":"e","event_type":"TRANSACTION.SUCCESS","out_trade_no":")" +
                           std::to_string(intent->id) +
                           R"(","transaction_id":"SIM1","amount":{"total":)" +
                           std::to_string(p.total.fen()) + R"(,"currency":"CNY"}})";
  auto done = db.write([&](db::Session& tx) {
    return apply_notification(tx, Notification{"", "", "n" + std::to_string(intent->id), "", body},
                              "sim", clock);
  });
  REQUIRE(done.ok());
  CHECK(*done == NoticeOutcome::captured);
  return intent->id;
}

}  // namespace

STORE_TEST("settlement splits an order among producers, commission and fees to the fen",
           "[store][settlement]") {
  TestStore store(store_kind);
  store.migrate();
  ManualClock clock(1'790'000'000'000);
  pay(store.db(), clock, sample_payable(1, 100));
  CHECK(balance(store.db(), accounts::escrow(100)).balance() == 15001);
  FeeRules rules;  // 3% platform, 0 in alleviation campaigns, 5% cooperative, 6 yuan logistics
  auto settled =
      store.db().write([&](db::Session& tx) { return complete_order(tx, 100, rules, clock); });
  REQUIRE(settled.ok());
  CHECK(*settled == SettleOutcome::settled);
  const auto h1 = balance(store.db(), accounts::household(1)).balance(),
             h2 = balance(store.db(), accounts::household(2)).balance(),
             h3 = balance(store.db(), accounts::household(3)).balance(),
             shop = balance(store.db(), accounts::shop(5)).balance(),
             logistics = balance(store.db(), accounts::kLogisticsFees).balance(),
             platform = balance(store.db(), accounts::kPlatformFees).balance();
  CHECK(h1 + h2 + h3 + shop + logistics + platform == 15001);
  CHECK(balance(store.db(), accounts::escrow(100)).balance() == 0);
  CHECK(logistics == 600);
  CHECK(platform == 300 * 10001 / 10000 - 0);  // only the melon line pays the platform
  // The lamb line (gross 5000, its share of logistics 200) pays 5% commission, no platform fee.
  CHECK(h3 == 5000 - 200 - 250);
  // Households 1 and 2 split the melon's net 60/40 with the fen remainder deterministic.
  CHECK(h1 + h2 == 10001 - 400 - 300 - 500);
  CHECK(h1 == (h1 + h2) * 6 / 10 + ((h1 + h2) * 6 % 10 >= 5 ? 1 : 0));
  auto again =
      store.db().write([&](db::Session& tx) { return settle_order(tx, 100, rules, clock); });
  REQUIRE(again.ok());
  CHECK(*again == SettleOutcome::already);
  auto lines =
      store.db().read([&](db::Session& s) { return settlement_lines(s, 1, 0, INT64_MAX); });
  REQUIRE(lines.ok());
  REQUIRE(lines->size() == 1);
  CHECK(lines->front().net.fen() == h1);
  CHECK(lines->front().gross.fen() - lines->front().fees.fen() == h1);
  ledger_is_sound(store.db());
}

STORE_TEST("a refund claim holds the escrow; approval refunds, rejection releases it to settle",
           "[store][refunds]") {
  TestStore store(store_kind);
  store.migrate();
  ManualClock clock(1'790'000'000'000);
  pay(store.db(), clock, sample_payable(1, 100));
  FeeRules rules;
  auto over = store.db().write([&](db::Session& tx) {
    return claim_refund(tx, 100, 42, Money::fen(15002), "bruised", clock);
  });
  CHECK(over.error().code == "exceeds_paid");
  auto stranger = store.db().write([&](db::Session& tx) {
    return claim_refund(tx, 100, 43, Money::fen(10), "not mine", clock);
  });
  CHECK(stranger.error().kind == ErrorKind::not_found);
  auto claim = store.db().write([&](db::Session& tx) {
    return claim_refund(tx, 100, 42, Money::fen(1001), "two melons bruised", clock);
  });
  REQUIRE(claim.ok());
  // The buyer confirms delivery while the claim is open: settlement waits for it.
  auto waiting =
      store.db().write([&](db::Session& tx) { return complete_order(tx, 100, rules, clock); });
  REQUIRE(waiting.ok());
  CHECK(*waiting == SettleOutcome::waiting);
  auto decided = store.db().write([&](db::Session& tx) {
    return decide_claim(tx, claim->id, true, LossBearer::shop, rules, clock);
  });
  REQUIRE(decided.ok());
  CHECK(decided->status == "approved");
  // Approval settled what was left: 15001 - 1001 went to producers and fees.
  CHECK(balance(store.db(), accounts::escrow(100)).balance() == 0);
  CHECK(balance(store.db(), "provider:sim").balance() == -15001 + 1001);
  auto twice = store.db().write([&](db::Session& tx) {
    return decide_claim(tx, claim->id, false, LossBearer::none, rules, clock);
  });
  CHECK(twice.error().code == "already_decided");
  ledger_is_sound(store.db());
}

STORE_TEST("goods spoiled in transit are refunded and the carrier pays the households",
           "[store][refunds]") {
  TestStore store(store_kind);
  store.migrate();
  ManualClock clock(1'790'000'000'000);
  pay(store.db(), clock, sample_payable(1, 100));
  FeeRules rules;
  REQUIRE(store.db()
              .write([&](db::Session& tx) {
                return refund_order(tx, 100, LossBearer::logistics, "cold chain broke", rules,
                                    clock);
              })
              .ok());
  CHECK(balance(store.db(), "provider:sim").balance() == 0);  // the buyer has all the money back
  CHECK(balance(store.db(), accounts::kLogisticsLiability).balance() ==
        -15001);                                                     // the carrier owes it
  CHECK(balance(store.db(), accounts::household(3)).balance() > 0);  // and the households were paid
  // A repeat (the event delivered twice) moves nothing.
  REQUIRE(store.db()
              .write([&](db::Session& tx) {
                return refund_order(tx, 100, LossBearer::logistics, "again", rules, clock);
              })
              .ok());
  CHECK(balance(store.db(), accounts::kLogisticsLiability).balance() == -15001);
  ledger_is_sound(store.db());
}

STORE_TEST("goods bad before pickup are refunded at the shop's loss", "[store][refunds]") {
  TestStore store(store_kind);
  store.migrate();
  ManualClock clock(1'790'000'000'000);
  pay(store.db(), clock, sample_payable(1, 100));
  FeeRules rules;
  REQUIRE(store.db()
              .write([&](db::Session& tx) {
                return refund_order(tx, 100, LossBearer::shop, "rotten at the station", rules,
                                    clock);
              })
              .ok());
  CHECK(balance(store.db(), "provider:sim").balance() == 0);
  CHECK(balance(store.db(), accounts::escrow(100)).balance() == 0);
  auto h3 =
      store.db().read([&](db::Session& s) { return find_account(s, accounts::household(3)); });
  REQUIRE(h3.ok());
  CHECK((!h3->has_value() || (*h3)->balance() == 0));
  ledger_is_sound(store.db());
}

STORE_TEST("a checkout cannot be paid twice; a notification for the wrong amount moves nothing",
           "[store][payments]") {
  TestStore store(store_kind);
  store.migrate();
  ManualClock clock(1'790'000'000'000);
  const auto p = sample_payable(1, 100);
  auto intent = store.db().write([&](db::Session& tx) { return open_intent(tx, p, "sim", clock); });
  REQUIRE(intent.ok());
  auto same = store.db().write([&](db::Session& tx) { return open_intent(tx, p, "sim", clock); });
  REQUIRE(same.ok());
  CHECK(same->id == intent->id);  // one open intent per checkout
  const std::string wrong = R"({"id":"e","event_type":"TRANSACTION.SUCCESS","out_trade_no":")" +
                            std::to_string(intent->id) +
                            R"(","transaction_id":"SIM1","amount":{"total":1,"currency":"CNY"}})";
  auto refused = store.db().write([&](db::Session& tx) {
    return apply_notification(tx, Notification{"", "", "w1", "", wrong}, "sim", clock);
  });
  CHECK(refused.error().code == "amount_mismatch");
  pay(store.db(), clock, p);
  auto paid_again =
      store.db().write([&](db::Session& tx) { return open_intent(tx, p, "sim", clock); });
  CHECK(paid_again.error().code == "already_paid");
  CHECK(balance(store.db(), accounts::escrow(100)).balance() == 15001);
  ledger_is_sound(store.db());
}

STORE_TEST(
    "notifications out of order: a failure after success changes nothing, a success after failure "
    "captures",
    "[store][payments]") {
  TestStore store(store_kind);
  store.migrate();
  ManualClock clock(1'790'000'000'000);
  auto notice = [&](std::int64_t intent, const char* type, const std::string& nonce) {
    const std::string body =
        R"({"id":"e","event_type":")" + std::string(type) + R"(","out_trade_no":")" +
        std::to_string(intent) +
        R"(","transaction_id":"SIM1","amount":{"total":15001,"currency":"CNY"}})";
    return store.db().write([&](db::Session& tx) {
      return apply_notification(tx, Notification{"", "", nonce, "", body}, "sim", clock);
    });
  };
  auto first = store.db().write(
      [&](db::Session& tx) { return open_intent(tx, sample_payable(1, 100), "sim", clock); });
  REQUIRE(first.ok());
  REQUIRE(*notice(first->id, "TRANSACTION.SUCCESS", "a") == NoticeOutcome::captured);
  CHECK(*notice(first->id, "TRANSACTION.FAIL", "b") == NoticeOutcome::duplicate);
  CHECK(balance(store.db(), accounts::escrow(100)).balance() == 15001);
  auto second = store.db().write(
      [&](db::Session& tx) { return open_intent(tx, sample_payable(2, 200), "sim", clock); });
  REQUIRE(second.ok());
  CHECK(*notice(second->id, "TRANSACTION.FAIL", "c") == NoticeOutcome::failed);
  CHECK(*notice(second->id, "TRANSACTION.SUCCESS", "d") ==
        NoticeOutcome::captured);  // the money did arrive
  CHECK(balance(store.db(), accounts::escrow(200)).balance() == 15001);
  ledger_is_sound(store.db());
}
