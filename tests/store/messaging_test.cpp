// The queue of text messages and its sender: a failure is retried with back-off and the
// message then sent exactly once; one that always fails ends parked, never lost; a gateway
// that cannot prove who it is gets nothing.
#include <chrono>

#include "messaging/dispatcher.hpp"
#include "messaging/gateway.hpp"
#include "messaging/phone_codes.hpp"
#include "messaging/sms.hpp"
#include "tests/support/support.hpp"
#include "tests/support/tls_server.hpp"

using namespace cunhuo;
using namespace cunhuo::test;
using namespace cunhuo::messaging;

namespace {

constexpr std::int64_t kStart = 1'796'615'400'000;

// Fails the first `failures` sends (gateway unavailable), then sends.
class FlakySender final : public SmsSender {
 public:
  explicit FlakySender(int failures) : failures_(failures) {}
  Result<std::string> send(const SmsMessage&) override {
    ++calls;
    if (calls <= failures_)
      return make_error(ErrorKind::unavailable, "gateway_down", "the gateway is down");
    ++sent;
    return "biz-" + std::to_string(sent);
  }
  int calls = 0, sent = 0;

 private:
  int failures_;
};

SmsMessage code_message() {
  return SmsMessage{.phone = "13800000001",
                    .template_code = std::string(kVerificationCode),
                    .params = {{"code", "123456"}, {"minutes", "5"}}};
}

void queue(TestStore& store, const Clock& clock) {
  auto queued = store.db().write(
      [&](db::Session& tx) { return queue_sms(tx, code_message(), "test:1", clock); });
  REQUIRE(queued.ok());
  REQUIRE(*queued);
}

db::Row message_row(TestStore& store) {
  auto row = store.db().read([](db::Session& s) {
    return s.query_one(
        "SELECT status, attempts, gateway_id, params FROM sms_queue WHERE dedupe_key = ?",
        {"test:1"});
  });
  REQUIRE(row.ok());
  REQUIRE(row->has_value());
  return **row;
}

}  // namespace

STORE_TEST("a message the gateway fails twice is retried after a back-off, then sent once",
           "[store][sms]") {
  TestStore store(store_kind);
  store.migrate();
  ManualClock clock(kStart);
  FlakySender sender(2);
  SmsDispatcher dispatcher(store.db(), clock, sender);
  queue(store, clock);
  CHECK(dispatcher.run_once()->retrying == 1);
  CHECK(dispatcher.run_once()->retrying == 0);  // not due before its back-off
  clock.advance(std::chrono::milliseconds(sms_retry_delay_ms(1)));
  CHECK(dispatcher.run_once()->retrying == 1);
  clock.advance(std::chrono::milliseconds(sms_retry_delay_ms(2)));
  CHECK(dispatcher.run_once()->sent == 1);
  clock.advance(std::chrono::milliseconds(kSmsRetryCapMs));
  CHECK(dispatcher.run_once()->sent == 0);
  CHECK(sender.calls == 3);
  CHECK(sender.sent == 1);
  const auto row = message_row(store);
  CHECK(row.str(0) == "sent");
  CHECK(row.i64(1) == 3);
  CHECK(row.str(2) == "biz-1");
  CHECK(row.str(3) == "{}");  // the code it carried is not kept once sent
}

STORE_TEST("a message the gateway always fails ends parked after the last attempt",
           "[store][sms]") {
  TestStore store(store_kind);
  store.migrate();
  ManualClock clock(kStart);
  FlakySender sender(1'000);
  SmsDispatcher dispatcher(store.db(), clock, sender);
  queue(store, clock);
  for (int i = 0; i < kMaxSmsAttempts + 2; ++i) {
    REQUIRE(dispatcher.run_once().ok());
    clock.advance(std::chrono::milliseconds(kSmsRetryCapMs));
  }
  CHECK(sender.calls == kMaxSmsAttempts);
  const auto row = message_row(store);
  CHECK(row.str(0) == "parked");
  CHECK(row.i64(1) == kMaxSmsAttempts);
}

STORE_TEST(
    "a message to a gateway whose certificate is not trusted is not sent; it waits for a "
    "retry",
    "[store][sms][sms-gateway]") {
  TestStore store(store_kind);
  store.migrate();
  ManualClock clock(kStart);
  TestPki trusted, stranger("Someone else's CA");
  LocalServer impostor([](const FakeRequest&) { return FakeReply{.body = R"({"Code":"OK"})"}; },
                       stranger.issue("DNS:localhost,IP:127.0.0.1"));
  GatewaySms gateway(GatewaySmsOptions{.endpoint = impostor.url(),
                                       .access_key_id = "id",
                                       .access_key_secret = "secret",
                                       .sign_name = "村货",
                                       .template_codes = {},
                                       .ca_file = trusted.ca_file()},
                     clock);
  SmsDispatcher dispatcher(store.db(), clock, gateway);
  queue(store, clock);
  const auto pass = dispatcher.run_once();
  REQUIRE(pass.ok());
  CHECK(pass->sent == 0);
  CHECK(pass->retrying == 1);
  CHECK(impostor.answered() == 0);  // the query, with its code, never left the handshake
  const auto row = message_row(store);
  CHECK(row.str(0) == "queued");
  CHECK(row.i64(1) == 1);
  CHECK(row.is_null(2));
}

STORE_TEST("a message claimed by a pass is not sent again by a concurrent one", "[store][sms]") {
  TestStore store(store_kind);
  store.migrate();
  ManualClock clock(kStart);
  FlakySender sender(0);
  SmsDispatcher first(store.db(), clock, sender);
  auto other_db = store.reopen();
  SmsDispatcher second(*other_db, clock, sender);
  queue(store, clock);
  CHECK(first.run_once()->sent + second.run_once()->sent == 1);
  CHECK(sender.sent == 1);
}

STORE_TEST("a message with an unknown template is not queued", "[store][sms]") {
  TestStore store(store_kind);
  store.migrate();
  ManualClock clock(kStart);
  auto queued = store.db().write([&](db::Session& tx) {
    return queue_sms(tx, SmsMessage{.phone = "13800000001", .template_code = "nope", .params = {}},
                     "test:2", clock);
  });
  REQUIRE_FALSE(queued.ok());
  CHECK(queued.error().code == "unknown_template");
}

STORE_TEST("a code is accepted once, after wrong tries short of its limit",
           "[store][sms][phone-codes]") {
  TestStore store(store_kind);
  store.migrate();
  ManualClock clock(kStart);
  auto verify = [&](const std::string& code) {
    auto check = store.db().write([&](db::Session& tx) {
      return verify_code(tx, "13800000001", CodePurpose::proxy_confirm, code, clock);
    });
    REQUIRE(check.ok());
    return *check;
  };
  CHECK(verify("000000") == CodeCheck::missing);
  REQUIRE(store.db()
              .write([&](db::Session& tx) {
                return issue_code(tx, "13800000001", CodePurpose::proxy_confirm, clock);
              })
              .ok());
  auto params = store.db().read([](db::Session& s) {
    return s.query_one("SELECT params FROM sms_queue WHERE phone = '13800000001'");
  });
  REQUIRE(params.ok());
  const std::string text = (*params)->str(0);
  const std::string code = text.substr(text.find("\"code\":\"") + 8, kCodeDigits);
  const std::string wrong = code == "000000" ? "111111" : "000000";
  for (int i = 0; i < kCodeTries - 1; ++i) CHECK(verify(wrong) == CodeCheck::wrong);
  CHECK(verify(code) == CodeCheck::accepted);
  CHECK(verify(code) == CodeCheck::missing);  // consumed
}

STORE_TEST("expired codes and send counts idle for a day are pruned", "[store][sms][phone-codes]") {
  TestStore store(store_kind);
  store.migrate();
  ManualClock clock(kStart);
  REQUIRE(store.db()
              .write([&](db::Session& tx) -> Status {
                CUNHUO_TRY(take_code_send(tx, "13800000001", clock));
                CUNHUO_TRY(issue_code(tx, "13800000001", CodePurpose::log_in, clock));
                return {};
              })
              .ok());
  auto kept =
      store.db().write([&](db::Session& tx) { return prune_phone_codes(tx, clock.now_ms()); });
  REQUIRE(kept.ok());
  CHECK(*kept == 0);
  clock.advance(std::chrono::milliseconds(kCodeDayMs + 1));
  auto pruned =
      store.db().write([&](db::Session& tx) { return prune_phone_codes(tx, clock.now_ms()); });
  REQUIRE(pruned.ok());
  CHECK(*pruned == 2);  // the code and the phone's send count
}

STORE_TEST("a phone's sends are taken one a minute, whichever process asks",
           "[store][sms][phone-codes]") {
  TestStore store(store_kind);
  store.migrate();
  ManualClock clock(kStart);
  auto other_db = store.reopen();
  auto take = [&](db::Database& db) {
    auto wait = db.write([&](db::Session& tx) { return take_code_send(tx, "13800000001", clock); });
    REQUIRE(wait.ok());
    return *wait;
  };
  CHECK_FALSE(take(store.db()).has_value());
  CHECK(take(*other_db) == kCodeResendMs);
  clock.advance(std::chrono::milliseconds(kCodeResendMs));
  CHECK_FALSE(take(*other_db).has_value());
}
