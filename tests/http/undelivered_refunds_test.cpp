// A refund WeChat Pay reported ABNORMAL or CLOSED is owed to the buyer; staff pay it another
// way (a bank transfer, cash at the township station) and record it with
// POST /api/v1/undelivered-refunds/{id}/settlement: the books move it out of what is owed,
// once, and it leaves the list, the gauge and so the alert.
#include "core/json.hpp"
#include "payments/accounts.hpp"
#include "payments/ledger.hpp"
#include "payments/refunds.hpp"
#include "payments/wechatpay/provider.hpp"
#include "tests/support/flows.hpp"
#include "tests/support/server.hpp"

using namespace cunhuo;
using namespace cunhuo::test;

namespace {

namespace wx = payments::wechatpay;

const std::string kAdmin = "13900000008";
constexpr std::int64_t kOwedFen = 7960;  // two melons: the order's whole payment

// The refund of a paid order the centre cancelled, sent to the provider and reported
// ABNORMAL by it (the buyer's card was cancelled): its id in provider_refunds.
std::int64_t undelivered_refund(TestServer& server, HttpClient& c) {
  const std::string consumer = server.login(kConsumer), centre = server.login(kCentre);
  const Bought b = buy_and_pay(server, c, consumer);
  server.app().payment_sandbox()->hold_background_delivery(true);
  const std::string order = std::to_string(b.order);
  REQUIRE(c.request("POST", "/api/v1/orders/" + order + "/cancel", "", bearer(centre)).status ==
          200);
  REQUIRE(eventually([&] { return server.count("SELECT COUNT(*) FROM provider_refunds") == 1; }));
  server.app().housekeep_now();
  auto row = server.app().db().read([](db::Session& s) {
    return s.query_one("SELECT id, intent_id, refund_key FROM provider_refunds");
  });
  REQUIRE(row.ok());
  const auto resource =
      wx::encode(wx::RefundRecord{.mchid = "1900000109",
                                  .refund_id = "503000000000000000000001",
                                  .out_refund_no = wx::out_refund_no((*row)->str(2)),
                                  .transaction_id = "4200000000000000000000000077",
                                  .out_trade_no = wx::out_trade_no((*row)->i64(1)),
                                  .status = "ABNORMAL",
                                  .success_time = "",
                                  .refund = kOwedFen,
                                  .total = kOwedFen});
  auto sealed = server.app().payment_sandbox()->seal("REFUND.ABNORMAL", resource);
  REQUIRE(sealed.ok());
  auto notified = c.request("POST", "/api/v1/payments/notify", sealed->body,
                            {{"Content-Type", "application/json"},
                             {wx::kSerialHeader, sealed->serial},
                             {wx::kTimestampHeader, sealed->timestamp},
                             {wx::kNonceHeader, sealed->nonce},
                             {wx::kSignatureHeader, sealed->signature}});
  REQUIRE(notified.status == 200);
  REQUIRE(server.count("SELECT COUNT(*) FROM provider_refunds WHERE status = 'abnormal'") == 1);
  return (*row)->i64(0);
}

std::string settlement_path(std::int64_t refund) {
  return "/api/v1/undelivered-refunds/" + std::to_string(refund) + "/settlement";
}

std::string settlement_body(const std::string& method = "bank_transfer",
                            const std::string& reference = "农行转账 流水号 20261207-0042",
                            std::int64_t amount = kOwedFen) {
  JsonWriter w;
  w.begin_object().field("method", method).field("reference", reference);
  w.field("amount_fen", amount).end_object();
  return w.take();
}

HttpReply settle(HttpClient& c, const std::string& token, std::int64_t refund,
                 const std::string& key, const std::string& body = settlement_body()) {
  Headers h = token.empty() ? Headers{{"Content-Type", "application/json"}} : bearer(token);
  h.emplace_back("Idempotency-Key", key);
  return post_json(c, settlement_path(refund), body, h);
}

std::int64_t balance_of(TestServer& server, const std::string& account) {
  auto found =
      server.app().db().read([&](db::Session& s) { return payments::find_account(s, account); });
  REQUIRE(found.ok());
  return *found ? (*found)->balance() : 0;
}

std::size_t listed_count(TestServer& server, HttpClient& c, const std::string& who) {
  auto listed = c.request("GET", "/api/v1/undelivered-refunds", "", bearer(server.login(who)));
  REQUIRE(listed.status == 200);
  auto doc = Json::parse(listed.body);
  REQUIRE(doc.ok());
  return doc->find("refunds")->as_array().size();
}

// Another provider refund of the same order, in `status`, as SQL (states the flow above
// cannot reach twice in one order): its id.
std::int64_t copy_refund(TestServer& server, std::int64_t refund, const std::string& key,
                         const std::string& status) {
  REQUIRE(server.app()
              .db()
              .write([&](db::Session& tx) {
                return tx.exec(
                    "INSERT INTO provider_refunds (refund_key, intent_id, order_id, amount_fen, "
                    "bearer, reason, status, provider_ref, created_at, sent_at) SELECT ?, "
                    "intent_id, order_id, amount_fen, bearer, reason, ?, provider_ref, "
                    "created_at, sent_at FROM provider_refunds WHERE id = ?",
                    {key, status, refund});
              })
              .ok());
  return server.count("SELECT id FROM provider_refunds WHERE refund_key = '" + key + "'");
}

// A county centre of another county (620622), signing in with the seed's password.
std::string other_county_centre(TestServer& server) {
  REQUIRE(server.app()
              .db()
              .write([](db::Session& tx) {
                return tx.exec(
                    "INSERT INTO accounts (phone, display_name, role, region_code, "
                    "password_hash, created_at) SELECT '13900000099', display_name, role, "
                    "'620622', password_hash, created_at FROM accounts WHERE phone = ?",
                    {kCentre});
              })
              .ok());
  return server.login("13900000099");
}

}  // namespace

STORE_TEST("the county centre records that it paid an undelivered refund by bank transfer",
           "[http][payments][undelivered][settle]") {
  TestServer server(store_kind);
  HttpClient c(server.port());
  const std::int64_t refund = undelivered_refund(server, c);
  REQUIRE(listed_count(server, c, kCentre) == 1);
  auto settled = settle(c, server.login(kCentre), refund, "settle-1");
  REQUIRE(settled.status == 201);
  auto doc = Json::parse(settled.body);
  REQUIRE(doc.ok());
  CHECK(doc->find("id")->as_integer() == refund);
  CHECK(doc->find("status")->as_string() == "abnormal");
  const Json* settlement = doc->find("settlement");
  REQUIRE(settlement != nullptr);
  CHECK(settlement->find("method")->as_string() == "bank_transfer");
  CHECK(settlement->find("reference")->as_string() == "农行转账 流水号 20261207-0042");
  CHECK(settlement->find("amount_fen")->as_integer() == kOwedFen);
  CHECK(settlement->find("settled_by")->as_integer() ==
        server.count("SELECT id FROM accounts WHERE phone = '" + kCentre + "'"));
  // The books: no longer owed, paid outside the provider; still balanced.
  CHECK(balance_of(server, payments::accounts::kRefundsOwed) == 0);
  CHECK(balance_of(server, payments::accounts::kRefundsPaidOffline) == kOwedFen);
  CHECK(server.count("SELECT COUNT(*) FROM ledger_transfers WHERE transfer_key LIKE 'settled:%'") ==
        1);
  REQUIRE(server.app().db().read([](db::Session& s) { return payments::check_ledger(s); }).ok());
  // Done: the list shows only what is still owed.
  CHECK(listed_count(server, c, kCentre) == 0);
  CHECK(listed_count(server, c, kAdmin) == 0);
}

STORE_TEST("an admin records an undelivered refund paid in cash at the township station",
           "[http][payments][undelivered][settle]") {
  TestServer server(store_kind);
  HttpClient c(server.port());
  const std::int64_t refund = undelivered_refund(server, c);
  auto settled = settle(c, server.login(kAdmin), refund, "cash-1",
                        settlement_body("cash", "西渠镇服务站 现金退还 经手人 王"));
  REQUIRE(settled.status == 201);
  auto doc = Json::parse(settled.body);
  REQUIRE(doc.ok());
  CHECK(doc->find("settlement")->find("method")->as_string() == "cash");
  CHECK(balance_of(server, payments::accounts::kRefundsOwed) == 0);
}

// Refusals in order of precedence: a session, a role that settles refunds, a body of the
// route's shape (a named method, a reference), the refund in the caller's area, a refund that
// exists, one owed (abnormal or closed), not settled before, then the amount it owes and the
// reference's bytes. None moves money.
STORE_TEST("settling an undelivered refund is refused, in order of precedence",
           "[http][payments][undelivered][settle]") {
  TestServer server(store_kind);
  HttpClient c(server.port());
  const std::int64_t refund = undelivered_refund(server, c);
  const std::int64_t delivered = copy_refund(server, refund, "test:delivered", "succeeded");
  const std::int64_t settled_before = copy_refund(server, refund, "test:settled", "closed");
  REQUIRE(server.app()
              .db()
              .write([&](db::Session& tx) {
                return tx.exec(
                    "INSERT INTO refund_settlements (refund_id, method, reference, amount_fen, "
                    "settled_by, settled_at) VALUES (?, 'cash', 'paid before', ?, 1, 0)",
                    {settled_before, kOwedFen});
              })
              .ok());
  const std::string centre = server.login(kCentre), other_centre = other_county_centre(server);
  constexpr std::size_t pay_limit = payments::kMaxSettlementReferenceBytes;
  const struct {
    const char* name;
    std::string who;
    std::int64_t refund;
    std::string body;
    int status;
    const char* code;
    const char* field;
  } refusals[] = {
      {"no session", "", refund, settlement_body(), 401, "", ""},
      {"a consumer", server.login(kConsumer), refund, settlement_body(), 403, "", ""},
      {"the poverty office", server.login(kOffice), refund, settlement_body(), 403, "", ""},
      // The body's shape is checked at the edge (the route's request schema), before the
      // refund is looked up: here of a refund that does not exist.
      {"a method not in the list", centre, refund + 1000, settlement_body("alipay"), 400,
       "invalid_value", "method"},
      {"no reference", centre, refund + 1000, R"({"method":"cash","amount_fen":7960})", 400,
       "missing_field", "reference"},
      {"a reference too long", centre, refund + 1000,
       settlement_body("cash", std::string(pay_limit + 1, 'x')), 400, "too_long", "reference"},
      {"a centre of another county", other_centre, refund, settlement_body(), 404, "not_found", ""},
      {"an unknown refund", centre, refund + 1000, settlement_body(), 404, "not_found", ""},
      {"a refund that reached the buyer", centre, delivered, settlement_body(), 409,
       "not_undelivered", "id"},
      {"a refund settled before", centre, settled_before, settlement_body(), 409, "already_settled",
       "id"},
      // The amount is checked against what this refund owes.
      {"less than is owed", centre, refund, settlement_body("cash", "part", kOwedFen - 1), 400,
       "amount_mismatch", "amount_fen"},
      {"more than is owed", centre, refund, settlement_body("cash", "more", kOwedFen + 1), 400,
       "amount_mismatch", "amount_fen"},
      {"a reference of more bytes than kept (200 Chinese characters)", centre, refund,
       settlement_body("cash",
                       [] {
                         std::string s;
                         for (int i = 0; i < 200; ++i) s += "现";
                         return s;
                       }()),
       400, "invalid_length", "reference"},
  };
  int n = 0;
  for (const auto& r : refusals) {
    INFO(r.name);
    auto answer = settle(c, r.who, r.refund, "refused-" + std::to_string(++n), r.body);
    CHECK(answer.status == r.status);
    if (*r.code != '\0') CHECK(error_code(answer) == r.code);
    if (*r.field != '\0') CHECK(error_field(answer) == r.field);
  }
  CHECK(server.count("SELECT COUNT(*) FROM refund_settlements") == 1);  // the one made by SQL
  CHECK(balance_of(server, payments::accounts::kRefundsOwed) == kOwedFen);
  CHECK(server.count("SELECT COUNT(*) FROM ledger_transfers WHERE transfer_key LIKE 'settled:%'") ==
        0);
}

STORE_TEST("a settlement retried with its key answers the same; a second one is refused",
           "[http][payments][undelivered][settle]") {
  TestServer server(store_kind);
  HttpClient c(server.port());
  const std::int64_t refund = undelivered_refund(server, c);
  const std::string centre = server.login(kCentre);
  auto first = settle(c, centre, refund, "settle-1");
  REQUIRE(first.status == 201);
  auto again = settle(c, centre, refund, "settle-1");
  CHECK(again.status == 201);
  CHECK(again.body == first.body);
  auto other_body = settle(c, centre, refund, "settle-1", settlement_body("cash", "x"));
  CHECK(other_body.status == 422);
  auto second = settle(c, centre, refund, "settle-2", settlement_body("cash", "again"));
  CHECK(second.status == 409);
  CHECK(error_code(second) == "already_settled");
  CHECK(server.count("SELECT COUNT(*) FROM ledger_transfers WHERE transfer_key LIKE 'settled:%'") ==
        1);
  CHECK(balance_of(server, payments::accounts::kRefundsPaidOffline) == kOwedFen);
  REQUIRE(server.app().db().read([](db::Session& s) { return payments::check_ledger(s); }).ok());
}

STORE_TEST("metrics stop counting an undelivered refund once it is settled",
           "[http][payments][undelivered][settle][metrics]") {
  TestServer server(store_kind, "fixture", {}, ServerClock::manual);
  HttpClient c(server.port());
  auto gauge = [&] {
    server.advance(std::chrono::seconds(16));  // past the gauges' refresh
    const std::string body = c.request("GET", "/metrics").body;
    const auto at = body.find("\ncunhuo_refunds_undelivered ");
    REQUIRE(at != std::string::npos);
    return std::stoll(body.substr(at + 28));
  };
  const std::int64_t refund = undelivered_refund(server, c);
  CHECK(gauge() == 1);
  REQUIRE(settle(c, server.login(kCentre), refund, "settle-1").status == 201);
  CHECK(gauge() == 0);
}
