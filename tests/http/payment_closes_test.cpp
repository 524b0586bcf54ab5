// The provider's order of a payment that can no longer be paid is closed there: when the
// checkout's payment window runs out (its stock went back) and when a new intent replaces a
// failed one. Closing runs in housekeeping, off the buyer's request, again later when the
// provider fails; a payment that came first is applied at once (or was by its notification),
// once, and goes back to the buyer.
#include "core/config.hpp"
#include "payments/closes.hpp"
#include "payments/ledger.hpp"
#include "payments/wechatpay/provider.hpp"
#include "tests/support/flows.hpp"
#include "tests/support/server.hpp"

using namespace cunhuo;
using namespace cunhuo::test;

namespace {

namespace wx = payments::wechatpay;

// A checkout whose intent was made at the provider (its pay page is open).
struct Opened {
  Bought bought;
  std::int64_t intent = 0;
  std::string pay_url;
};

Opened open_payment(TestServer& server, HttpClient& c, const std::string& consumer,
                    const std::string& key = "pay-1") {
  const Bought b = buy(server, c, consumer);
  auto intent = start_payment(c, consumer, b.checkout, key);
  REQUIRE(intent.status == 201);
  return Opened{b, json_int(intent.body, "id"), str_field(intent.body, "pay_url")};
}

// The payment window runs out: the stock goes back, the order is cancelled and the close is
// asked for (the outbox); nothing is sent to the provider yet.
void let_window_pass(TestServer& server) {
  server.advance(std::chrono::milliseconds(Config{}.payment_window_ms) + std::chrono::minutes(1));
  server.app().housekeep_now();
  REQUIRE(server.app().dispatcher().drain().ok());
}

std::optional<payments::ProviderClose> close_of(TestServer& server, std::int64_t intent) {
  auto found =
      server.app().db().read([&](db::Session& s) { return payments::find_close(s, intent); });
  REQUIRE(found.ok());
  return *found;
}

std::string state_at_provider(TestServer& server, std::int64_t intent) {
  auto order = server.app().payment_sandbox()->find(wx::out_trade_no(intent));
  REQUIRE(order.ok());
  return order->trade_state;
}

}  // namespace

STORE_TEST("when the payment window runs out the provider's order is closed by housekeeping",
           "[http][payments][closes]") {
  TestServer server(store_kind, kTestSeed, {}, ServerClock::manual);
  HttpClient c(server.port());
  const std::string consumer = server.login(kConsumer);
  const Opened o = open_payment(server, c, consumer);
  let_window_pass(server);
  REQUIRE(order_status(c, consumer, o.bought.order) == "cancelled");
  auto asked = close_of(server, o.intent);
  REQUIRE(asked);
  CHECK(asked->reason == "cancelled");
  server.app().housekeep_now();  // sends it (if the every-second pass has not already)
  CHECK(close_of(server, o.intent)->status == "closed");
  CHECK(state_at_provider(server, o.intent) == "CLOSED");
}

STORE_TEST("the sandbox's page of a closed order says in Chinese that it cannot be paid",
           "[http][payments][closes][sandbox]") {
  TestServer server(store_kind, kTestSeed, {}, ServerClock::manual);
  HttpClient c(server.port());
  const std::string consumer = server.login(kConsumer);
  const Opened o = open_payment(server, c, consumer);
  let_window_pass(server);
  server.app().housekeep_now();
  auto page = on_pay_page(o.pay_url, "page");
  CHECK(page.status == 200);
  CHECK(page.body.find("不能再支付") != std::string::npos);
  CHECK(page.body.find("id=confirm") == std::string::npos);
  auto paying = on_pay_page(o.pay_url, "confirm");
  CHECK(paying.status == 409);
  CHECK(paying.body.find("不能再支付") != std::string::npos);
  CHECK(server.count("SELECT COUNT(*) FROM ledger_transfers") == 0);
}

STORE_TEST("a close the provider fails is tried again after its back-off, not before",
           "[http][payments][closes]") {
  TestServer server(store_kind, kTestSeed, {}, ServerClock::manual);
  HttpClient c(server.port());
  const std::string consumer = server.login(kConsumer);
  const Opened o = open_payment(server, c, consumer);
  auto books = sandbox_books(server);  // the provider's store fails: it answers 500
  auto rename = [&](const char* from, const char* to) {
    REQUIRE(books
                ->write([&](db::Session& tx) {
                  return tx.exec_script(std::string("ALTER TABLE ") + from + " RENAME TO " + to);
                })
                .ok());
  };
  rename("sb_orders", "sb_orders_away");
  let_window_pass(server);
  server.app().housekeep_now();  // the manual clock stands still: one attempt, then none due
  rename("sb_orders_away", "sb_orders");
  CHECK(close_of(server, o.intent)->status == "pending");
  CHECK(close_of(server, o.intent)->attempts == 1);
  server.app().housekeep_now();  // not due yet
  CHECK(close_of(server, o.intent)->attempts == 1);
  CHECK(state_at_provider(server, o.intent) == "NOTPAY");
  server.advance(std::chrono::milliseconds(payments::kCloseRetryBaseMs));
  server.app().housekeep_now();
  CHECK(close_of(server, o.intent)->status == "closed");
  CHECK(close_of(server, o.intent)->attempts == 2);
  CHECK(state_at_provider(server, o.intent) == "CLOSED");
}

std::int64_t payments_taken(TestServer& server) {
  return server.count("SELECT COUNT(*) FROM ledger_transfers WHERE transfer_key LIKE 'pay:%'");
}

std::int64_t refunds_of(TestServer& server, std::int64_t order) {
  return server.count("SELECT COUNT(*) FROM provider_refunds WHERE order_id = " +
                      std::to_string(order) + " AND amount_fen = 7960");
}

STORE_TEST("a close that finds the order paid applies the payment at once, and it goes back",
           "[http][payments][closes]") {
  TestServer server(store_kind, kTestSeed, {}, ServerClock::manual);
  HttpClient c(server.port());
  server.app().payment_sandbox()->hold_background_delivery(true);
  const std::string consumer = server.login(kConsumer);
  const Opened o = open_payment(server, c, consumer);
  REQUIRE(on_pay_page(o.pay_url).status == 200);  // paid; the notification not yet sent
  let_window_pass(server);
  // Sends the close (if the every-second pass has not already): it is refused (ORDERPAID),
  // and the order is queried.
  server.app().housekeep_now();
  CHECK(close_of(server, o.intent)->status == "paid");
  CHECK(state_at_provider(server, o.intent) == "SUCCESS");
  CHECK(payments_taken(server) == 1);  // no notification has come
  REQUIRE(server.app().dispatcher().drain().ok());
  CHECK(refunds_of(server, o.bought.order) == 1);  // the order was cancelled: it goes back
  CHECK(order_status(c, consumer, o.bought.order) == "cancelled");
  // The notification comes after: it finds the intent paid and changes nothing.
  CHECK(deliver_notifications(server) >= 1);
  REQUIRE(server.app().dispatcher().drain().ok());
  CHECK(payments_taken(server) == 1);
  CHECK(refunds_of(server, o.bought.order) == 1);
  REQUIRE(server.app().db().read([](db::Session& s) { return payments::check_ledger(s); }).ok());
}

STORE_TEST("a payment notified before its order's close is refused as paid moves money once",
           "[http][payments][closes]") {
  TestServer server(store_kind, kTestSeed, {}, ServerClock::manual);
  HttpClient c(server.port());
  server.app().payment_sandbox()->hold_background_delivery(true);
  const std::string consumer = server.login(kConsumer);
  const Opened o = open_payment(server, c, consumer);
  REQUIRE(on_pay_page(o.pay_url).status == 200);
  // The first close fails (the provider's store answers 500), so it waits for its back-off.
  auto books = sandbox_books(server);
  auto rename = [&](const char* from, const char* to) {
    REQUIRE(books
                ->write([&](db::Session& tx) {
                  return tx.exec_script(std::string("ALTER TABLE ") + from + " RENAME TO " + to);
                })
                .ok());
  };
  rename("sb_orders", "sb_orders_away");
  let_window_pass(server);
  server.app().housekeep_now();
  rename("sb_orders_away", "sb_orders");
  REQUIRE(close_of(server, o.intent)->status == "pending");
  // Meanwhile the notification applies the payment; the cancelled order's money goes back.
  CHECK(deliver_notifications(server) >= 1);
  REQUIRE(server.app().dispatcher().drain().ok());
  CHECK(payments_taken(server) == 1);
  CHECK(refunds_of(server, o.bought.order) == 1);
  // The close, tried again, is refused as paid: the query finds the payment applied already.
  server.advance(std::chrono::milliseconds(payments::kCloseRetryBaseMs));
  server.app().housekeep_now();
  CHECK(close_of(server, o.intent)->status == "paid");
  REQUIRE(server.app().dispatcher().drain().ok());
  CHECK(payments_taken(server) == 1);
  CHECK(refunds_of(server, o.bought.order) == 1);
  CHECK(order_status(c, consumer, o.bought.order) == "cancelled");
  REQUIRE(server.app().db().read([](db::Session& s) { return payments::check_ledger(s); }).ok());
}

STORE_TEST("an intent replaced after its payment failed has its provider order closed",
           "[http][payments][closes]") {
  TestServer server(store_kind);
  HttpClient c(server.port());
  const std::string consumer = server.login(kConsumer);
  const Opened first = open_payment(server, c, consumer);
  REQUIRE(on_pay_page(first.pay_url, "fail").status == 200);
  const std::string path = "/api/v1/payments/" + std::to_string(first.intent);
  REQUIRE(eventually([&] {
    return str_field(c.request("GET", path, "", bearer(consumer)).body, "status") == "failed";
  }));
  CHECK_FALSE(close_of(server, first.intent));  // failed alone closes nothing
  auto second = start_payment(c, consumer, first.bought.checkout, "pay-2");
  REQUIRE(second.status == 201);
  const std::int64_t second_intent = json_int(second.body, "id");
  REQUIRE(second_intent != first.intent);
  REQUIRE(close_of(server, first.intent));
  CHECK(close_of(server, first.intent)->reason == "replaced");
  server.app().housekeep_now();
  CHECK(close_of(server, first.intent)->status == "closed");
  CHECK(state_at_provider(server, first.intent) == "CLOSED");
  CHECK(state_at_provider(server, second_intent) == "NOTPAY");
  CHECK_FALSE(close_of(server, second_intent));
}
