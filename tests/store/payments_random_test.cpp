// A randomised run of payments: pay, duplicate or replay notifications, deliver,
// claim and decide refunds, spoil, and crash (a child process settles an order and is
// killed with SIGKILL before it commits; the store is reopened as after a restart), with
// the money invariants checked after every step on both stores.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <map>
#include <random>

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

struct Sale {
  Payable payable;
  std::int64_t intent = 0;
  std::string last_body, last_nonce;
  bool paid = false;
};

Payable random_payable(std::mt19937_64& rng, std::int64_t checkout, std::int64_t& next_order) {
  Payable p{checkout, 1000 + checkout % 7, Money(), {}};
  const int orders = 1 + static_cast<int>(rng() % 2);
  for (int o = 0; o < orders; ++o) {
    PayableOrder order{
        next_order++, 1 + static_cast<std::int64_t>(rng() % 3), rng() % 2 == 0, Money(), {}};
    const int lines = 1 + static_cast<int>(rng() % 3);
    for (int l = 0; l < lines; ++l) {
      PayableLine line{static_cast<std::int64_t>(rng() % 50 + 1),
                       "produce",
                       1 + static_cast<std::int64_t>(rng() % 5),
                       Money::fen(1 + static_cast<std::int64_t>(rng() % 20000)),
                       std::nullopt,
                       "",
                       rng() % 3 == 0,
                       {}};
      const std::int64_t first = 1 + static_cast<std::int64_t>(rng() % 6);
      if (rng() % 2) {
        const int share = 1 + static_cast<int>(rng() % 9999);
        line.producers = {{first, share}, {first + 1, 10000 - share}};
      } else {
        line.producers = {{first, 10000}};
      }
      order.total = *order.total.plus(line.line_total);
      order.lines.push_back(line);
    }
    p.total = *p.total.plus(order.total);
    p.orders.push_back(order);
  }
  return p;
}

std::string success_body(std::int64_t intent, Money amount) {
  return R"({"id":"e)" + std::to_string(intent) +
         R"(","event_type":"TRANSACTION.SUCCESS","out_trade_no":")" + std::to_string(intent) +
         R"(","transaction_id":"SIM)" + std::to_string(intent) + R"(","amount":{"total":)" +
         std::to_string(amount.fen()) + R"(,"currency":"CNY"}})";
}

// A process of its own opens the store, settles the order and is killed by SIGKILL in
// the middle of the transaction, before COMMIT: a real crash, not a rollback. Returns
// once the child is dead, with how it died.
int settle_and_die(const std::string& url, std::int64_t order_id, const FeeRules& rules,
                   const Clock& clock) {
  const pid_t child = ::fork();
  if (child == 0) {  // no test macros here: this process must only die
    auto db = db::open_database(url);
    if (!db.ok()) ::_exit(2);
    (void)(*db)->write([&](db::Session& tx) -> Status {
      (void)complete_order(tx, order_id, rules, clock);  // written, not committed
      ::kill(::getpid(), SIGKILL);
      return {};
    });
    ::_exit(3);  // not reached
  }
  int status = 0;
  if (child < 0 || ::waitpid(child, &status, 0) != child) return -1;
  return WIFSIGNALED(status) ? WTERMSIG(status) : -WEXITSTATUS(status);
}

std::map<std::int64_t, std::int64_t> sums(db::Session& s, const std::string& sql) {
  auto rows = s.query(sql);
  REQUIRE(rows.ok());
  std::map<std::int64_t, std::int64_t> out;
  for (const auto& r : *rows) out[r.i64(0)] = r.i64(1);
  return out;
}

// Money paid for each order is in its escrow, settled or refunded, exactly once; each
// household's settlement lines add up to its balance; the ledger balances. A fixed
// number of queries, whatever the number of orders.
void check_invariants(db::Database& db, const std::vector<Sale>& sales) {
  auto st = db.read([&](db::Session& s) -> Status {
    CUNHUO_CHECK(check_ledger(s));
    std::map<std::string, std::pair<std::int64_t, std::int64_t>>
        accounts_by_code;  // code → id, balance
    for (const auto& r : CUNHUO_TRY(
             s.query("SELECT code, id, credits_posted - debits_posted FROM ledger_accounts")))
      accounts_by_code[r.str(0)] = {r.i64(1), r.i64(2)};
    const auto inflow = sums(s,
                             "SELECT credit_account, SUM(amount) FROM ledger_transfers WHERE state "
                             "= 'posted' GROUP BY credit_account");
    const auto paid_in =
        sums(s,
             "SELECT credit_account, SUM(amount) FROM ledger_transfers WHERE state = 'posted' "
             "AND transfer_key LIKE 'pay:%' GROUP BY credit_account");
    const auto back =
        sums(s, "SELECT order_id, SUM(amount_fen) FROM provider_refunds GROUP BY order_id");
    const auto settled =
        sums(s, "SELECT order_id, SUM(gross_fen) FROM settlement_lines GROUP BY order_id");
    const auto refunded_fen = sums(s, "SELECT order_id, refunded_fen FROM payment_orders");
    const auto household_net =
        sums(s, "SELECT household_id, SUM(net_fen) FROM settlement_lines GROUP BY household_id");
    std::int64_t all_paid = 0, all_back = 0;
    auto at = [](const std::map<std::int64_t, std::int64_t>& m, std::int64_t k) {
      auto it = m.find(k);
      return it == m.end() ? 0 : it->second;
    };
    for (const auto& sale : sales) {
      for (const auto& o : sale.payable.orders) {
        const auto [id, balance] = accounts_by_code.at(accounts::escrow(o.order_id));
        const std::int64_t paid = at(paid_in, id), compensation = at(inflow, id) - paid;
        if (paid != o.total.fen() ||
            paid + compensation != balance + at(settled, o.order_id) + at(back, o.order_id) ||
            at(refunded_fen, o.order_id) != at(back, o.order_id)) {
          FAIL("order " << o.order_id << ": paid " << paid << " of " << o.total.fen()
                        << ", compensation " << compensation << ", in escrow " << balance
                        << ", settled " << at(settled, o.order_id) << ", refunded "
                        << at(back, o.order_id) << " (recorded " << at(refunded_fen, o.order_id)
                        << ")");
        }
        all_paid += paid;
        all_back += at(back, o.order_id);
      }
    }
    if (accounts_by_code["provider:sim"].second != all_back - all_paid)
      FAIL("the provider's account does not match payments and refunds");
    for (const auto& [code, account] : accounts_by_code) {
      if (code.rfind("household:", 0) != 0) continue;
      const std::int64_t h = std::stoll(code.substr(10));
      if (at(household_net, h) != account.second)
        FAIL("household " << h << ": statement lines " << at(household_net, h) << ", balance "
                          << account.second);
    }
    return {};
  });
  if (!st.ok()) FAIL(st.error().message);
}

}  // namespace

STORE_TEST("thousands of random payment steps keep every fen accounted for",
           "[store][payments][random]") {
  TestStore store(store_kind);
  store.migrate();
  std::unique_ptr<db::Database> reopened;
  db::Database* db = &store.db();
  ManualClock clock(1'790'000'000'000);
  const auto seed = std::random_device{}();
  INFO("seed " << seed);
  std::mt19937_64 rng(seed);
  FeeRules rules;
  std::vector<Sale> sales;
  std::int64_t next_order = 1, nonce = 0;
  const int steps = 1500;
  std::map<std::string, int> done;
  for (int step = 0; step < steps; ++step) {
    clock.advance(std::chrono::seconds(7));
    const int pick = static_cast<int>(rng() % 100);
    if (sales.empty() || pick < 15) {  // a new checkout is paid
      Sale sale{random_payable(rng, static_cast<std::int64_t>(sales.size()) + 1, next_order), 0, "",
                "", false};
      auto intent =
          db->write([&](db::Session& tx) { return open_intent(tx, sale.payable, "sim", clock); });
      REQUIRE(intent.ok());
      sale.intent = intent->id;
      sale.last_body = success_body(intent->id, sale.payable.total);
      sale.last_nonce = "n" + std::to_string(++nonce);
      auto outcome = db->write([&](db::Session& tx) {
        return apply_notification(tx, Notification{"", "", sale.last_nonce, "", sale.last_body},
                                  "sim", clock);
      });
      REQUIRE(outcome.ok());
      sale.paid = true;
      sales.push_back(sale);
      ++done["pay"];
    } else {
      Sale& sale = sales[rng() % sales.size()];
      const auto& order = sale.payable.orders[rng() % sale.payable.orders.size()];
      if (pick < 30) {  // the provider sends the notification again (new nonce): a no-op
        auto outcome = db->write([&](db::Session& tx) {
          return apply_notification(
              tx, Notification{"", "", "n" + std::to_string(++nonce), "", sale.last_body}, "sim",
              clock);
        });
        REQUIRE(outcome.ok());
        CHECK(*outcome == NoticeOutcome::duplicate);
        ++done["duplicate"];
      } else if (pick < 38) {  // a replay of a nonce already seen: refused
        auto outcome = db->write([&](db::Session& tx) {
          return apply_notification(tx, Notification{"", "", sale.last_nonce, "", sale.last_body},
                                    "sim", clock);
        });
        REQUIRE_FALSE(outcome.ok());
        CHECK(outcome.error().code == "replayed");
        ++done["replay"];
      } else if (pick < 58) {  // delivered and confirmed
        REQUIRE(db->write([&](db::Session& tx) {
                    return complete_order(tx, order.order_id, rules, clock);
                  }).ok());
        ++done["deliver"];
      } else if (pick < 75) {  // a refund claim, sometimes more than is left
        const std::int64_t amount =
            1 +
            static_cast<std::int64_t>(rng() % static_cast<std::uint64_t>(order.total.fen() + 50));
        auto claim = db->write([&](db::Session& tx) {
          return claim_refund(tx, order.order_id, sale.payable.buyer_id, Money::fen(amount),
                              "damaged", clock);
        });
        if (claim.ok()) {
          const bool approve = rng() % 3 != 0;
          const auto bearer = rng() % 2 ? LossBearer::shop : LossBearer::logistics;
          REQUIRE(db->write([&](db::Session& tx) {
                      return decide_claim(tx, claim->id, approve, bearer, rules, clock);
                    }).ok());
          ++done[approve ? "refund approved" : "refund rejected"];
        } else {
          CHECK((claim.error().kind == ErrorKind::conflict));
          ++done["refund refused"];
        }
      } else if (pick < 85) {  // logistics reports the goods spoiled
        const auto bearer = rng() % 2 ? LossBearer::shop : LossBearer::logistics;
        REQUIRE(db->write([&](db::Session& tx) {
                    return refund_order(tx, order.order_id, bearer, "spoiled", rules, clock);
                  }).ok());
        ++done["spoiled"];
      } else {  // a process dies in the middle of settling: nothing of it remains
        REQUIRE(settle_and_die(store.url(), order.order_id, rules, clock) == SIGKILL);
        reopened = store.reopen();  // restart: a new handle on the same store
        db = reopened.get();
        REQUIRE(db->read([](db::Session& s) { return check_ledger(s); }).ok());
        ++done["crash and restart"];
      }
    }
    check_invariants(*db, sales);
  }
  for (const auto& [what, n] : done) INFO(what << ": " << n);
  CHECK(done["pay"] > 100);
  CHECK(done["crash and restart"] > 50);
}
