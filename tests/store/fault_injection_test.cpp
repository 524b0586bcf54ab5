// The fault-injection loop (SQLite's malloc tests): a buyer checks out (under an
// Idempotency-Key), pays, claims part back, and the order settles, as the service runs
// these steps: each its own transaction, the outbox carrying what one module tells
// another. The store fails the Nth statement, for N = 1, 2, 3, ... until the whole body
// completes. After every failure the ledger, the idempotency records and the outbox are
// checked: each transaction committed whole or not at all, and the outbox, run again
// once the fault is gone, finishes what was committed.
#include "core/outbox/outbox.hpp"
#include "marketplace/catalog.hpp"
#include "marketplace/orders.hpp"
#include "marketplace/registry.hpp"
#include "payments/accounts.hpp"
#include "payments/intents.hpp"
#include "payments/ledger.hpp"
#include "payments/refunds.hpp"
#include "storefront/idempotency.hpp"
#include "storefront/payments_routes.hpp"
#include "tests/support/faulty_store.hpp"
#include "tests/support/service_flows.hpp"
#include "tests/support/support.hpp"

using namespace cunhuo;
namespace mk = cunhuo::marketplace;
namespace pay = cunhuo::payments;
using cunhuo::test::FaultyStore;
using cunhuo::test::TestStore;

namespace {

constexpr std::int64_t kRefundFen = 1000;
constexpr std::int64_t kMaxTries = 2000;  // far more statements than the body runs

mk::ProductId seed_listing(db::Database& db, const Clock& clock) {
  auto id = db.write([&](db::Session& tx) -> Result<mk::ProductId> {
    const auto wang =
        CUNHUO_TRY(mk::create_household(tx,
                                        {"620621104201", "王建国", "620621197803150013",
                                         "13800000001", 4, mk::PovertyStatus::registered_poor},
                                        clock));
    const auto shop = CUNHUO_TRY(
        mk::create_shop(tx, {"王家小店", mk::ShopKind::household, "620621104201", {wang}}, clock));
    mk::ListingFields f;
    f.title = "民勤蜜瓜";
    f.category = "水果";
    f.unit = "box";
    f.price = Money::fen(3980);
    f.stock = 100'000;
    f.temperature = mk::TemperatureClass::chilled;
    f.shelf_life_days = 20;
    f.origin_code = "620621104201";
    f.origin_name = "甘肃民勤";
    f.producers = std::vector<mk::ProducerShare>{{wang, 10000}};
    return mk::create_product(tx, shop, f, clock);
  });
  REQUIRE(id.ok());
  return *id;
}

pay::Payable payable_of(const mk::Checkout& c) {
  pay::Payable p{c.id.value, c.buyer, c.total, {}};
  for (const auto& o : c.orders) {
    pay::PayableOrder po{o.id.value, o.shop.value, false, o.total, {}};
    for (const auto& l : o.lines) {
      pay::PayableLine line{l.product.value, l.title, l.quantity, l.line_total,
                            std::nullopt,    "",      false,      {}};
      for (const auto& share : l.producers)
        line.producers.push_back({share.household.value, share.share_bps});
      po.lines.push_back(std::move(line));
    }
    p.orders.push_back(std::move(po));
  }
  return p;
}

storefront::Request checkout_request(std::int64_t n) {
  storefront::Request r;
  r.method = "POST";
  r.path = "/api/v1/orders";
  r.headers = {{"idempotency-key", "checkout-" + std::to_string(n)}};
  r.body = std::to_string(n);
  return r;
}

// The body: every step through `db`; false as soon as a step did not go through.
class Sale {
 public:
  Sale(db::Database& db, const Clock& clock, mk::ProductId product, std::int64_t buyer)
      : db_(db),
        clock_(clock),
        product_(product),
        buyer_(buyer),
        idempotency_(db, clock),
        dispatcher_(db, clock),
        flows_(db, dispatcher_, clock) {}

  bool run() { return checkout() && pay() && deliver() && refund() && complete(); }
  std::int64_t order() const { return order_; }

 private:
  bool checkout() {
    auto answer = idempotency_.run(
        checkout_request(buyer_), buyer_, [this](db::Session& tx) -> Result<storefront::Response> {
          const mk::CheckoutRequest cart{buyer_,
                                         {{product_, 1}},
                                         std::nullopt,
                                         {"张三明", "13711112222", "兰州市某路1号", "620102"}};
          auto placed = CUNHUO_TRY(mk::place_checkout(tx, cart, clock_, std::chrono::hours(1)));
          checkout_ = placed.id;
          order_ = placed.orders.front().id.value;
          return storefront::Response::json(
              201, "{\"checkout_id\":" + std::to_string(placed.id.value) + "}");
        });
    return answer.status == 201;
  }

  bool pay() {
    auto intent = db_.write([&](db::Session& tx) -> Result<pay::Intent> {
      auto checkout = CUNHUO_TRY(mk::find_checkout(tx, checkout_));
      return pay::open_intent(tx, payable_of(*checkout), "sim", clock_);
    });
    if (!intent.ok()) return false;
    const std::string body = R"({"id":"e","event_type":"TRANSACTION.SUCCESS","out_trade_no":")" +
                             std::to_string(intent->id) +
                             R"(","transaction_id":"T","amount":{"total":)" +
                             std::to_string(intent->amount.fen()) + R"(,"currency":"CNY"}})";
    const pay::Notification n{"", "", "nonce-" + std::to_string(intent->id), "", body};
    return db_.write([&](db::Session& tx) { return pay::apply_notification(tx, n, "sim", clock_); })
               .ok() &&
           drained();
  }

  bool deliver() {
    for (auto to :
         {mk::OrderStatus::packed, mk::OrderStatus::shipped, mk::OrderStatus::delivered}) {
      auto moved = db_.write([&](db::Session& tx) {
        return mk::change_order_status(tx, mk::OrderId{order_}, to, "test", "moved along", clock_);
      });
      if (!moved.ok()) return false;
    }
    return true;
  }

  bool refund() {
    auto claim = db_.write([&](db::Session& tx) {
      return pay::claim_refund(tx, order_, buyer_, Money::fen(kRefundFen), "one melon split",
                               clock_);
    });
    if (!claim.ok()) return false;
    return db_.write([&](db::Session& tx) {
                return pay::decide_claim(tx, claim->id, true, pay::LossBearer::shop,
                                         pay::FeeRules{}, clock_);
              })
               .ok() &&
           drained();
  }

  bool complete() {
    auto done = db_.write([&](db::Session& tx) {
      return mk::change_order_status(tx, mk::OrderId{order_}, mk::OrderStatus::completed, "buyer",
                                     "received", clock_);
    });
    return done.ok() && drained();  // the outbox settles it
  }

  // The outbox delivered everything due (a handler that failed is retried later).
  bool drained() {
    auto passes = dispatcher_.drain();
    return passes.ok() && passes->failed == 0;
  }

  db::Database& db_;
  const Clock& clock_;
  mk::ProductId product_;
  std::int64_t buyer_;
  storefront::Idempotency idempotency_;
  outbox::Dispatcher dispatcher_;
  test::ServiceFlows flows_;
  mk::CheckoutId checkout_{0};
  std::int64_t order_ = 0;
};

std::int64_t count(db::Session& s, const std::string& sql) {
  auto r = s.query_one(sql);
  REQUIRE(r.ok());
  return (*r)->i64(0);
}

// What must hold whatever statement failed: whole transactions only.
void nothing_partial(db::Database& db) {
  auto st = db.read([&](db::Session& s) -> Status {
    CUNHUO_CHECK(pay::check_ledger(s));
    // Every checkout came with its idempotency record, and no failure was recorded as an answer.
    CHECK(count(s, "SELECT COUNT(*) FROM checkouts") ==
          count(s,
                "SELECT COUNT(*) FROM idempotency_keys WHERE idem_key LIKE 'checkout-%' AND status "
                "= 201"));
    CHECK(count(s, "SELECT COUNT(*) FROM idempotency_keys WHERE status >= 500") == 0);
    // Every status change published its event; every capture published one.
    CHECK(count(s, "SELECT COUNT(*) FROM order_events WHERE from_status IS NOT NULL") ==
          count(s, "SELECT COUNT(*) FROM outbox_events WHERE topic LIKE 'order.%'"));
    CHECK(count(s, "SELECT COUNT(*) FROM payment_intents WHERE status = 'succeeded'") ==
          count(s, "SELECT COUNT(*) FROM outbox_events WHERE topic = 'payment.captured'"));
    // Money captured for every order paid, and for no other.
    CHECK(count(s, "SELECT COUNT(*) FROM payment_orders WHERE status <> 'unpaid'") ==
          count(s, "SELECT COUNT(*) FROM ledger_transfers WHERE transfer_key LIKE 'pay:%'"));
    // An approved claim is a refund requested from the provider, with its amount recorded.
    CHECK(count(s, "SELECT COUNT(*) FROM refund_claims WHERE status = 'approved'") ==
          count(s, "SELECT COUNT(*) FROM provider_refunds WHERE refund_key LIKE 'claim:%'"));
    CHECK(count(s, "SELECT COALESCE(SUM(amount_fen), 0) FROM provider_refunds") ==
          count(s, "SELECT COALESCE(SUM(refunded_fen), 0) FROM payment_orders"));
    // A settled order's escrow is empty.
    for (const auto& r :
         CUNHUO_TRY(s.query("SELECT order_id FROM payment_orders WHERE status = 'settled'"))) {
      auto escrow = CUNHUO_TRY(pay::find_account(s, pay::accounts::escrow(r.i64(0))));
      CHECK((escrow && escrow->balance() == 0 && escrow->debits_pending == 0));
    }
    return {};
  });
  INFO((st.ok() ? std::string() : st.error().message));
  CHECK(st.ok());
}

// What the outbox must finish once the fault is gone: no order paid in payments and
// still unpaid in the marketplace, no completed order unsettled.
void outbox_catches_up(db::Database& db, ManualClock& clock) {
  outbox::Dispatcher dispatcher(db, clock);
  test::ServiceFlows flows(db, dispatcher, clock);
  clock.advance(std::chrono::hours(1));  // past every retry's back-off
  auto passes = dispatcher.drain();
  REQUIRE(passes.ok());
  CHECK(passes->failed == 0);
  auto st = db.read([&](db::Session& s) -> Status {
    CHECK(count(s,
                "SELECT COUNT(*) FROM payment_orders p JOIN orders o ON o.id = p.order_id "
                "WHERE p.status <> 'unpaid' AND o.status = 'pending_payment'") == 0);
    CHECK(count(s,
                "SELECT COUNT(*) FROM payment_orders p JOIN orders o ON o.id = p.order_id "
                "WHERE o.status = 'completed' AND p.status <> 'settled'") == 0);
    return {};
  });
  CHECK(st.ok());
}

}  // namespace

STORE_TEST("checkout, pay, refund and settle leave nothing partial whichever statement fails",
           "[store][fault-injection]") {
  TestStore store(store_kind);
  store.migrate();
  ManualClock clock(1'790'000'000'000);
  const auto product = seed_listing(store.db(), clock);
  FaultyStore faulty(store.db());
  std::int64_t n = 1;
  for (; n < kMaxTries; ++n) {
    faulty.fail_at(n);
    Sale sale(faulty, clock, product, 10'000 + n);
    const bool completed = sale.run();
    INFO("statement " << n << " failed");
    nothing_partial(store.db());
    outbox_catches_up(store.db(), clock);
    nothing_partial(store.db());
    if (!faulty.failed()) {
      REQUIRE(completed);  // the body ran out of statements before the fault: done
      auto settled = store.db().read([&](db::Session& s) {
        return s.query_one("SELECT status FROM payment_orders WHERE order_id = ?", {sale.order()});
      });
      REQUIRE(settled.ok());
      CHECK((*settled)->str(0) == "settled");
      break;
    }
    CHECK_FALSE(completed);
  }
  CHECK(n > 50);  // the body did run many statements, each failed once
  CHECK(n < kMaxTries);
}
