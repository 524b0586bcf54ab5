// Payments over real TCP: pay in the sandbox, the signed callback, delivery, settlement,
// the household's statement and its verification, refunds, reconciliation and payouts.
#include <thread>

#include "core/json.hpp"
#include "payments/provider.hpp"
#include "tests/support/flows.hpp"
#include "tests/support/server.hpp"

using namespace cunhuo;
using namespace cunhuo::test;

namespace {

HttpReply notify(HttpClient& c, const payments::Notification& n) {
  return c.request("POST", "/api/v1/payments/notify", n.body,
                   {{"Content-Type", "application/json"}, {payments::kSerialHeader, n.serial}, {payments::kTimestampHeader, n.timestamp},
                    {payments::kNonceHeader, n.nonce}, {payments::kSignatureHeader, n.signature}});
}

std::string this_month() { return format_date(shanghai_date(SystemClock().now_ms())).substr(0, 7); }
std::string today() { return format_date(shanghai_date(SystemClock().now_ms())); }

}  // namespace

STORE_TEST("buy, pay in the sandbox, deliver, and the farmer's statement shows the sale and verifies", "[http][payments]") {
  TestServer server(store_kind);
  HttpClient c(server.port());
  const std::string consumer = server.login(kConsumer), farmer = server.login(kFarmer), centre = server.login(kCentre);
  const Bought b = buy(server, c, consumer);
  auto intent = start_payment(c, consumer, b.checkout, "pay-1");
  REQUIRE(intent.status == 201);
  CHECK(json_int(intent.body, "amount_fen") == 2 * 3980);
  CHECK(start_payment(c, consumer, b.checkout, "pay-1").body == intent.body);  // a retry gets the same intent
  const std::string pay_url = str_field(intent.body, "pay_url");
  auto page = c.request("GET", pay_url);
  CHECK(page.status == 200);
  CHECK(page.body.find("79.60") != std::string::npos);
  REQUIRE(c.request("POST", pay_url + "/confirm").status == 200);
  REQUIRE(eventually([&] { return order_status(c, consumer, b.order) == "paid"; }));
  // The sandbox sends every notification twice: the money still moved once.
  REQUIRE(eventually([&] { return server.count("SELECT COUNT(*) FROM sim_notifications WHERE acknowledged = 1") == 2; }));
  CHECK(server.count("SELECT COUNT(*) FROM ledger_transfers WHERE transfer_key LIKE 'pay:%'") == 1);

  const std::string order_path = "/api/v1/orders/" + std::to_string(b.order);
  CHECK(post_json(c, order_path + "/status", R"({"status":"packed"})", bearer(farmer)).status == 200);
  CHECK(post_json(c, order_path + "/status", R"({"status":"shipped"})", bearer(farmer)).status == 403);
  CHECK(post_json(c, order_path + "/status", R"({"status":"shipped"})", bearer(centre)).status == 200);
  CHECK(post_json(c, order_path + "/status", R"({"status":"delivered"})", bearer(centre)).status == 200);
  CHECK(c.request("POST", order_path + "/confirm-receipt", "", bearer(farmer)).status == 403);
  REQUIRE(c.request("POST", order_path + "/confirm-receipt", "", bearer(consumer)).status == 200);
  auto balance = [&] { return json_int(c.request("GET", "/api/v1/households/1/balance", "", bearer(farmer)).body, "balance_fen"); };
  REQUIRE(eventually([&] { return balance() > 0; }));
  // 7960 less 3% platform fee (238) and the 600 logistics fee; a household shop pays no commission.
  CHECK(balance() == 7960 - 238 - 600);

  auto statement = c.request("GET", "/api/v1/households/1/statements/" + this_month(), "", bearer(farmer));
  REQUIRE(statement.status == 200);
  CHECK(statement.body.find("\"order_id\":" + std::to_string(b.order)) != std::string::npos);
  CHECK(statement.body.find("\"net_fen\":7122") != std::string::npos);
  auto verified = c.request("POST", "/api/v1/statements/verify", statement.body);
  CHECK(verified.body.find("\"genuine\":true") != std::string::npos);
  std::string altered = statement.body;
  altered.replace(altered.find("\"net_fen\":7122"), 14, "\"net_fen\":7123");
  auto tampered = c.request("POST", "/api/v1/statements/verify", altered);
  CHECK(tampered.body.find("\"genuine\":false") != std::string::npos);

  auto csv = c.request("GET", "/api/v1/households/1/statements/" + this_month() + "?format=csv", "", bearer(farmer));
  CHECK(csv.status == 200);
  CHECK(csv.header("content-type").value_or("").find("text/csv") == 0);
  CHECK(csv.body.find("71.22") != std::string::npos);
  auto html = c.request("GET", "/api/v1/households/1/statements/" + this_month() + "?format=html", "", bearer(farmer));
  CHECK(html.status == 200);
  CHECK(html.body.find("民勤沙漠蜜瓜") != std::string::npos);
  // Another farmer, and a consumer, cannot see household 1's statement; the office can.
  CHECK(c.request("GET", "/api/v1/households/1/statements/" + this_month(), "", bearer(server.login(kOtherFarmer))).status == 404);
  CHECK(c.request("GET", "/api/v1/households/1/statements/" + this_month(), "", bearer(consumer)).status == 404);
  CHECK(c.request("GET", "/api/v1/households/1/statements/" + this_month(), "", bearer(server.login(kOffice))).status == 200);
  CHECK(c.request("GET", "/api/v1/households/1/statements/2026-13", "", bearer(farmer)).status == 400);
}

STORE_TEST("forged, replayed, stale and wrong-amount notifications are refused and move no money", "[http][payments][bad-input]") {
  TestServer server(store_kind);
  HttpClient c(server.port());
  const std::string consumer = server.login(kConsumer);
  const Bought b = buy(server, c, consumer);
  auto intent = start_payment(c, consumer, b.checkout, "pay-1");
  REQUIRE(intent.status == 201);
  const auto id = json_int(intent.body, "id");
  auto& sim = *server.app().simulator();
  const std::string body = R"({"id":"e1","event_type":"TRANSACTION.SUCCESS","out_trade_no":")" + std::to_string(id) +
                           R"(","transaction_id":"SIMX","amount":{"total":7960,"currency":"CNY"}})";
  auto forged = sim.sign(body);
  forged.signature = sim.sign(body + " ").signature;  // a signature over something else
  CHECK(notify(c, forged).status == 401);
  auto stale = sim.sign(body);
  stale.timestamp = std::to_string(std::stoll(stale.timestamp) - 600);
  CHECK(notify(c, stale).status == 401);
  auto wrong = sim.sign(R"({"id":"e1","event_type":"TRANSACTION.SUCCESS","out_trade_no":")" + std::to_string(id) +
                        R"(","transaction_id":"SIMX","amount":{"total":1,"currency":"CNY"}})");
  CHECK(notify(c, wrong).status == 422);
  auto unknown = sim.sign(R"({"id":"e1","event_type":"TRANSACTION.SUCCESS","out_trade_no":"999999","transaction_id":"SIMX",)"
                          R"("amount":{"total":7960,"currency":"CNY"}})");
  CHECK(notify(c, unknown).status == 422);
  auto garbage = sim.sign("not json");
  CHECK(notify(c, garbage).status == 400);
  CHECK(server.count("SELECT COUNT(*) FROM ledger_transfers") == 0);
  auto good = sim.sign(body);
  CHECK(notify(c, good).status == 200);
  CHECK(notify(c, good).status == 422);  // the same nonce again is a replay
  CHECK(notify(c, sim.sign(body)).status == 200);  // a duplicate with a fresh nonce is acknowledged, a no-op
  CHECK(server.count("SELECT COUNT(*) FROM ledger_transfers") == 1);
  // The provider's deliberately mis-signed probe gets a 4xx.
  auto probed = sim.probe();
  REQUIRE(probed.ok());
  CHECK(*probed);
}

STORE_TEST("a cancelled or already paid checkout cannot be paid", "[http][payments][bad-input]") {
  TestServer server(store_kind);
  HttpClient c(server.port());
  const std::string consumer = server.login(kConsumer);
  const Bought b = buy(server, c, consumer);
  REQUIRE(c.request("POST", "/api/v1/orders/" + std::to_string(b.order) + "/cancel", "", bearer(consumer)).status == 200);
  auto refused = start_payment(c, consumer, b.checkout, "pay-1");
  CHECK(refused.status == 409);
  CHECK(error_code(refused) == "checkout_not_payable");
  const Bought paid = buy_and_pay(server, c, consumer);
  auto again = start_payment(c, consumer, paid.checkout, "a-new-key");
  CHECK(again.status == 409);
  CHECK(start_payment(c, server.login("13900000004"), paid.checkout, "pay-3").status == 404);  // not their checkout
  CHECK(c.request("POST", "/api/v1/checkouts/" + std::to_string(paid.checkout) + "/payments", "", bearer(consumer)).status == 400);
  CHECK(server.count("SELECT COUNT(*) FROM ledger_transfers WHERE transfer_key LIKE 'pay:%'") == 1);
}

STORE_TEST("a refund claim above what was paid is refused; an approved one goes back through the provider", "[http][payments][refunds]") {
  TestServer server(store_kind);
  HttpClient c(server.port());
  const std::string consumer = server.login(kConsumer), centre = server.login(kCentre);
  const Bought b = buy_and_pay(server, c, consumer);
  const std::string claims = "/api/v1/orders/" + std::to_string(b.order) + "/refund-claims";
  auto over = post_json(c, claims, R"({"amount_fen":7961,"reason":"bruised"})", bearer(consumer, {{"Idempotency-Key", "r0"}}));
  CHECK(over.status == 409);
  CHECK(error_code(over) == "exceeds_paid");
  CHECK(post_json(c, claims, R"({"amount_fen":-1,"reason":"x"})", bearer(consumer, {{"Idempotency-Key", "r1"}})).status == 400);
  CHECK(post_json(c, claims, R"({"amount_fen":"10","reason":"x"})", bearer(consumer, {{"Idempotency-Key", "r2"}})).status == 400);
  CHECK(post_json(c, claims, R"({"amount_fen":10,"reason":"x"})", bearer(server.login("13900000004"), {{"Idempotency-Key", "r3"}})).status == 404);
  auto claim = post_json(c, claims, R"({"amount_fen":3980,"reason":"one melon split"})", bearer(consumer, {{"Idempotency-Key", "r4"}}));
  REQUIRE(claim.status == 201);
  const std::string decision = "/api/v1/refund-claims/" + std::to_string(json_int(claim.body, "id")) + "/decision";
  CHECK(post_json(c, decision, R"({"approve":true,"bearer":"nobody"})", bearer(centre)).status == 400);
  CHECK(post_json(c, decision, R"({"approve":true,"bearer":"shop"})", bearer(consumer)).status == 403);
  auto approved = post_json(c, decision, R"({"approve":true,"bearer":"shop"})", bearer(centre));
  REQUIRE(approved.status == 200);
  CHECK(str_field(approved.body, "status") == "approved");
  REQUIRE(eventually([&] { return server.count("SELECT COUNT(*) FROM sim_refunds") == 1; }));
  CHECK(server.count("SELECT amount_fen FROM sim_refunds") == 3980);
  CHECK(post_json(c, decision, R"({"approve":false})", bearer(centre)).status == 409);
}

STORE_TEST("the day's bill reconciles with the books, and a difference is reported", "[http][payments][reconciliation]") {
  TestServer server(store_kind);
  HttpClient c(server.port());
  const std::string consumer = server.login(kConsumer), centre = server.login(kCentre);
  buy_and_pay(server, c, consumer);
  const std::string body = R"({"date":")" + today() + R"("})";
  auto clean = post_json(c, "/api/v1/reconciliations", body, bearer(centre));
  REQUIRE(clean.status == 201);
  CHECK(json_int(clean.body, "matched") == 1);
  CHECK(clean.body.find("\"differences\":[]") != std::string::npos);
  auto bill = c.request("GET", "/sim/bills/" + today());
  CHECK(bill.body.find(",7960,CNY") != std::string::npos);
  // The provider's books say something else: the centre sees it.
  REQUIRE(server.app().db().write([](db::Session& tx) -> Status {
    CUNHUO_TRY(tx.exec("UPDATE sim_payments SET amount_fen = 7000"));
    return {};
  }).ok());
  REQUIRE(post_json(c, "/api/v1/reconciliations", body, bearer(centre)).status == 201);
  auto report = c.request("GET", "/api/v1/reconciliations/" + today(), "", bearer(centre));
  REQUIRE(report.status == 200);
  CHECK(report.body.find("amount_mismatch") != std::string::npos);
  CHECK(c.request("GET", "/api/v1/reconciliations/" + today(), "", bearer(consumer)).status == 403);
  CHECK(post_json(c, "/api/v1/reconciliations", R"({"date":"2026-02-30"})", bearer(centre)).status == 400);
}

STORE_TEST("household earnings are paid out in a batch with account numbers masked but in the bank file", "[http][payments][payouts]") {
  TestServer server(store_kind);
  HttpClient c(server.port());
  const std::string consumer = server.login(kConsumer), centre = server.login(kCentre), office = server.login(kOffice);
  const Bought b = buy_and_pay(server, c, consumer);
  const std::string order_path = "/api/v1/orders/" + std::to_string(b.order);
  REQUIRE(post_json(c, order_path + "/status", R"({"status":"packed"})", bearer(server.login(kFarmer))).status == 200);
  REQUIRE(post_json(c, order_path + "/status", R"({"status":"shipped"})", bearer(centre)).status == 200);
  REQUIRE(post_json(c, order_path + "/status", R"({"status":"delivered"})", bearer(centre)).status == 200);
  REQUIRE(c.request("POST", order_path + "/confirm-receipt", "", bearer(consumer)).status == 200);
  REQUIRE(eventually([&] { return server.count("SELECT COUNT(*) FROM settlement_lines") == 1; }));
  const std::string account = R"({"bank":"甘肃农村信用社","account_number":"6228480402564890018","holder":"王建国"})";
  CHECK(c.request("PUT", "/api/v1/households/1/payout-account", R"({"bank":"x","account_number":"12ab","holder":"y"})",
                  bearer(office)).status == 400);
  CHECK(c.request("PUT", "/api/v1/households/1/payout-account", account, bearer(consumer)).status == 403);
  auto set = c.request("PUT", "/api/v1/households/1/payout-account", account, bearer(office));
  REQUIRE(set.status == 200);
  CHECK(set.body.find("6228480402564890018") == std::string::npos);
  auto batch = c.request("POST", "/api/v1/payout-batches", "", bearer(centre, {{"Idempotency-Key", "batch-1"}}));
  REQUIRE(batch.status == 201);
  CHECK(json_int(batch.body, "total_fen") == 7122);
  CHECK(batch.body.find("6228480402564890018") == std::string::npos);
  const std::string path = "/api/v1/payout-batches/" + std::to_string(json_int(batch.body, "id"));
  auto file = c.request("GET", path + "/bank-file", "", bearer(centre));
  CHECK(file.body.find("6228480402564890018") != std::string::npos);
  CHECK(c.request("GET", path + "/bank-file", "", bearer(office)).status == 403);
  REQUIRE(post_json(c, path + "/confirmation", R"({})", bearer(centre)).status == 200);
  auto balance = c.request("GET", "/api/v1/households/1/balance", "", bearer(office));
  CHECK(json_int(balance.body, "balance_fen") == 0);
}

STORE_TEST("a delivered order the buyer does not confirm completes and settles after the window", "[http][payments]") {
  TestServer server(store_kind, "minqin", [](Config& c) { c.auto_confirm_ms = 1000; });
  HttpClient c(server.port());
  const std::string consumer = server.login(kConsumer), centre = server.login(kCentre);
  const Bought b = buy_and_pay(server, c, consumer);
  const std::string order_path = "/api/v1/orders/" + std::to_string(b.order);
  REQUIRE(post_json(c, order_path + "/status", R"({"status":"packed"})", bearer(server.login(kFarmer))).status == 200);
  REQUIRE(post_json(c, order_path + "/status", R"({"status":"shipped"})", bearer(centre)).status == 200);
  REQUIRE(post_json(c, order_path + "/status", R"({"status":"delivered"})", bearer(centre)).status == 200);
  REQUIRE(eventually([&] { return order_status(c, consumer, b.order) == "completed"; }));
  REQUIRE(eventually([&] { return server.count("SELECT COUNT(*) FROM settlement_lines") == 1; }));
  CHECK(server.count("SELECT status = 'settled' FROM payment_orders") == 1);
}
