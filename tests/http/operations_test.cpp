// What a county's operator reads without an account: /readyz (the store, the payment
// provider, the outbox backlog) and the operations gauges on /metrics that the alert rules
// in deploy/prometheus/cunhuo-rules.yml watch.
#include <chrono>
#include <condition_variable>
#include <future>
#include <mutex>
#include <thread>

#include "core/json.hpp"
#include "tests/support/paysandbox.hpp"
#include "storefront/operations_gauges.hpp"
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

TEST_CASE(
    "a merchant of the WeChat Pay public key alone is ready while WeChat Pay cannot be "
    "reached",
    "[http][ops][payments][public-key]") {
  SystemClock clock;
  PaySandbox provider(clock, SandboxSetup{.notify_url = "http://127.0.0.1:1/notify",
                                          .signing = paysandbox::Signing::public_key});
  provider.sandbox().stop();  // no /v3/certificates is needed to verify what it signs
  TestServer server(StoreKind::sqlite, kTestSeed,
                    [&](Config& c) { c.wechatpay_config = provider.config_file(); });
  HttpClient client(server.port());
  auto reply = client.request("GET", "/readyz");
  CHECK(reply.status == 200);
  auto doc = Json::parse(reply.body);
  REQUIRE(doc.ok());
  CHECK(doc->find("provider")->find("configured")->as_bool());
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

namespace {

// A store whose reads can be held up, as a store behind a network partition is.
class StallingStore final : public db::Database {
 public:
  explicit StallingStore(db::Database& inner) : inner_(inner) {}
  void stall() {
    std::lock_guard lock(mu_);
    stalled_ = true;
  }
  void release() {
    {
      std::lock_guard lock(mu_);
      stalled_ = false;
    }
    cv_.notify_all();
  }
  // Whether a read is held up within `bound`: the test waits on this, not on the scheduler.
  bool holding_within(std::chrono::seconds bound) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, bound, [&] { return held_ > 0; });
  }

  db::Dialect dialect() const override { return inner_.dialect(); }
  std::string describe() const override { return "stalling " + inner_.describe(); }
  Status ping() override { return inner_.ping(); }
  Status flush() override { return inner_.flush(); }
  void write_async(std::function<Status(db::Session&)> body,
                   std::function<void(Status)> done) override {
    inner_.write_async(std::move(body), std::move(done));
  }

 protected:
  Status run(db::TxMode mode, const std::function<Status(db::Session&)>& body) override {
    {
      std::unique_lock lock(mu_);
      ++held_;
      cv_.notify_all();  // a test waiting in holding_within()
      cv_.wait(lock, [&] { return !stalled_; });
      --held_;
    }
    return mode == db::TxMode::read ? inner_.read(body) : inner_.write(body);
  }

 private:
  db::Database& inner_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stalled_ = false;
  int held_ = 0;
};

}  // namespace

STORE_TEST("while the store hangs, the gauges answer at once with the last reading and its age",
           "[http][ops]") {
  TestServer server(store_kind);
  ManualClock clock(1'790'000'000'000);
  StallingStore store(server.store().db());
  storefront::OperationsGauges gauges(store, clock);
  park_an_event(server);
  const auto first = gauges.read();
  REQUIRE(first.store_up);
  CHECK(first.outbox.parked == 1);
  CHECK(first.age_ms == 0);

  clock.advance(std::chrono::milliseconds(storefront::kGaugeRefreshMs));
  store.stall();
  auto refreshing = std::async(std::launch::async, [&] { return gauges.read(); });
  const bool inside = store.holding_within(std::chrono::seconds(30));  // the refresh is held
  if (!inside) store.release();  // else the refresh's future would wait forever
  REQUIRE(inside);
  auto meanwhile = std::async(std::launch::async, [&] { return gauges.read(); });
  const bool answered = meanwhile.wait_for(std::chrono::seconds(5)) == std::future_status::ready;
  store.release();
  REQUIRE(answered);  // it did not queue behind the hung refresh
  const auto last = meanwhile.get();
  CHECK(last.outbox.parked == 1);
  CHECK(last.read_at_ms == first.read_at_ms);
  CHECK(last.age_ms == storefront::kGaugeRefreshMs);
  const auto refreshed = refreshing.get();
  CHECK(refreshed.age_ms == 0);
  CHECK(refreshed.read_at_ms == clock.now_ms());
}
