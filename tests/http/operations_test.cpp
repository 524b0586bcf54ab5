// What a county's operator reads without an account: /readyz (the store, the payment
// provider, the outbox backlog) and the operations gauges on /metrics that the alert rules
// in deploy/prometheus/cunhuo-rules.yml watch.
#include <chrono>

#include "core/json.hpp"
#include "tests/support/paysandbox.hpp"
#include "tests/support/http_client.hpp"
#include "tests/support/server.hpp"

using namespace cunhuo;
using namespace cunhuo::test;

namespace {

// The value of an unlabelled gauge in a /metrics body; -1 when it is absent.
std::int64_t gauge(const std::string& body, const std::string& name) {
  const auto at = body.find("\n" + name + " ");
  if (at == std::string::npos) return -1;
  return std::stoll(body.substr(at + name.size() + 2));
}

void park_an_event(TestServer& server) {
  REQUIRE(server.store()
              .db()
              .write([](db::Session& tx) {
                return tx.exec(
                    "INSERT INTO outbox_events (topic, payload, created_at, available_at, "
                    "attempts, dead_at) VALUES ('probe.parked', '{}', 1, 1, 20, 2)");
              })
              .ok());
}

}  // namespace

STORE_TEST("readyz names the payment provider and counts the outbox backlog", "[http][ops]") {
  TestServer server(store_kind);
  park_an_event(server);
  HttpClient client(server.port());
  auto reply = client.request("GET", "/readyz");
  REQUIRE(reply.status == 200);
  auto doc = Json::parse(reply.body);
  REQUIRE(doc.ok());
  CHECK(doc->find("provider")->find("name")->as_string() == "sim");
  CHECK(doc->find("provider")->find("configured")->as_bool());
  CHECK(doc->find("outbox")->find("parked")->as_integer() == 1);
  CHECK(doc->find("outbox")->find("pending")->as_integer() >= 0);
}

TEST_CASE("readyz names no provider when the sandbox is off", "[http][ops]") {
  TestServer server(StoreKind::sqlite, kTestSeed, [](Config& c) { c.payment_simulator = false; });
  HttpClient client(server.port());
  auto reply = client.request("GET", "/readyz");
  REQUIRE(reply.status == 200);
  auto doc = Json::parse(reply.body);
  CHECK(doc->find("provider")->find("name")->as_string() == "none");
  CHECK_FALSE(doc->find("provider")->find("configured")->as_bool());
}

TEST_CASE("the service starts while WeChat Pay cannot be reached; readyz says it is not ready",
          "[http][ops][payments]") {
  SystemClock clock;
  PaySandbox provider(clock, SandboxSetup{.notify_url = "http://127.0.0.1:1/notify"});
  provider.sandbox().stop();  // WeChat Pay is down, and nothing was trusted before
  TestServer server(StoreKind::sqlite, kTestSeed,
                    [&](Config& c) { c.wechatpay_config = provider.config_file(); });
  HttpClient client(server.port());
  auto reply = client.request("GET", "/readyz");
  CHECK(reply.status == 503);
  CHECK(error_code(reply) == "provider_not_ready");
}

STORE_TEST(
    "metrics report the outbox backlog, parked events, the ledger check, unreconciled "
    "payments and open excursions",
    "[http][ops][metrics]") {
  TestServer server(store_kind);
  park_an_event(server);
  HttpClient client(server.port());
  const std::string body = client.request("GET", "/metrics").body;
  CHECK(gauge(body, "cunhuo_store_up") == 1);
  CHECK(gauge(body, "cunhuo_outbox_parked_events") == 1);
  CHECK(gauge(body, "cunhuo_outbox_pending_events") >= 0);
  CHECK(gauge(body, "cunhuo_outbox_oldest_pending_age_seconds") >= 0);
  CHECK(gauge(body, "cunhuo_ledger_check_failed") == 0);
  CHECK(gauge(body, "cunhuo_ledger_checked_timestamp_seconds") > 0);
  CHECK(gauge(body, "cunhuo_payments_unreconciled") == 0);
  CHECK(gauge(body, "cunhuo_excursions_open") == 0);
}

TEST_CASE("a ledger that stops balancing shows on metrics at the next check", "[http][ops]") {
  TestServer server(StoreKind::sqlite, kTestSeed, {}, ServerClock::manual);
  HttpClient client(server.port());
  CHECK(gauge(client.request("GET", "/metrics").body, "cunhuo_ledger_check_failed") == 0);
  REQUIRE(server.store()
              .db()
              .write([](db::Session& tx) {
                return tx.exec(
                    "INSERT INTO ledger_accounts (code, may_go_negative, credits_posted, "
                    "created_at) VALUES ('probe:unbalanced', 0, 1, 1)");
              })
              .ok());
  server.advance(std::chrono::milliseconds(storefront::kLedgerCheckIntervalMs));
  CHECK(gauge(client.request("GET", "/metrics").body, "cunhuo_ledger_check_failed") == 1);
}

STORE_TEST("metrics show the end of the last day reconciled with the provider's bill",
           "[http][ops]") {
  TestServer server(store_kind, kTestSeed, {}, ServerClock::manual);
  HttpClient client(server.port());
  server.app().housekeep_now();  // yesterday's bill is reconciled
  server.advance(std::chrono::milliseconds(storefront::kGaugeRefreshMs));
  const LocalDate today = shanghai_date(server.clock().now_ms());
  CHECK(gauge(client.request("GET", "/metrics").body,
              "cunhuo_reconciled_through_timestamp_seconds") == shanghai_midnight_ms(today) / 1000);
}
