// The queue of text messages and its sender: a failure is retried with back-off and the
// message then sent exactly once; one that always fails ends parked, never lost; a gateway
// that cannot prove who it is gets nothing.
#include <sodium.h>

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

// Sends, each taking the gateway's whole timeout on the test's clock.
class SlowSender final : public SmsSender {
 public:
  explicit SlowSender(ManualClock& clock) : clock_(clock) {}
  Result<std::string> send(const SmsMessage&) override {
    clock_.advance(std::chrono::milliseconds(kGatewayTimeoutMs));
    ++sent;
    return "biz-" + std::to_string(sent);
  }
  int sent = 0;

 private:
  ManualClock& clock_;
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
  CHECK(row.str(3) == "{}");  // its one-time code, expired by now, is not kept
}

STORE_TEST("a parked notification keeps its parameters for an operator to send again",
           "[store][sms]") {
  TestStore store(store_kind);
  store.migrate();
  ManualClock clock(kStart);
  FlakySender sender(1'000);
  SmsDispatcher dispatcher(store.db(), clock, sender);
  const SmsMessage notice{.phone = "13800000001",
                          .template_code = std::string(kOrderToPack),
                          .params = {{"order", "42"}, {"pack_by", "12-08 10:00"}}};
  REQUIRE(store.db()
              .write([&](db::Session& tx) { return queue_sms(tx, notice, "test:1", clock); })
              .ok());
  for (int i = 0; i < kMaxSmsAttempts; ++i) {
    REQUIRE(dispatcher.run_once().ok());
    clock.advance(std::chrono::milliseconds(kSmsRetryCapMs));
  }
  const auto row = message_row(store);
  CHECK(row.str(0) == "parked");
  CHECK(row.str(3).find("\"order\":\"42\"") != std::string::npos);
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
                CUNHUO_TRY(take_code_send(tx, "13800000001", CodePurpose::log_in, clock));
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
  CHECK(*pruned == 3);  // the code, the purpose's send count and the phone's
}

namespace {

using Outcome = CodeSend::Outcome;

Outcome take_send(db::Database& db, const std::string& phone, CodePurpose purpose,
                  const Clock& clock) {
  auto send = db.write([&](db::Session& tx) { return take_code_send(tx, phone, purpose, clock); });
  REQUIRE(send.ok());
  return send->outcome;
}

// Takes `n` sends of `purpose`, a minute apart, each of which must be allowed.
void spend(db::Database& db, const std::string& phone, CodePurpose purpose, int n,
           ManualClock& clock) {
  for (int i = 0; i < n; ++i) {
    clock.advance(std::chrono::milliseconds(kCodeResendMs));
    REQUIRE(take_send(db, phone, purpose, clock) == Outcome::taken);
  }
}

}  // namespace

STORE_TEST("a phone's sends are limited by the minute, then the purpose's day, then the phone's",
           "[store][sms][phone-codes]") {
  TestStore store(store_kind);
  store.migrate();
  ManualClock clock(kStart);
  using P = CodePurpose;
  struct Case {
    std::string situation, phone;
    std::vector<std::pair<P, int>> before;  // sends taken first, a minute apart
    bool wait_a_minute;                     // after them
    P asked;
    Outcome outcome;
  };
  const int day = kAnonymousCodesPerDay;
  const std::vector<Case> cases = {
      {"within a minute of the purpose's last send, its day spent too",
       "13700000011",
       {{P::log_in, day}},
       false,
       P::log_in,
       Outcome::too_soon},
      {"the purpose's day spent, the phone's ceiling not",
       "13700000012",
       {{P::log_in, day}},
       true,
       P::log_in,
       Outcome::spent},
      {"the phone's ceiling spent, the purpose's day not",
       "13700000013",
       {{P::sign_up, day},
        {P::log_in, day},
        {P::reset_password, day},
        {P::proxy_confirm, kCodesPerPhonePerDay - kAnonymousPurposes * day}},
       true,
       P::proxy_confirm,
       Outcome::spent},
      {"another purpose within the minute, its own day not spent",
       "13700000014",
       {{P::log_in, day}},
       false,
       P::reset_password,
       Outcome::taken},
  };
  for (const auto& c : cases) {
    CAPTURE(c.situation);
    for (const auto& [purpose, n] : c.before) spend(store.db(), c.phone, purpose, n, clock);
    if (c.wait_a_minute) clock.advance(std::chrono::milliseconds(kCodeResendMs));
    CHECK(take_send(store.db(), c.phone, c.asked, clock) == c.outcome);
  }
}

STORE_TEST("a purpose's spent day ends a day after its first send", "[store][sms][phone-codes]") {
  TestStore store(store_kind);
  store.migrate();
  ManualClock clock(kStart);
  const std::string phone = "13700000021";
  spend(store.db(), phone, CodePurpose::log_in, kAnonymousCodesPerDay, clock);
  clock.advance(std::chrono::milliseconds(kCodeResendMs));
  auto spent = store.db().write(
      [&](db::Session& tx) { return take_code_send(tx, phone, CodePurpose::log_in, clock); });
  REQUIRE(spent.ok());
  CHECK(spent->outcome == Outcome::spent);
  // The day began at the first send, kAnonymousCodesPerDay minutes ago.
  CHECK(spent->wait_ms == kCodeDayMs - kAnonymousCodesPerDay * kCodeResendMs);
  clock.advance(std::chrono::milliseconds(spent->wait_ms));
  CHECK(take_send(store.db(), phone, CodePurpose::log_in, clock) == Outcome::taken);
}

STORE_TEST("a phone's sends are taken one a minute per purpose, whichever process asks",
           "[store][sms][phone-codes]") {
  TestStore store(store_kind);
  store.migrate();
  ManualClock clock(kStart);
  auto other_db = store.reopen();
  auto take = [&](db::Database& db, CodePurpose purpose) {
    auto send = db.write(
        [&](db::Session& tx) { return take_code_send(tx, "13800000001", purpose, clock); });
    REQUIRE(send.ok());
    return *send;
  };
  CHECK(take(store.db(), CodePurpose::log_in).outcome == Outcome::taken);
  const CodeSend soon = take(*other_db, CodePurpose::log_in);
  CHECK(soon.outcome == Outcome::too_soon);
  CHECK(soon.wait_ms == kCodeResendMs);
  CHECK(take(*other_db, CodePurpose::reset_password).outcome == Outcome::taken);
  clock.advance(std::chrono::milliseconds(kCodeResendMs));
  CHECK(take(*other_db, CodePurpose::log_in).outcome == Outcome::taken);
}

STORE_TEST("a purpose's day budget and the phone's ceiling hold across two processes",
           "[store][sms][phone-codes]") {
  TestStore store(store_kind);
  store.migrate();
  ManualClock clock(kStart);
  auto other_db = store.reopen();
  db::Database* handles[] = {&store.db(), other_db.get()};
  const std::string phone = "13700000031";
  int taken = 0;
  // Two processes take turns asking for log_in codes: together they get one day's budget.
  for (int i = 0; i < 2 * kAnonymousCodesPerDay; ++i) {
    clock.advance(std::chrono::milliseconds(kCodeResendMs));
    if (take_send(*handles[i % 2], phone, CodePurpose::log_in, clock) == Outcome::taken) ++taken;
  }
  CHECK(taken == kAnonymousCodesPerDay);
  // The other purposes keep theirs, up to the phone's ceiling, counted by both processes.
  for (auto purpose : {CodePurpose::sign_up, CodePurpose::reset_password})
    spend(*handles[purpose == CodePurpose::sign_up ? 0 : 1], phone, purpose, kAnonymousCodesPerDay,
          clock);
  const int proxy_left = kCodesPerPhonePerDay - kAnonymousPurposes * kAnonymousCodesPerDay;
  for (int i = 0; i < proxy_left; ++i) {
    clock.advance(std::chrono::milliseconds(kCodeResendMs));
    CHECK(take_send(*handles[i % 2], phone, CodePurpose::proxy_confirm, clock) == Outcome::taken);
  }
  clock.advance(std::chrono::milliseconds(kCodeResendMs));
  CHECK(take_send(*handles[1], phone, CodePurpose::proxy_confirm, clock) == Outcome::spent);
}

STORE_TEST("a pass sends only while its claim lasts; the rest go in a later pass, once each",
           "[store][sms]") {
  TestStore store(store_kind);
  store.migrate();
  ManualClock clock(kStart);
  SlowSender sender(clock);
  SmsDispatcher first(store.db(), clock, sender);
  auto other_db = store.reopen();
  SmsDispatcher second(*other_db, clock, sender);
  constexpr int kQueued = 20;  // more than a claim's time allows at the gateway's timeout
  for (int i = 0; i < kQueued; ++i) {
    auto queued = store.db().write([&](db::Session& tx) {
      return queue_sms(tx, code_message(), "slow:" + std::to_string(i), clock);
    });
    REQUIRE(queued.ok());
  }
  const int before = first.run_once()->sent;
  CHECK(before < kQueued);
  CHECK(clock.now_ms() - kStart <= kSmsClaimLeaseMs);  // nothing sent past the claim
  CHECK(second.run_once()->sent == 0);                 // still claimed by the first pass
  clock.advance(std::chrono::milliseconds(kSmsClaimLeaseMs));
  int later = 0;
  for (int pass = 0; pass < 4; ++pass) later += second.run_once()->sent;
  CHECK(before + later == kQueued);
  CHECK(sender.sent == kQueued);
}

STORE_TEST("a stored sign-in code cannot be found from the store alone",
           "[store][sms][phone-codes]") {
  TestStore store(store_kind);
  store.migrate();
  ManualClock clock(kStart);
  REQUIRE(store.db()
              .write([&](db::Session& tx) {
                return issue_code(tx, "13800000001", CodePurpose::log_in, clock);
              })
              .ok());
  auto row = store.db().read([](db::Session& s) {
    return s.query_one(
        "SELECT c.code_hash, q.params FROM phone_codes c, sms_queue q WHERE c.phone = q.phone");
  });
  REQUIRE(row.ok());
  REQUIRE(row->has_value());
  const std::string stored = (*row)->str(0), text = (*row)->str(1);
  const std::string code = text.substr(text.find("\"code\":\"") + 8, kCodeDigits);
  // What a reader of a store copy computes for each of the million candidates: no key.
  const std::string input = "13800000001|log_in|" + code;
  unsigned char digest[32];
  crypto_generichash(digest, sizeof digest, reinterpret_cast<const unsigned char*>(input.data()),
                     input.size(), nullptr, 0);
  char hex[65];
  sodium_bin2hex(hex, sizeof hex, digest, sizeof digest);
  CHECK(stored.find(std::string(hex).substr(0, 16)) == std::string::npos);
  auto check = store.db().write([&](db::Session& tx) {
    return verify_code(tx, "13800000001", CodePurpose::log_in, code, clock);
  });
  REQUIRE(check.ok());
  CHECK(*check == CodeCheck::accepted);
}
