// Payments over real TCP: pay in the sandbox, the signed callback, delivery, settlement,
// the household's statement and its verification, refunds, reconciliation and payouts.
#include <sys/stat.h>

#include <thread>

#include "core/config.hpp"
#include "core/json.hpp"
#include "payments/accounts.hpp"
#include "payments/ledger.hpp"
#include "payments/provider.hpp"
#include "payments/refunds.hpp"
#include "payments/wechatpay/provider.hpp"
#include "tests/support/flows.hpp"
#include "tests/support/paysandbox.hpp"
#include "tests/support/server.hpp"

using namespace cunhuo;
using namespace cunhuo::test;

namespace {

namespace wx = payments::wechatpay;

HttpReply notify(HttpClient& c, const payments::Notification& n) {
  return c.request("POST", "/api/v1/payments/notify", n.body,
                   {{"Content-Type", "application/json"},
                    {wx::kSerialHeader, n.serial},
                    {wx::kTimestampHeader, n.timestamp},
                    {wx::kNonceHeader, n.nonce},
                    {wx::kSignatureHeader, n.signature}});
}

payments::Notification as_notice(const paysandbox::Sandbox::Sealed& s) {
  return payments::Notification{s.serial, s.timestamp, s.nonce, s.signature, s.body};
}

// A transaction as the sandbox notifies it.
std::string transaction(std::int64_t intent, std::int64_t total,
                        const std::string& out_trade_no = "") {
  return wx::encode(wx::Transaction{
      .appid = "wxcunhuo000sandbox",
      .mchid = "1900000109",
      .out_trade_no = out_trade_no.empty() ? wx::out_trade_no(intent) : out_trade_no,
      .transaction_id = "4200000000000000000000000077",
      .trade_type = "MWEB",
      .trade_state = "SUCCESS",
      .success_time = "",
      .total = total});
}

std::string this_month() { return format_date(shanghai_date(SystemClock().now_ms())).substr(0, 7); }
std::string today() { return format_date(shanghai_date(SystemClock().now_ms())); }

}  // namespace

STORE_TEST(
    "buy, pay in the sandbox, deliver, and the farmer's statement shows the sale and verifies",
    "[http][payments]") {
  TestServer server(store_kind);
  HttpClient c(server.port());
  const std::string consumer = server.login(kConsumer), farmer = server.login(kFarmer),
                    centre = server.login(kCentre);
  const Bought b = buy(server, c, consumer);
  auto intent = start_payment(c, consumer, b.checkout, "pay-1");
  REQUIRE(intent.status == 201);
  CHECK(json_int(intent.body, "amount_fen") == 2 * 3980);
  CHECK(start_payment(c, consumer, b.checkout, "pay-1").body ==
        intent.body);  // a retry gets the same intent
  const std::string pay_url = str_field(intent.body, "pay_url");
  auto page = on_pay_page(pay_url, "page");
  CHECK(page.status == 200);
  CHECK(page.body.find("79.60") != std::string::npos);
  REQUIRE(on_pay_page(pay_url).status == 200);
  REQUIRE(eventually([&] { return order_status(c, consumer, b.order) == "paid"; }));
  // The sandbox sends every notification twice: both taken (two nonces), the money moved once.
  deliver_notifications(server);
  REQUIRE(eventually([&] { return server.count("SELECT COUNT(*) FROM provider_nonces") == 2; }));
  CHECK(server.count("SELECT COUNT(*) FROM ledger_transfers WHERE transfer_key LIKE 'pay:%'") == 1);

  const std::string order_path = "/api/v1/orders/" + std::to_string(b.order);
  CHECK(post_json(c, order_path + "/status", R"({"status":"packed"})", bearer(farmer)).status ==
        200);
  CHECK(post_json(c, order_path + "/status", R"({"status":"shipped"})", bearer(farmer)).status ==
        403);
  // Shipped and delivered follow the parcels' scans, not a word from staff.
  CHECK(post_json(c, order_path + "/status", R"({"status":"shipped"})", bearer(centre)).status ==
        409);
  deliver_by_scans(server, c, b.order);
  CHECK(c.request("POST", order_path + "/confirm-receipt", "", bearer(farmer)).status == 403);
  REQUIRE(c.request("POST", order_path + "/confirm-receipt", "", bearer(consumer)).status == 200);
  auto balance = [&] {
    return json_int(c.request("GET", "/api/v1/households/1/balance", "", bearer(farmer)).body,
                    "balance_fen");
  };
  REQUIRE(eventually([&] { return balance() > 0; }));
  // 7960 less 3% platform fee (238) and the 600 logistics fee; a household shop pays no commission.
  CHECK(balance() == 7960 - 238 - 600);

  auto statement =
      c.request("GET", "/api/v1/households/1/statements/" + this_month(), "", bearer(farmer));
  REQUIRE(statement.status == 200);
  CHECK(statement.body.find("\"order_id\":" + std::to_string(b.order)) != std::string::npos);
  CHECK(statement.body.find("\"net_fen\":7122") != std::string::npos);
  auto verified = c.request("POST", "/api/v1/statements/verify", statement.body);
  CHECK(verified.body.find("\"genuine\":true") != std::string::npos);
  std::string altered = statement.body;
  altered.replace(altered.find("\"net_fen\":7122"), 14, "\"net_fen\":7123");
  auto tampered = c.request("POST", "/api/v1/statements/verify", altered);
  CHECK(tampered.body.find("\"genuine\":false") != std::string::npos);

  auto csv = c.request("GET", "/api/v1/households/1/statements/" + this_month() + "?format=csv", "",
                       bearer(farmer));
  CHECK(csv.status == 200);
  CHECK(csv.header("content-type").value_or("").find("text/csv") == 0);
  CHECK(csv.body.find("71.22") != std::string::npos);
  auto html = c.request("GET", "/api/v1/households/1/statements/" + this_month() + "?format=html",
                        "", bearer(farmer));
  CHECK(html.status == 200);
  CHECK(html.body.find("民勤沙漠蜜瓜") != std::string::npos);
  // Another farmer, and a consumer, cannot see household 1's statement; the office can.
  CHECK(c.request("GET", "/api/v1/households/1/statements/" + this_month(), "",
                  bearer(server.login(kOtherFarmer)))
            .status == 404);
  CHECK(c.request("GET", "/api/v1/households/1/statements/" + this_month(), "", bearer(consumer))
            .status == 404);
  CHECK(c.request("GET", "/api/v1/households/1/statements/" + this_month(), "",
                  bearer(server.login(kOffice)))
            .status == 200);
  CHECK(c.request("GET", "/api/v1/households/1/statements/2026-13", "", bearer(farmer)).status ==
        400);
}

// Refusals in order of precedence; each answers 4xx (the provider sends it again) and
// writes nothing: no money, no intent paid, not even the nonce.
STORE_TEST("forged, stale, undecryptable, unknown and wrong-amount notifications change nothing",
           "[http][payments][bad-input]") {
  TestServer server(store_kind, "fixture", {}, ServerClock::manual);
  HttpClient c(server.port());
  const std::string consumer = server.login(kConsumer);
  const Bought b = buy(server, c, consumer);
  auto intent = start_payment(c, consumer, b.checkout, "pay-1");
  REQUIRE(intent.status == 201);
  const auto id = json_int(intent.body, "id");
  auto& sandbox = *server.app().payment_sandbox();
  auto seal = [&](const std::string& resource) {
    auto sealed = sandbox.seal("TRANSACTION.SUCCESS", resource);
    REQUIRE(sealed.ok());
    return as_notice(*sealed);
  };
  const auto good = seal(transaction(id, 7960));
  auto other_key = wx::decode_envelope(good.body);  // sealed under another APIv3 key
  REQUIRE(other_key.ok());
  other_key->resource.ciphertext = *wx::aes_gcm_seal(
      wx::random_token(32), other_key->resource.nonce, "transaction", transaction(id, 7960));
  const auto undecryptable = sandbox.sign(wx::encode(*other_key));
  REQUIRE(undecryptable.ok());
  auto bad_signature = good;
  bad_signature.body += " ";
  auto unknown_serial = good;
  unknown_serial.serial = "0000DEADBEEF";
  auto unknown_public_key = good;  // a WeChat Pay public key this merchant was not given
  unknown_public_key.serial = "PUB_KEY_ID_01142321349124100000000000000009";
  const struct {
    const char* name;
    payments::Notification notice;
    std::chrono::minutes late;
    int status;
    std::string code;
  } cases[] = {
      {"unknown serial", unknown_serial, std::chrono::minutes(5), 401, "unknown_serial"},
      {"unknown public key id", unknown_public_key, std::chrono::minutes(5), 401, "unknown_serial"},
      {"bad signature", bad_signature, std::chrono::minutes(5), 401, "bad_signature"},
      {"stale timestamp", good, std::chrono::minutes(5), 401, "stale"},
      {"undecryptable resource", as_notice(*undecryptable), std::chrono::minutes(0), 401,
       "undecryptable"},
      {"unknown out_trade_no", seal(transaction(id, 7960, "CUNHUO999999")), std::chrono::minutes(0),
       422, "unknown_intent"},
      {"amount differs", seal(transaction(id, 1)), std::chrono::minutes(0), 422, "amount_mismatch"},
  };
  for (const auto& refusal : cases) {
    INFO(refusal.name);
    server.advance(refusal.late);
    auto answer = notify(c, refusal.notice);
    server.advance(-refusal.late);
    CHECK(answer.status == refusal.status);
    CHECK(error_code(answer) == refusal.code);
    CHECK(answer.body.starts_with(R"({"code":"FAIL","message":)"));  // as WeChat Pay reads it
    CHECK(server.count("SELECT COUNT(*) FROM ledger_transfers") == 0);
    CHECK(server.count("SELECT COUNT(*) FROM provider_nonces") == 0);
    CHECK(server.count("SELECT COUNT(*) FROM payment_intents WHERE status = 'succeeded'") == 0);
  }
  CHECK(notify(c, good).status == 200);
  CHECK(notify(c, good).status == 422);                         // the same nonce again is a replay
  CHECK(notify(c, seal(transaction(id, 7960))).status == 200);  // a duplicate: taken, a no-op
  CHECK(server.count("SELECT COUNT(*) FROM ledger_transfers") == 1);
}

STORE_TEST("a cancelled or already paid checkout cannot be paid", "[http][payments][bad-input]") {
  TestServer server(store_kind);
  HttpClient c(server.port());
  const std::string consumer = server.login(kConsumer);
  const Bought b = buy(server, c, consumer);
  REQUIRE(c.request("POST", "/api/v1/orders/" + std::to_string(b.order) + "/cancel", "",
                    bearer(consumer))
              .status == 200);
  auto refused = start_payment(c, consumer, b.checkout, "pay-1");
  CHECK(refused.status == 409);
  CHECK(error_code(refused) == "checkout_not_payable");
  const Bought paid = buy_and_pay(server, c, consumer);
  auto again = start_payment(c, consumer, paid.checkout, "a-new-key");
  CHECK(again.status == 409);
  CHECK(start_payment(c, server.login("13900000004"), paid.checkout, "pay-3").status ==
        404);  // not their checkout
  CHECK(c.request("POST", "/api/v1/checkouts/" + std::to_string(paid.checkout) + "/payments", "",
                  bearer(consumer))
            .status == 400);
  CHECK(server.count("SELECT COUNT(*) FROM ledger_transfers WHERE transfer_key LIKE 'pay:%'") == 1);
}

STORE_TEST(
    "a refund claim above what was paid is refused; an approved one goes back through the provider",
    "[http][payments][refunds]") {
  TestServer server(store_kind);
  HttpClient c(server.port());
  const std::string consumer = server.login(kConsumer), centre = server.login(kCentre);
  const Bought b = buy_and_pay(server, c, consumer);
  const std::string claims = "/api/v1/orders/" + std::to_string(b.order) + "/refund-claims";
  auto over = post_json(c, claims, R"({"amount_fen":7961,"reason":"bruised"})",
                        bearer(consumer, {{"Idempotency-Key", "r0"}}));
  CHECK(over.status == 409);
  CHECK(error_code(over) == "exceeds_paid");
  CHECK(post_json(c, claims, R"({"amount_fen":-1,"reason":"x"})",
                  bearer(consumer, {{"Idempotency-Key", "r1"}}))
            .status == 400);
  CHECK(post_json(c, claims, R"({"amount_fen":"10","reason":"x"})",
                  bearer(consumer, {{"Idempotency-Key", "r2"}}))
            .status == 400);
  CHECK(post_json(c, claims, R"({"amount_fen":10,"reason":"x"})",
                  bearer(server.login("13900000004"), {{"Idempotency-Key", "r3"}}))
            .status == 404);
  auto claim = post_json(c, claims, R"({"amount_fen":3980,"reason":"one melon split"})",
                         bearer(consumer, {{"Idempotency-Key", "r4"}}));
  REQUIRE(claim.status == 201);
  const std::string decision =
      "/api/v1/refund-claims/" + std::to_string(json_int(claim.body, "id")) + "/decision";
  CHECK(post_json(c, decision, R"({"approve":true,"bearer":"nobody"})", bearer(centre)).status ==
        400);
  CHECK(post_json(c, decision, R"({"approve":true,"bearer":"shop"})", bearer(consumer)).status ==
        403);
  auto approved = post_json(c, decision, R"({"approve":true,"bearer":"shop"})", bearer(centre));
  REQUIRE(approved.status == 200);
  CHECK(str_field(approved.body, "status") == "approved");
  server.app().housekeep_now();  // the pass that sends requested refunds to the provider
  // Sent (and perhaps settled already by the sandbox's REFUND.SUCCESS notification).
  CHECK(server.count("SELECT COUNT(*) FROM provider_refunds WHERE status IN ('sent', "
                     "'succeeded')") == 1);
  auto key = server.app().db().read(
      [](db::Session& s) { return s.query_one("SELECT refund_key FROM provider_refunds"); });
  REQUIRE(key.ok());
  auto& adapter = dynamic_cast<wx::WechatPayProvider&>(server.app().provider());
  auto at_provider = adapter.query_refund((*key)->str(0));
  REQUIRE(at_provider.ok());
  CHECK(at_provider->status == "SUCCESS");
  CHECK(at_provider->refund == 3980);
  CHECK(at_provider->total == 7960);
  // The provider's REFUND.SUCCESS notification is opened and acknowledged.
  const auto before = server.count("SELECT COUNT(*) FROM ledger_transfers");
  CHECK(deliver_notifications(server) >= 0);
  CHECK(server.count("SELECT COUNT(*) FROM ledger_transfers") == before);
  CHECK(post_json(c, decision, R"({"approve":false})", bearer(centre)).status == 409);
}

STORE_TEST("the day's bill reconciles with the books, and a difference is reported",
           "[http][payments][reconciliation]") {
  TestServer server(store_kind);
  HttpClient c(server.port());
  const std::string consumer = server.login(kConsumer), centre = server.login(kCentre);
  buy_and_pay(server, c, consumer);
  const std::string body = R"({"date":")" + today() + R"("})";
  auto clean = post_json(c, "/api/v1/reconciliations", body, bearer(centre));
  REQUIRE(clean.status == 201);
  CHECK(json_int(clean.body, "matched") == 1);
  CHECK(clean.body.find("\"differences\":[]") != std::string::npos);
  auto bill = server.app().provider().bill(today());  // the trade bill, its SHA1 checked
  REQUIRE(bill.ok());
  REQUIRE(bill->size() == 1);
  CHECK(bill->front().amount_fen == 7960);
  // The provider's books say something else: the centre sees it.
  REQUIRE(sandbox_books(server)
              ->write([](db::Session& tx) -> Status {
                CUNHUO_TRY(tx.exec("UPDATE sb_orders SET total_fen = 7000"));
                return {};
              })
              .ok());
  REQUIRE(post_json(c, "/api/v1/reconciliations", body, bearer(centre)).status == 201);
  auto report = c.request("GET", "/api/v1/reconciliations/" + today(), "", bearer(centre));
  REQUIRE(report.status == 200);
  CHECK(report.body.find("amount_mismatch") != std::string::npos);
  CHECK(c.request("GET", "/api/v1/reconciliations/" + today(), "", bearer(consumer)).status == 403);
  CHECK(
      post_json(c, "/api/v1/reconciliations", R"({"date":"2026-02-30"})", bearer(centre)).status ==
      400);
}

STORE_TEST(
    "household earnings are paid out in a batch with account numbers masked but in the bank file",
    "[http][payments][payouts]") {
  TestServer server(store_kind);
  HttpClient c(server.port());
  const std::string consumer = server.login(kConsumer), centre = server.login(kCentre),
                    office = server.login(kOffice);
  const Bought b = buy_and_pay(server, c, consumer);
  const std::string order_path = "/api/v1/orders/" + std::to_string(b.order);
  REQUIRE(
      post_json(c, order_path + "/status", R"({"status":"packed"})", bearer(server.login(kFarmer)))
          .status == 200);
  deliver_by_scans(server, c, b.order);
  REQUIRE(c.request("POST", order_path + "/confirm-receipt", "", bearer(consumer)).status == 200);
  REQUIRE(eventually([&] { return server.count("SELECT COUNT(*) FROM settlement_lines") == 1; }));
  const std::string account =
      R"({"bank":"甘肃农村信用社","account_number":"6228480402564890018","holder":"王建国"})";
  CHECK(c.request("PUT", "/api/v1/households/1/payout-account",
                  R"({"bank":"x","account_number":"12ab","holder":"y"})", bearer(office))
            .status == 400);
  CHECK(c.request("PUT", "/api/v1/households/1/payout-account", account, bearer(consumer)).status ==
        403);
  auto set = c.request("PUT", "/api/v1/households/1/payout-account", account, bearer(office));
  REQUIRE(set.status == 200);
  CHECK(set.body.find("6228480402564890018") == std::string::npos);
  auto batch = c.request("POST", "/api/v1/payout-batches", "",
                         bearer(centre, {{"Idempotency-Key", "batch-1"}}));
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

STORE_TEST("a delivered order the buyer does not confirm completes and settles after the window",
           "[http][payments]") {
  TestServer server(store_kind, "fixture", {}, ServerClock::manual);
  HttpClient c(server.port());
  const std::string consumer = server.login(kConsumer), centre = server.login(kCentre);
  const Bought b = buy_and_pay(server, c, consumer);
  const std::string order_path = "/api/v1/orders/" + std::to_string(b.order);
  REQUIRE(
      post_json(c, order_path + "/status", R"({"status":"packed"})", bearer(server.login(kFarmer)))
          .status == 200);
  deliver_by_scans(server, c, b.order);
  // The window is the configured one; each housekeeping pass is run on demand, so the
  // clock alone says when the order completes.
  const std::chrono::milliseconds window(Config{}.auto_confirm_ms);
  server.advance(window - std::chrono::milliseconds(1));
  server.app().housekeep_now();
  CHECK(order_status(c, consumer, b.order) == "delivered");
  server.advance(std::chrono::milliseconds(1));
  server.app().housekeep_now();
  CHECK(order_status(c, consumer, b.order) == "completed");
  // Settling it is the outbox's work, on its own thread.
  REQUIRE(eventually([&] { return server.count("SELECT COUNT(*) FROM settlement_lines") == 1; }));
  CHECK(server.count("SELECT status = 'settled' FROM payment_orders") == 1);
}

namespace {

// Did the router find a route for the request (whatever the route answered)?
bool routed(const HttpReply& r) {
  if (r.status != 404) return true;
  auto doc = Json::parse(r.body);
  const Json* error = doc.ok() ? doc->find("error") : nullptr;
  return error && error->find("code") && error->find("code")->as_string() != "route_not_found";
}

}  // namespace

STORE_TEST("the sandbox pays only through its pay URL: a guessed one is no payment",
           "[http][payments][sandbox]") {
  TestServer server(store_kind);
  HttpClient c(server.port());
  const std::string consumer = server.login(kConsumer);
  const Bought b = buy(server, c, consumer);
  auto intent = start_payment(c, consumer, b.checkout, "pay-1");
  REQUIRE(intent.status == 201);
  const std::string pay_url = str_field(intent.body, "pay_url");
  std::string altered = pay_url;
  altered.back() = altered.back() == 'A' ? 'B' : 'A';
  const std::string guessed =
      pay_url.substr(0, pay_url.rfind('/') + 1) + "wx" + std::string(30, '0');
  for (const std::string& url : {guessed, altered}) {
    INFO(url);
    CHECK(on_pay_page(url, "page").status == 404);
    CHECK(on_pay_page(url, "confirm").status == 404);
    CHECK(on_pay_page(url, "fail").status == 404);
  }
  CHECK(order_status(c, consumer, b.order) == "pending_payment");
  // The payer's browser, with no session of the platform, pays and is sent back.
  auto paid = on_pay_page(pay_url, "confirm", /*browser=*/true);
  REQUIRE(paid.status == 303);
  CHECK(
      paid.header("location") ==
      std::optional<std::string>("http://127.0.0.1:" + std::to_string(server.port()) + "/orders"));
  REQUIRE(eventually([&] { return order_status(c, consumer, b.order) == "paid"; }));
}

STORE_TEST("with the sandbox off every payments route answers, paying is a 503, and /sim is gone",
           "[http][payments][sandbox]") {
  TestServer server(store_kind, "fixture", [](Config& c) { c.payment_simulator = false; });
  HttpClient c(server.port());
  const std::string consumer = server.login(kConsumer), centre = server.login(kCentre),
                    office = server.login(kOffice), farmer = server.login(kFarmer);
  const Bought b = buy(server, c, consumer);
  auto pay = start_payment(c, consumer, b.checkout, "pay-1");
  CHECK(pay.status == 503);
  CHECK(error_code(pay) == "provider_unavailable");
  CHECK(server.count("SELECT COUNT(*) FROM payment_intents") == 0);
  const std::string account =
      R"({"bank":"甘肃农村信用社","account_number":"6228480402564890018","holder":"王建国"})";
  CHECK(c.request("PUT", "/api/v1/households/1/payout-account", account, bearer(office)).status ==
        200);
  CHECK(c.request("GET", "/api/v1/households/1/balance", "", bearer(farmer)).status == 200);
  CHECK(c.request("GET", "/api/v1/households/1/statements/" + this_month(), "", bearer(farmer))
            .status == 200);
  CHECK(c.request("POST", "/api/v1/payout-batches", "", bearer(centre, {{"Idempotency-Key", "b1"}}))
            .status == 201);
  CHECK(notify(c, payments::Notification{"serial", "0", "n", "sig", "{}"}).status ==
        503);  // no provider: the provider will send it again
  const std::string order = "/api/v1/orders/" + std::to_string(b.order);
  const std::vector<std::pair<std::string, std::string>> routes = {
      {"GET", "/api/v1/payments/1"},
      {"POST", order + "/refund-claims"},
      {"GET", "/api/v1/refund-claims/1"},
      {"POST", "/api/v1/refund-claims/1/decision"},
      {"POST", "/api/v1/statements/verify"},
      {"GET", "/api/v1/households/1/payout-account"},
      {"GET", "/api/v1/payout-batches/1"},
      {"GET", "/api/v1/payout-batches/1/bank-file"},
      {"POST", "/api/v1/payout-batches/1/confirmation"},
      {"POST", "/api/v1/reconciliations"},
      {"GET", "/api/v1/reconciliations/" + today()},
  };
  for (const auto& [method, path] : routes) {
    INFO(method << " " << path);
    CHECK(routed(c.request(method, path, method == "GET" ? "" : "{}",
                           bearer(centre, {{"Idempotency-Key", "k-" + path}}))));
  }
  auto reconcile =
      post_json(c, "/api/v1/reconciliations", R"({"date":")" + today() + R"("})", bearer(centre));
  CHECK(reconcile.status == 503);
  for (const auto& path : {std::string("/sim/pay/1/token"), "/sim/bills/" + today()}) {
    INFO(path);
    CHECK_FALSE(routed(c.request("GET", path, "", bearer(centre))));
  }
  CHECK_FALSE(routed(c.request("POST", "/sim/pay/1/token/confirm", "", bearer(consumer))));
}

TEST_CASE("the sandbox refuses to start beyond loopback unless it is a demonstration",
          "[http][payments][sandbox]") {
  TestStore store(StoreKind::sqlite);
  auto open = [&](const char* host, bool sandbox, bool demo) {
    Config config;
    config.listen_host = host;
    config.listen_port = 0;
    config.db_url = store.url();
    config.seed = "none";
    config.data_dir = temp_dir();
    config.payment_simulator = sandbox;
    config.sms = "off";  // the text message sandbox has its own test (accounts_http_test)
    config.demo = demo;
    SystemClock clock;
    auto app = storefront::App::open(config, clock);
    return app.ok() ? std::string() : app.error().code;
  };
  CHECK(open("0.0.0.0", true, false) == "sandbox_exposed");
  CHECK(open("192.168.1.20", true, false) == "sandbox_exposed");
  CHECK(open("0.0.0.0", true, true).empty());
  CHECK(open("0.0.0.0", false, false).empty());
  CHECK(open("127.0.0.1", true, false).empty());
  // A sandbox started elsewhere (deploy/run.sh's cunhuo-paysandbox) is refused alike.
  ManualClock clock(SystemClock().now_ms());
  PaySandbox provider(clock, SandboxSetup{.notify_url = "http://127.0.0.1:1/notify"});
  auto sandbox_yes = provider.config();
  sandbox_yes.sandbox = true;
  REQUIRE(payments::wechatpay::write_config(provider.config_file(), sandbox_yes).ok());
  auto with_config = [&](const char* host, bool demo) {
    Config config;
    config.listen_host = host;
    config.listen_port = 0;
    config.db_url = store.url();
    config.seed = "none";
    config.data_dir = temp_dir();
    config.wechatpay_config = provider.config_file();
    config.sms = "off";
    config.demo = demo;
    SystemClock system;
    auto app = storefront::App::open(config, system);
    return app.ok() ? std::string() : app.error().code;
  };
  CHECK(with_config("0.0.0.0", false) == "sandbox_exposed");
  CHECK(with_config("0.0.0.0", true).empty());
  CHECK(with_config("127.0.0.1", false).empty());
  auto flags = load_config({"--listen", "0.0.0.0:8080", "--demo"}, {});
  REQUIRE(flags.ok());
  CHECK(flags->demo);
  auto env = load_config({}, {{"CUNHUO_DEMO", "on"}});
  REQUIRE(env.ok());
  CHECK(env->demo);
  CHECK_FALSE(load_config({}, {{"CUNHUO_DEMO", "yes"}}).ok());
}

TEST_CASE("behind a proxy the sandbox refuses to start though it listens on loopback",
          "[http][payments][sandbox]") {
  // The shipped unit listens on 127.0.0.1 with nginx in front: what says the public reaches
  // it is the proxy it trusts, or its cookies being for TLS.
  struct Front {
    const char* name;
    std::vector<std::string> trusted_proxies;
    bool secure_cookies;
  };
  const std::vector<Front> fronts = {
      {"a trusted proxy", {"127.0.0.1/32"}, false},
      {"secure cookies", {}, true},
      {"both", {"10.0.0.0/8"}, true},
  };
  TestStore store(StoreKind::sqlite);
  ManualClock clock(SystemClock().now_ms());
  PaySandbox provider(clock, SandboxSetup{.notify_url = "http://127.0.0.1:1/notify"});
  auto sandbox_yes = provider.config();
  sandbox_yes.sandbox = true;
  REQUIRE(payments::wechatpay::write_config(provider.config_file(), sandbox_yes).ok());
  for (const auto& front : fronts) {
    auto open = [&](bool in_process, bool demo) {
      Config config;
      config.listen_host = "127.0.0.1";
      config.listen_port = 0;
      config.db_url = store.url();
      config.seed = "none";
      config.data_dir = temp_dir();
      config.trusted_proxies = front.trusted_proxies;
      config.secure_cookies = front.secure_cookies;
      if (in_process)
        config.payment_simulator = true;
      else
        config.wechatpay_config = provider.config_file();
      config.sms = "off";
      config.demo = demo;
      SystemClock system;
      auto app = storefront::App::open(config, system);
      return app.ok() ? std::string() : app.error().code;
    };
    INFO(front.name);
    CHECK(open(true, false) == "sandbox_exposed");
    CHECK(open(false, false) == "sandbox_exposed");
    CHECK(open(true, true).empty());  // a demonstration may show it
  }
}

TEST_CASE("unless told, the payment sandbox runs only for a demonstration or a sample store",
          "[http][payments][sandbox]") {
  struct Case {
    const char* name;
    std::vector<std::string> args;
    bool sandbox;
  };
  const std::vector<Case> cases = {
      {"a deployment that says nothing", {"--seed", "none"}, false},
      {"its own seed", {"--seed", "county"}, false},
      {"said off, on the fixture", {"--seed", "fixture", "--payment-simulator", "off"}, false},
      {"said on", {"--seed", "none", "--payment-simulator", "on"}, true},
      {"a demonstration", {"--seed", "none", "--demo"}, true},
      {"the tests' fixture", {"--seed", "fixture"}, true},
      {"the demo county", {"--seed", "minqin"}, true},
  };
  for (const auto& c : cases) {
    INFO(c.name);
    auto config = load_config(c.args, {});
    REQUIRE(config.ok());
    CHECK(storefront::payment_simulator_on(*config) == c.sandbox);
  }
  // Opened so, a store of its own has no sandbox and takes no payment.
  TestStore store(StoreKind::sqlite);
  auto config = load_config({"--seed", "none"}, {});
  REQUIRE(config.ok());
  config->listen_host = "127.0.0.1";
  config->listen_port = 0;
  config->db_url = store.url();
  config->data_dir = temp_dir();
  config->sms = "off";
  SystemClock system;
  auto app = storefront::App::open(*config, system);
  REQUIRE(app.ok());
  CHECK((*app)->payment_sandbox() == nullptr);
}

namespace {

// Money in one escrow, then that account's credits and debits both grown by 5 fen behind
// the ledger's back: every balance, and so their sum, stays as it was.
Status tamper_one_account(db::Database& db, const Clock& clock) {
  return db.write([&](db::Session& tx) -> Status {
    const payments::AccountSpec specs[] = {{"provider:sim", true}, {"escrow:order:1", false}};
    CUNHUO_CHECK(payments::open_accounts(tx, specs, clock));
    const payments::Transfer in{.key = "in",
                                .debit = "provider:sim",
                                .credit = "escrow:order:1",
                                .amount = Money::fen(1000),
                                .kind = payments::TransferKind::posted,
                                .pending_key = "",
                                .reference = "t",
                                .memo = ""};
    CUNHUO_TRY(payments::transfer(tx, std::span(&in, 1), clock));
    CUNHUO_TRY(
        tx.exec("UPDATE ledger_accounts SET credits_posted = credits_posted + 5, "
                "debits_posted = debits_posted + 5 WHERE code = 'escrow:order:1'"));
    return {};
  });
}

}  // namespace

TEST_CASE("the service refuses to start on a store whose ledger was tampered with",
          "[http][payments][ledger]") {
  TestStore store(StoreKind::sqlite);
  store.migrate();
  ManualClock clock(1'790'000'000'000);
  REQUIRE(tamper_one_account(store.db(), clock).ok());
  Config config;
  config.listen_port = 0;
  config.db_url = store.url();
  config.seed = "none";
  config.data_dir = temp_dir();
  auto app = storefront::App::open(config, clock);
  REQUIRE_FALSE(app.ok());
  CHECK(app.error().code == "ledger_mismatch");
}

STORE_TEST(
    "a buyer cannot cancel a paid order; the centre's cancellation refunds it and cancels its "
    "shipments",
    "[http][payments][cancel]") {
  TestServer server(store_kind);
  HttpClient c(server.port());
  const std::string consumer = server.login(kConsumer), centre = server.login(kCentre);
  const Bought b = buy_and_pay(server, c, consumer);
  const std::string order = std::to_string(b.order);
  REQUIRE(eventually([&] {
    return server.count("SELECT COUNT(*) FROM shipments WHERE order_id = " + order) > 0;
  }));
  auto by_buyer = c.request("POST", "/api/v1/orders/" + order + "/cancel", "", bearer(consumer));
  CHECK(by_buyer.status == 409);
  CHECK(error_code(by_buyer) == "order_paid");
  CHECK(order_status(c, consumer, b.order) == "paid");
  CHECK(c.request("POST", "/api/v1/orders/" + order + "/cancel", "", bearer(server.login(kFarmer)))
            .status == 404);
  REQUIRE(c.request("POST", "/api/v1/orders/" + order + "/cancel", "", bearer(centre)).status ==
          200);
  // The outbox requests the refund; the next housekeeping pass sends it to the provider.
  REQUIRE(eventually([&] { return server.count("SELECT COUNT(*) FROM provider_refunds") == 1; }));
  server.app().housekeep_now();
  CHECK(server.count("SELECT COUNT(*) FROM provider_refunds WHERE status IN ('sent', "
                     "'succeeded')") == 1);
  CHECK(refunded_at_provider(server) == 7960);
  CHECK(
      server.count("SELECT COUNT(*) FROM payment_orders WHERE status = 'refunded' AND order_id = " +
                   order) == 1);
  REQUIRE(eventually([&] {
    return server.count(
               "SELECT COUNT(*) FROM shipments WHERE status <> 'cancelled' AND order_id = " +
               order) == 0;
  }));
  // The money went back once, and nothing is left to claim.
  auto claim = post_json(c, "/api/v1/orders/" + order + "/refund-claims",
                         R"({"amount_fen":100,"reason":"x"})",
                         bearer(consumer, {{"Idempotency-Key", "late"}}));
  CHECK(claim.status == 409);
}

// The refund of a paid order the centre cancelled, sent to the provider (PROCESSING: `sent`).
struct SentRefund {
  std::int64_t intent_id = 0;
  std::string refund_key;
};
SentRefund send_a_refund(TestServer& server, HttpClient& c) {
  const std::string consumer = server.login(kConsumer), centre = server.login(kCentre);
  const Bought b = buy_and_pay(server, c, consumer);
  // The sandbox's REFUND.SUCCESS goes only when the test delivers it.
  server.app().payment_sandbox()->hold_background_delivery(true);
  const std::string order = std::to_string(b.order);
  REQUIRE(c.request("POST", "/api/v1/orders/" + order + "/cancel", "", bearer(centre)).status ==
          200);
  REQUIRE(eventually([&] { return server.count("SELECT COUNT(*) FROM provider_refunds") == 1; }));
  server.app().housekeep_now();
  REQUIRE(server.count("SELECT COUNT(*) FROM provider_refunds WHERE status = 'sent'") == 1);
  auto row = server.app().db().read([](db::Session& s) {
    return s.query_one("SELECT intent_id, refund_key FROM provider_refunds");
  });
  REQUIRE(row.ok());
  return SentRefund{(*row)->i64(0), (*row)->str(1)};
}

std::string refund_resource(std::int64_t intent, const std::string& out_refund_no,
                            const char* status, std::int64_t fen = 7960) {
  return wx::encode(wx::RefundRecord{.mchid = "1900000109",
                                     .refund_id = "503000000000000000000001",
                                     .out_refund_no = out_refund_no,
                                     .transaction_id = "4200000000000000000000000077",
                                     .out_trade_no = wx::out_trade_no(intent),
                                     .status = status,
                                     .success_time = "",
                                     .refund = fen,
                                     .total = 7960});
}

// Refusals in order of precedence: the refund must be one sent, then of its amount.
STORE_TEST("a refund's ABNORMAL outcome is recorded for staff; one never sent is refused",
           "[http][payments][refund-outcome]") {
  TestServer server(store_kind);
  HttpClient c(server.port());
  const SentRefund sent = send_a_refund(server, c);
  const std::string no = wx::out_refund_no(sent.refund_key);
  auto& sandbox = *server.app().payment_sandbox();
  auto seal = [&](const char* event, const std::string& resource) {
    auto sealed = sandbox.seal(event, resource);
    REQUIRE(sealed.ok());
    return as_notice(*sealed);
  };
  const struct {
    const char* name;
    std::string resource;
  } refusals[] = {
      {"an out_refund_no never sent", refund_resource(sent.intent_id, "never_asked", "ABNORMAL")},
      {"another intent", refund_resource(sent.intent_id + 1000, no, "ABNORMAL")},
      {"another amount", refund_resource(sent.intent_id, no, "ABNORMAL", 7959)},
  };
  for (const auto& r : refusals) {
    INFO(r.name);
    auto answer = notify(c, seal("REFUND.ABNORMAL", r.resource));
    CHECK(answer.status == 422);
    CHECK(error_code(answer) == "unknown_refund");
    CHECK(server.count("SELECT COUNT(*) FROM provider_refunds WHERE status = 'sent'") == 1);
  }
  auto abnormal =
      notify(c, seal("REFUND.ABNORMAL", refund_resource(sent.intent_id, no, "ABNORMAL")));
  CHECK(abnormal.status == 200);
  CHECK(server.count("SELECT COUNT(*) FROM provider_refunds WHERE status = 'abnormal'") == 1);
  // A later word does not undo it: staff settle it (the money is still at the provider).
  CHECK(notify(c, seal("REFUND.SUCCESS", refund_resource(sent.intent_id, no, "SUCCESS"))).status ==
        200);
  CHECK(server.count("SELECT COUNT(*) FROM provider_refunds WHERE status = 'abnormal'") == 1);
}

// The ABNORMAL outcome of the refund sent, as the provider notifies it.
void refund_goes_abnormal(TestServer& server, HttpClient& c, const SentRefund& sent) {
  auto sealed = server.app().payment_sandbox()->seal(
      "REFUND.ABNORMAL",
      refund_resource(sent.intent_id, wx::out_refund_no(sent.refund_key), "ABNORMAL"));
  REQUIRE(sealed.ok());
  REQUIRE(notify(c, as_notice(*sealed)).status == 200);
}

std::int64_t balance_of(TestServer& server, const std::string& account) {
  auto found =
      server.app().db().read([&](db::Session& s) { return payments::find_account(s, account); });
  REQUIRE(found.ok());
  return *found ? (*found)->balance() : 0;
}

STORE_TEST("a refund the provider reports ABNORMAL is owed to the buyer in the books, once",
           "[http][payments][refund-outcome][undelivered]") {
  TestServer server(store_kind);
  HttpClient c(server.port());
  const SentRefund sent = send_a_refund(server, c);
  const std::int64_t at_provider = balance_of(server, payments::accounts::provider("sim"));
  CHECK(balance_of(server, payments::accounts::kRefundsOwed) == 0);
  refund_goes_abnormal(server, c, sent);
  // The money came back from the provider: owed to the buyer, not refunded.
  CHECK(balance_of(server, payments::accounts::kRefundsOwed) == 7960);
  CHECK(balance_of(server, payments::accounts::provider("sim")) == at_provider - 7960);
  refund_goes_abnormal(server, c, sent);  // the same word again (another nonce)
  CHECK(balance_of(server, payments::accounts::kRefundsOwed) == 7960);
  CHECK(server.count(
            "SELECT COUNT(*) FROM ledger_transfers WHERE transfer_key LIKE 'undelivered:%'") == 1);
  REQUIRE(server.app().db().read([](db::Session& s) { return payments::check_ledger(s); }).ok());
}

// Refusals in order of precedence: a session, then a role that handles refunds.
STORE_TEST("the county centre and an admin list refunds that did not reach the buyer",
           "[http][payments][undelivered]") {
  TestServer server(store_kind);
  HttpClient c(server.port());
  const SentRefund sent = send_a_refund(server, c);
  const std::string path = "/api/v1/undelivered-refunds";
  CHECK(c.request("GET", path, "", bearer(server.login(kCentre))).body.find(R"("refunds":[])") !=
        std::string::npos);  // none yet
  refund_goes_abnormal(server, c, sent);
  const struct {
    const char* name;
    std::string who;
    int status;
  } refusals[] = {{"no session", "", 401},
                  {"a consumer", kConsumer, 403},
                  {"a farmer", kFarmer, 403},
                  {"the poverty office", kOffice, 403}};
  for (const auto& r : refusals) {
    INFO(r.name);
    const Headers h =
        r.who.empty() ? Headers{{"Content-Type", "application/json"}} : bearer(server.login(r.who));
    CHECK(c.request("GET", path, "", h).status == r.status);
  }
  for (const std::string& who : {kCentre, std::string("13900000008")}) {  // the admin
    INFO(who);
    auto listed = c.request("GET", path, "", bearer(server.login(who)));
    REQUIRE(listed.status == 200);
    auto doc = Json::parse(listed.body);
    REQUIRE(doc.ok());
    const auto& items = doc->find("refunds")->as_array();
    REQUIRE(items.size() == 1);
    CHECK(items[0].find("status")->as_string() == "abnormal");
    CHECK(items[0].find("amount_fen")->as_integer() == 7960);
    CHECK(items[0].find("intent_id")->as_integer() == sent.intent_id);
  }
  CHECK(error_code(c.request("GET", path + "?cursor=forged", "", bearer(server.login(kCentre)))) ==
        "invalid_cursor");
}

STORE_TEST("a centre of another county does not see the refunds of this one's shops",
           "[http][payments][undelivered]") {
  TestServer server(store_kind);
  HttpClient c(server.port());
  refund_goes_abnormal(server, c, send_a_refund(server, c));
  REQUIRE(server.app()
              .db()
              .write([](db::Session& tx) {
                return tx.exec("UPDATE accounts SET region_code = '620622' WHERE phone = ?",
                               {kCentre});
              })
              .ok());
  auto listed = c.request("GET", "/api/v1/undelivered-refunds", "", bearer(server.login(kCentre)));
  REQUIRE(listed.status == 200);
  CHECK(listed.body.find(R"("refunds":[])") != std::string::npos);
}

STORE_TEST("metrics count the refunds that did not reach the buyer",
           "[http][payments][undelivered][metrics]") {
  TestServer server(store_kind, "fixture", {}, ServerClock::manual);
  HttpClient c(server.port());
  const SentRefund sent = send_a_refund(server, c);
  auto gauge = [&] {
    server.advance(std::chrono::seconds(16));  // past the gauges' refresh
    const std::string body = c.request("GET", "/metrics").body;
    const auto at = body.find("\ncunhuo_refunds_undelivered ");
    REQUIRE(at != std::string::npos);
    return std::stoll(body.substr(at + 28));
  };
  CHECK(gauge() == 0);
  refund_goes_abnormal(server, c, sent);
  CHECK(gauge() == 1);
}

STORE_TEST("a refund's SUCCESS notification settles the refund sent",
           "[http][payments][refund-outcome]") {
  TestServer server(store_kind);
  HttpClient c(server.port());
  send_a_refund(server, c);
  deliver_notifications(server);  // the sandbox's REFUND.SUCCESS
  REQUIRE(eventually([&] {
    return server.count("SELECT COUNT(*) FROM provider_refunds WHERE status = 'succeeded'") == 1;
  }));
}

STORE_TEST("a refund whose notification was lost is settled by a query an hour after it was sent",
           "[http][payments][refund-outcome]") {
  TestServer server(store_kind, "fixture", {}, ServerClock::manual);
  HttpClient c(server.port());
  send_a_refund(server, c);
  server.advance(std::chrono::milliseconds(payments::kRefundQueryAfterMs - 60'000));
  server.app().housekeep_now();
  CHECK(server.count("SELECT COUNT(*) FROM provider_refunds WHERE status = 'sent'") == 1);
  server.advance(std::chrono::minutes(2));
  server.app().housekeep_now();
  CHECK(server.count("SELECT COUNT(*) FROM provider_refunds WHERE status = 'succeeded'") == 1);
}

STORE_TEST("a payout holder name with a quote and a newline is refused",
           "[http][payments][payouts][bad-input]") {
  TestServer server(store_kind);
  HttpClient c(server.port());
  const std::string office = server.login(kOffice);
  const std::string evil = R"({"bank":"农信社","account_number":"6228480402564890018",)"
                           R"("holder":"王\"\n2,农信社,6228000000000000000,\"x\",999.00"})";
  auto refused = c.request("PUT", "/api/v1/households/1/payout-account", evil, bearer(office));
  CHECK(refused.status == 400);
  CHECK(error_code(refused) == "invalid_characters");
  CHECK(error_field(refused) == "holder");
  CHECK(server.count("SELECT COUNT(*) FROM payout_accounts") == 0);
}

STORE_TEST("a buyer reads their payment intent, open before the payer pays and paid after",
           "[http][payments]") {
  TestServer server(store_kind);
  HttpClient c(server.port());
  const std::string consumer = server.login(kConsumer);
  const Bought b = buy(server, c, consumer);
  auto intent = start_payment(c, consumer, b.checkout, "pay-1");
  REQUIRE(intent.status == 201);
  const std::string path = "/api/v1/payments/" + std::to_string(json_int(intent.body, "id"));
  auto open = c.request("GET", path, "", bearer(consumer));
  REQUIRE(open.status == 200);
  CHECK(str_field(open.body, "status") == "open");
  CHECK(open.body.find("\"paid_at\":null") != std::string::npos);
  CHECK(c.request("GET", path, "", bearer(server.login("13900000004"))).status == 404);
  REQUIRE(on_pay_page(str_field(intent.body, "pay_url")).status == 200);
  REQUIRE(eventually([&] { return order_status(c, consumer, b.order) == "paid"; }));
  auto paid = c.request("GET", path, "", bearer(consumer));
  REQUIRE(paid.status == 200);
  CHECK(str_field(paid.body, "status") == "succeeded");
  CHECK_FALSE(str_field(paid.body, "paid_at").empty());
}

STORE_TEST("a payment that fails in the sandbox leaves the intent failed and the order unpaid",
           "[http][payments][sandbox]") {
  TestServer server(store_kind);
  HttpClient c(server.port());
  const std::string consumer = server.login(kConsumer);
  const Bought b = buy(server, c, consumer);
  auto intent = start_payment(c, consumer, b.checkout, "pay-1");
  REQUIRE(intent.status == 201);
  auto failed = on_pay_page(str_field(intent.body, "pay_url"), "fail");
  REQUIRE(failed.status == 200);
  CHECK(str_field(failed.body, "trade_state") == "PAYERROR");
  const std::string path = "/api/v1/payments/" + std::to_string(json_int(intent.body, "id"));
  REQUIRE(eventually([&] {
    return str_field(c.request("GET", path, "", bearer(consumer)).body, "status") == "failed";
  }));
  CHECK(order_status(c, consumer, b.order) == "pending_payment");
  CHECK(server.count("SELECT COUNT(*) FROM ledger_transfers") == 0);
}

STORE_TEST("a refund claim is read by its buyer and the county centre, and by no one else",
           "[http][payments][refunds]") {
  TestServer server(store_kind);
  HttpClient c(server.port());
  const std::string consumer = server.login(kConsumer);
  const Bought b = buy_and_pay(server, c, consumer);
  auto claim = post_json(c, "/api/v1/orders/" + std::to_string(b.order) + "/refund-claims",
                         R"({"amount_fen":3980,"reason":"one melon split"})",
                         bearer(consumer, {{"Idempotency-Key", "r1"}}));
  REQUIRE(claim.status == 201);
  const std::string path = "/api/v1/refund-claims/" + std::to_string(json_int(claim.body, "id"));
  auto by_buyer = c.request("GET", path, "", bearer(consumer));
  REQUIRE(by_buyer.status == 200);
  CHECK(str_field(by_buyer.body, "status") == "requested");
  CHECK(str_field(by_buyer.body, "bearer") == "none");
  CHECK(json_int(by_buyer.body, "amount_fen") == 3980);
  CHECK(c.request("GET", path, "", bearer(server.login(kCentre))).body == by_buyer.body);
  CHECK(c.request("GET", path, "", bearer(server.login("13900000004"))).status == 404);
  CHECK(c.request("GET", path, "", bearer(server.login(kFarmer))).status == 404);
}

STORE_TEST("a household's payout account reads back masked, and is not found before it is set",
           "[http][payments][payouts]") {
  TestServer server(store_kind);
  HttpClient c(server.port());
  const std::string office = server.login(kOffice), farmer = server.login(kFarmer);
  const std::string path = "/api/v1/households/1/payout-account";
  CHECK(c.request("GET", path, "", bearer(office)).status == 404);
  const std::string account =
      R"({"bank":"甘肃农村信用社","account_number":"6228480402564890018","holder":"王建国"})";
  REQUIRE(c.request("PUT", path, account, bearer(office)).status == 200);
  auto read = c.request("GET", path, "", bearer(farmer));
  REQUIRE(read.status == 200);
  CHECK(str_field(read.body, "bank") == "甘肃农村信用社");
  CHECK(str_field(read.body, "account_number") == "***************0018");
  CHECK(str_field(read.body, "holder") == "王*国");
}

namespace {

// Household 1's share of a delivered, confirmed and settled sale, with a payout account.
void settled_sale(TestServer& server, HttpClient& c) {
  const std::string consumer = server.login(kConsumer), centre = server.login(kCentre);
  const Bought b = buy_and_pay(server, c, consumer);
  const std::string order = "/api/v1/orders/" + std::to_string(b.order);
  REQUIRE(post_json(c, order + "/status", R"({"status":"packed"})", bearer(server.login(kFarmer)))
              .status == 200);
  deliver_by_scans(server, c, b.order);
  REQUIRE(c.request("POST", order + "/confirm-receipt", "", bearer(consumer)).status == 200);
  REQUIRE(eventually([&] { return server.count("SELECT COUNT(*) FROM settlement_lines") == 1; }));
  const std::string account =
      R"({"bank":"甘肃农村信用社","account_number":"6228480402564890018","holder":"王建国"})";
  REQUIRE(c.request("PUT", "/api/v1/households/1/payout-account", account,
                    bearer(server.login(kOffice)))
              .status == 200);
}

}  // namespace

STORE_TEST("the county centre reads a payout batch back with account numbers masked",
           "[http][payments][payouts]") {
  TestServer server(store_kind);
  HttpClient c(server.port());
  settled_sale(server, c);
  const std::string centre = server.login(kCentre);
  auto made = c.request("POST", "/api/v1/payout-batches", "",
                        bearer(centre, {{"Idempotency-Key", "batch-1"}}));
  REQUIRE(made.status == 201);
  const std::string path = "/api/v1/payout-batches/" + std::to_string(json_int(made.body, "id"));
  auto read = c.request("GET", path, "", bearer(centre));
  REQUIRE(read.status == 200);
  CHECK(read.body == made.body);
  CHECK(str_field(read.body, "status") == "pending");
  CHECK(read.body.find("\"account_number\":\"***************0018\"") != std::string::npos);
}

STORE_TEST("a payout the bank reports failed leaves its money with the household",
           "[http][payments][payouts]") {
  TestServer server(store_kind);
  HttpClient c(server.port());
  settled_sale(server, c);
  const std::string centre = server.login(kCentre);
  auto made = c.request("POST", "/api/v1/payout-batches", "",
                        bearer(centre, {{"Idempotency-Key", "batch-1"}}));
  REQUIRE(made.status == 201);
  const std::string path = "/api/v1/payout-batches/" + std::to_string(json_int(made.body, "id"));
  auto confirmed =
      post_json(c, path + "/confirmation", R"({"failed_household_ids":["1"]})", bearer(centre));
  REQUIRE(confirmed.status == 200);
  CHECK(str_field(confirmed.body, "status") == "confirmed");
  CHECK(confirmed.body.find("\"status\":\"failed\"") != std::string::npos);
  const std::string office = server.login(kOffice);
  auto balance = c.request("GET", "/api/v1/households/1/balance", "", bearer(office));
  CHECK(json_int(balance.body, "balance_fen") == 7122);
  CHECK(json_int(balance.body, "available_fen") == 7122);
}

TEST_CASE("the service refuses a WeChat Pay configuration the group or others may read",
          "[http][payments][sandbox]") {
  ManualClock clock(SystemClock().now_ms());
  PaySandbox provider(clock, SandboxSetup{.notify_url = "http://127.0.0.1:1/notify"});
  TestStore store(StoreKind::sqlite);
  auto open = [&] {
    Config config;
    config.listen_host = "127.0.0.1";
    config.listen_port = 0;
    config.db_url = store.url();
    config.seed = "none";
    config.data_dir = temp_dir();
    config.sms = "off";
    config.wechatpay_config = provider.config_file();
    auto app = storefront::App::open(config, clock);
    return app.ok() ? std::string("opened as ") + app.value()->provider().name()
                    : app.error().code + ": " + app.error().message;
  };
  CHECK(open() == "opened as wechatpay");  // a real merchant's money: not the sandbox's "sim"
  REQUIRE(::chmod(provider.config_file().c_str(), 0644) == 0);
  const std::string refused = open();
  CHECK(refused.starts_with("bad_wechatpay_config"));
  CHECK(refused.find("chmod 600") != std::string::npos);
}
