// The WeChat Pay v3 adapter against the sandbox provider, over HTTPS on loopback: orders of
// each kind, query, close, notifications (duplicate, late, forged), refunds and their
// notifications, the trade bill, certificate rotation, retries that never charge twice,
// and logs that carry no key. The sandbox's store is SQLite or MariaDB.
#include <catch2/catch.hpp>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include <sys/stat.h>

#include <atomic>
#include <functional>
#include <map>
#include <mutex>
#include <fstream>
#include <sstream>

#include "core/json.hpp"
#include "core/log.hpp"
#include "payments/wechatpay/provider.hpp"
#include "paysandbox/merchant.hpp"
#include "tests/support/paysandbox.hpp"
#include "tests/support/support.hpp"
#include "tests/support/tls_server.hpp"

namespace cunhuo::test {
namespace {

namespace wx = payments::wechatpay;
namespace pay = payments;

// The merchant's callback: opens each notification with the adapter, answers 200 or 401.
struct Callback {
  wx::WechatPayProvider* adapter = nullptr;
  std::mutex mu;
  std::vector<std::string> opened;   // the opened bodies
  std::vector<std::string> refused;  // the refusals' codes
  LocalServer server{[this](const FakeRequest& r) { return take(r); }, std::nullopt};

  static std::string header(const FakeRequest& r, std::string_view name) {
    for (const auto& [k, v] : r.headers)
      if (strcasecmp(k.c_str(), std::string(name).c_str()) == 0) return v;
    return "";
  }
  FakeReply take(const FakeRequest& r) {
    if (adapter == nullptr)  // the platform is down
      return FakeReply{.status = 503, .body = R"({"code":"FAIL","message":"down"})"};
    const pay::Notification n{header(r, wx::kSerialHeader), header(r, wx::kTimestampHeader),
                              header(r, wx::kNonceHeader), header(r, wx::kSignatureHeader), r.body};
    auto o = adapter->open_notification(n);
    std::lock_guard lock(mu);
    if (!o.ok()) {
      refused.push_back(o.error().code);
      return FakeReply{.status = 401, .body = R"({"code":"FAIL","message":"refused"})"};
    }
    opened.push_back(o->body);
    return FakeReply{.status = 200, .body = ""};
  }
  std::string url() const { return server.url() + "notify"; }
};

// The code a notification was refused with; "opened" when it was not refused.
std::string refusal(const Result<pay::Notification>& opened) {
  return opened.ok() ? "opened" : opened.error().code;
}

// A notification as the provider sends it, from what the sandbox sealed.
pay::Notification as_notice(const paysandbox::Sandbox::Sealed& s) {
  return pay::Notification{s.serial, s.timestamp, s.nonce, s.signature, s.body};
}

// A sandbox, an adapter over it and a callback that takes its notifications.
struct Merchant {
  ManualClock clock{1'796'000'000'000};  // 2026-11-30
  TestStore store;
  Callback callback;
  PaySandbox sandbox;
  std::unique_ptr<wx::WechatPayProvider> adapter;

  explicit Merchant(StoreKind kind, int duplicates = 0, std::int64_t late_ms = 0,
                    paysandbox::Signing signing = paysandbox::Signing::certificate)
      : store(kind),
        sandbox(clock, SandboxSetup{.store_url = store.url(),
                                    .notify_url = callback.url(),
                                    .return_url = "",
                                    .duplicates = duplicates,
                                    .late_ms = late_ms,
                                    .signing = signing}),
        adapter(sandbox.adapter(clock)) {
    callback.adapter = adapter.get();
  }
  pay::PaymentRequest request(std::int64_t intent, std::int64_t fen) const {
    return pay::PaymentRequest{intent, Money::fen(fen), "CNY", "两个冷藏甜瓜"};
  }
  int deliver() {
    auto n = sandbox.sandbox().deliver_due();
    REQUIRE(n.ok());
    return *n;
  }
};

std::string field(const std::string& json, const char* key) {
  auto doc = Json::parse(json);
  REQUIRE(doc.ok());
  const Json* v = doc->find(key);
  REQUIRE(v != nullptr);
  return v->type() == Json::Type::string ? v->as_string() : std::to_string(v->as_integer());
}

}  // namespace

STORE_TEST("an H5 order is paid on the sandbox's page and its notification opens", "[wechatpay]") {
  Merchant m(store_kind);
  auto made = m.adapter->create_payment(m.request(7, 2590));
  REQUIRE(made.ok());
  CHECK(made->provider_ref == "CUNHUO7");
  CHECK(made->pay_url.starts_with("http://127.0.0.1:"));
  CHECK(made->pay_url.find("/pay/wx") != std::string::npos);
  auto before = m.adapter->query(7);
  REQUIRE(before.ok());
  REQUIRE(*before);
  CHECK((*before)->trade_state == "NOTPAY");
  REQUIRE(m.sandbox.sandbox().pay("CUNHUO7", true).ok());
  CHECK(m.deliver() == 1);
  REQUIRE(m.callback.opened.size() == 1);
  const std::string& notice = m.callback.opened.front();
  CHECK(field(notice, "event_type") == "TRANSACTION.SUCCESS");
  CHECK(field(notice, "out_trade_no") == "7");
  CHECK(notice.find(R"("total":2590)") != std::string::npos);
  auto after = m.adapter->query(7);
  REQUIRE(after.ok());
  CHECK((*after)->trade_state == "SUCCESS");
  CHECK((*after)->transaction_id.starts_with("4200"));
  CHECK(m.deliver() == 0);  // acknowledged: not sent again
}

STORE_TEST("Native and JSAPI orders answer a code_url and a prepay_id", "[wechatpay]") {
  Merchant m(store_kind);
  auto native = m.adapter->create_order(m.request(8, 100), wx::TradeType::native);
  REQUIRE(native.ok());
  CHECK(native->pay_url.find("/pay/wx") != std::string::npos);
  auto jsapi = m.adapter->create_order(m.request(9, 100), wx::TradeType::jsapi);
  REQUIRE(jsapi.ok());
  CHECK(jsapi->pay_url.starts_with("wx"));
  auto order = m.sandbox.sandbox().find("CUNHUO9");
  REQUIRE(order.ok());
  CHECK(order->trade_type == "JSAPI");
  CHECK(order->prepay_id == jsapi->pay_url);
}

STORE_TEST("the same order made again answers the same link, another amount is refused",
           "[wechatpay]") {
  Merchant m(store_kind);
  auto first = m.adapter->create_payment(m.request(11, 500));
  auto again = m.adapter->create_payment(m.request(11, 500));
  REQUIRE(first.ok());
  REQUIRE(again.ok());
  CHECK(first->pay_url == again->pay_url);
  CHECK_FALSE(m.adapter->create_payment(m.request(11, 501)).ok());
}

STORE_TEST("an unpaid order closes (204) and can no longer be paid", "[wechatpay]") {
  Merchant m(store_kind);
  REQUIRE(m.adapter->create_payment(m.request(12, 500)).ok());
  REQUIRE(m.adapter->close(12).ok());
  CHECK((*m.adapter->query(12))->trade_state == "CLOSED");
  CHECK_FALSE(m.sandbox.sandbox().pay("CUNHUO12", true).ok());
  CHECK_FALSE(m.adapter->create_payment(m.request(12, 500)).ok());
  auto unknown = m.adapter->query(13);
  REQUIRE(unknown.ok());
  CHECK_FALSE(*unknown);  // 404 ORDER_NOT_EXIST
}

STORE_TEST("a notification comes again as duplicates and once more late", "[wechatpay]") {
  Merchant m(store_kind, /*duplicates=*/1, /*late_ms=*/10 * 60 * 1000);
  REQUIRE(m.adapter->create_payment(m.request(14, 300)).ok());
  REQUIRE(m.sandbox.sandbox().pay("CUNHUO14", true).ok());
  CHECK(m.deliver() == 2);
  m.clock.advance(std::chrono::minutes(11));
  CHECK(m.deliver() == 1);
  REQUIRE(m.callback.opened.size() == 3);
  CHECK(m.callback.opened[0] == m.callback.opened[2]);  // the same transaction every time
}

STORE_TEST("a notification not acknowledged is sent again with back-off", "[wechatpay]") {
  Merchant m(store_kind);
  REQUIRE(m.adapter->create_payment(m.request(15, 300)).ok());
  REQUIRE(m.sandbox.sandbox().pay("CUNHUO15", true).ok());
  wx::WechatPayProvider* adapter = m.callback.adapter;
  m.callback.adapter = nullptr;  // the platform is down: the callback answers 503
  CHECK(m.deliver() == 0);
  m.callback.adapter = adapter;
  CHECK(m.deliver() == 0);  // not due yet: the back-off holds it
  m.clock.advance(std::chrono::seconds(3));
  CHECK(m.deliver() == 1);
}

// Refusals in order of precedence: each is refused for its own reason and no other.
STORE_TEST("forged, stale and undecryptable notifications are refused, in precedence order",
           "[wechatpay]") {
  Merchant m(store_kind);
  auto& sandbox = m.sandbox.sandbox();
  const std::string resource = sandbox_transaction(16);
  auto good = sandbox.seal("TRANSACTION.SUCCESS", resource);
  REQUIRE(good.ok());
  REQUIRE(m.adapter->open_notification(as_notice(*good)).ok());
  // A resource sealed under another APIv3 key, in a body the sandbox signs properly.
  auto envelope = wx::decode_envelope(good->body);
  REQUIRE(envelope.ok());
  envelope->resource.ciphertext =
      *wx::aes_gcm_seal(wx::random_token(32), envelope->resource.nonce, "transaction", resource);
  auto other_key = sandbox.sign(wx::encode(*envelope));
  REQUIRE(other_key.ok());
  const struct {
    const char* name;
    pay::Notification notice;
    std::chrono::minutes skew;
    std::string_view code;
  } cases[] = {
      {"unknown serial",
       {"0000DEADBEEF", "1", "n", "x", good->body},
       std::chrono::minutes(5),
       wx::kUnknownSerial},
      {"bad signature",
       {good->serial, good->timestamp, good->nonce, good->signature, good->body + " "},
       std::chrono::minutes(5),
       wx::kBadSignature},
      {"stale timestamp", as_notice(*good), std::chrono::minutes(5), wx::kStale},
      {"undecryptable resource", as_notice(*other_key), std::chrono::minutes(0),
       wx::kUndecryptable},
  };
  for (const auto& c : cases) {
    INFO(c.name);
    m.clock.advance(c.skew);
    auto o = m.adapter->open_notification(c.notice);
    m.clock.advance(-c.skew);
    REQUIRE_FALSE(o.ok());
    CHECK(o.error().code == c.code);
  }
  // 4 min 59 s is still in the window.
  m.clock.advance(std::chrono::seconds(299));
  CHECK(m.adapter->open_notification(as_notice(*good)).ok());
}

// Each refused before its resource is decrypted: a resource of one kind is never read as
// another, however the signed envelope labels it.
STORE_TEST(
    "a notification whose resource is not of its event's kind, or not AES-256-GCM, is "
    "refused",
    "[wechatpay]") {
  Merchant m(store_kind);
  auto& sandbox = m.sandbox.sandbox();
  auto good = sandbox.seal("TRANSACTION.SUCCESS", sandbox_transaction(19));
  REQUIRE(good.ok());
  REQUIRE(m.adapter
              ->open_notification(pay::Notification{good->serial, good->timestamp, good->nonce,
                                                    good->signature, good->body})
              .ok());
  const struct {
    const char* name;
    std::function<void(wx::Envelope&)> change;
    std::string_view code;
  } cases[] = {
      {"original_type refund", [](wx::Envelope& e) { e.resource.original_type = "refund"; },
       wx::kBadNotification},
      {"associated_data refund", [](wx::Envelope& e) { e.resource.associated_data = "refund"; },
       wx::kBadNotification},
      {"a refund event", [](wx::Envelope& e) { e.event_type = "REFUND.SUCCESS"; },
       wx::kBadNotification},
      {"an event of no kind", [](wx::Envelope& e) { e.event_type = "MARKETING.SUCCESS"; },
       wx::kBadNotification},
      {"another algorithm", [](wx::Envelope& e) { e.resource.algorithm = "AEAD_AES_128_GCM"; },
       wx::kUndecryptable},
  };
  for (const auto& c : cases) {
    INFO(c.name);
    auto envelope = wx::decode_envelope(good->body);
    REQUIRE(envelope.ok());
    c.change(*envelope);
    auto resigned = sandbox.sign(wx::encode(*envelope));
    REQUIRE(resigned.ok());
    auto o = m.adapter->open_notification(pay::Notification{resigned->serial, resigned->timestamp,
                                                            resigned->nonce, resigned->signature,
                                                            resigned->body});
    REQUIRE_FALSE(o.ok());
    CHECK(o.error().code == c.code);
  }
}

STORE_TEST("a refund is made once per out_refund_no, queried, and its notification opens",
           "[wechatpay]") {
  Merchant m(store_kind);
  REQUIRE(m.adapter->create_payment(m.request(17, 1000)).ok());
  CHECK_FALSE(m.adapter->refund(17, Money::fen(300), "refund:order:1").ok());  // not paid yet
  REQUIRE(m.sandbox.sandbox().pay("CUNHUO17", true).ok());
  REQUIRE(m.deliver() == 1);
  auto id = m.adapter->refund(17, Money::fen(300), "refund:order:1");
  REQUIRE(id.ok());
  CHECK(id->provider_ref.starts_with("5030"));
  CHECK(id->state == pay::RefundState::processing);  // as WeChat Pay answers: not done yet
  auto again = m.adapter->refund(17, Money::fen(300), "refund:order:1");
  REQUIRE(again.ok());
  CHECK(again->provider_ref == id->provider_ref);
  CHECK_FALSE(m.adapter->refund(17, Money::fen(701), "refund:order:2").ok());  // over the rest
  auto record = m.adapter->query_refund("refund:order:1");
  REQUIRE(record.ok());
  CHECK(record->status == "SUCCESS");
  CHECK(record->refund == 300);
  CHECK(m.deliver() == 1);
  REQUIRE(m.callback.opened.size() == 2);
  CHECK(field(m.callback.opened[1], "event_type") == "REFUND.SUCCESS");
  CHECK(field(m.callback.opened[1], "out_refund_no") == "refund_order_1");
}

// Refusals in order of precedence: the merchant, the app, then a state that is an outcome.
STORE_TEST("a transaction of another app or with no outcome yet is refused; failures fail",
           "[wechatpay]") {
  Merchant m(store_kind);
  auto transaction = [](const char* appid, const char* state) {
    return sandbox_transaction(18, state, appid);
  };
  auto open = [&](const std::string& resource) {
    auto sealed = m.sandbox.sandbox().seal("TRANSACTION.SUCCESS", resource);
    REQUIRE(sealed.ok());
    return m.adapter->open_notification(as_notice(*sealed));
  };
  const struct {
    const char* name;
    std::string resource;
  } refusals[] = {
      {"another app", transaction("wxSOMEONE_ELSE", "SUCCESS")},
      {"not paid yet", transaction("wxcunhuo000sandbox", "NOTPAY")},
      {"the payer is paying", transaction("wxcunhuo000sandbox", "USERPAYING")},
      {"refunded", transaction("wxcunhuo000sandbox", "REFUND")},
  };
  for (const auto& r : refusals) {
    INFO(r.name);
    auto o = open(r.resource);
    REQUIRE_FALSE(o.ok());
    CHECK(o.error().code == wx::kBadNotification);
  }
  for (const char* state : {"CLOSED", "PAYERROR", "REVOKED"}) {
    INFO(state);
    auto o = open(transaction("wxcunhuo000sandbox", state));
    REQUIRE(o.ok());
    CHECK(field(o->body, "event_type") == "TRANSACTION.FAIL");
  }
  auto paid = open(transaction("wxcunhuo000sandbox", "SUCCESS"));
  REQUIRE(paid.ok());
  CHECK(field(paid->body, "event_type") == "TRANSACTION.SUCCESS");
}

// Refusals in order of precedence: the merchant, then an outcome the event names.
STORE_TEST("a refund notification of another merchant or naming no outcome is refused",
           "[wechatpay]") {
  Merchant m(store_kind);
  auto refund = [](const char* mchid, const char* status) {
    return wx::encode(wx::RefundRecord{.mchid = mchid,
                                       .refund_id = "503000000001",
                                       .out_refund_no = "refund_order_1",
                                       .transaction_id = "4200000017",
                                       .out_trade_no = "CUNHUO17",
                                       .status = status,
                                       .success_time = "",
                                       .refund = 300,
                                       .total = 1000});
  };
  const struct {
    const char* name;
    const char* event;
    std::string resource;
  } cases[] = {
      {"another merchant", "REFUND.ABNORMAL", refund("1111111111", "ABNORMAL")},
      {"no merchant", "REFUND.SUCCESS", refund("", "SUCCESS")},
      {"still processing", "REFUND.SUCCESS", refund("1900000109", "PROCESSING")},
      {"an event not its status", "REFUND.SUCCESS", refund("1900000109", "CLOSED")},
  };
  for (const auto& c : cases) {
    INFO(c.name);
    auto sealed = m.sandbox.sandbox().seal(c.event, c.resource);
    REQUIRE(sealed.ok());
    auto o = m.adapter->open_notification(as_notice(*sealed));
    REQUIRE_FALSE(o.ok());
    CHECK(o.error().code == wx::kBadNotification);
  }
  auto sealed = m.sandbox.sandbox().seal("REFUND.ABNORMAL", refund("1900000109", "ABNORMAL"));
  REQUIRE(sealed.ok());
  auto o = m.adapter->open_notification(as_notice(*sealed));
  REQUIRE(o.ok());
  CHECK(field(o->body, "status") == "ABNORMAL");
  CHECK(field(o->body, "out_refund_no") == "refund_order_1");
}

STORE_TEST("the day's trade bill downloads, its SHA1 checks, and its lines are the day's",
           "[wechatpay]") {
  Merchant m(store_kind);
  for (std::int64_t intent : {21, 22, 23}) {
    REQUIRE(m.adapter->create_payment(m.request(intent, intent * 100)).ok());
    if (intent != 23) REQUIRE(m.sandbox.sandbox().pay(wx::out_trade_no(intent), true).ok());
  }
  REQUIRE(m.adapter->refund(22, Money::fen(50), "refund:order:22").ok());
  auto lines = m.adapter->bill(format_date(shanghai_date(m.clock.now_ms())));
  REQUIRE(lines.ok());
  REQUIRE(lines->size() == 3);
  CHECK((*lines)[0].type == "payment");
  CHECK((*lines)[0].intent_id == 21);
  CHECK((*lines)[0].amount_fen == 2100);
  CHECK((*lines)[2].type == "refund");
  CHECK((*lines)[2].intent_id == 22);
  CHECK((*lines)[2].amount_fen == 50);
  auto other_day = m.adapter->bill(format_date(shanghai_date(m.clock.now_ms() - 86'400'000)));
  REQUIRE(other_day.ok());
  CHECK(other_day->empty());
}

STORE_TEST("after the sandbox rotates its certificate, notifications under either verify",
           "[wechatpay]") {
  Merchant m(store_kind);
  const std::string old_serial = m.sandbox.sandbox().platform_serial();
  CHECK(m.adapter->trusted_serials() == std::vector<std::string>{old_serial});
  const std::string resource = sandbox_transaction(31);
  auto under_old = m.sandbox.sandbox().seal("TRANSACTION.SUCCESS", resource);
  REQUIRE(under_old.ok());
  REQUIRE(m.sandbox.sandbox().rotate_certificate().ok());
  auto under_new = m.sandbox.sandbox().seal("TRANSACTION.SUCCESS", resource);
  REQUIRE(under_new.ok());
  CHECK(under_new->serial != old_serial);
  m.clock.advance(std::chrono::minutes(2));  // past the refresh gap since the adapter opened
  // Refused at once (WeChat Pay sends it again); the refresh it asked for fetched the new one.
  CHECK(refusal(m.adapter->open_notification(as_notice(*under_new))) == wx::kUnknownSerial);
  CHECK(m.adapter->open_notification(as_notice(*under_new)).ok());
  CHECK(m.adapter->open_notification(as_notice(*under_old)).ok());  // the old one still trusted
  CHECK(m.adapter->trusted_serials().size() == 2);
  // And every answer of the sandbox is now signed with the new key.
  REQUIRE(m.adapter->create_payment(m.request(32, 100)).ok());
}

STORE_TEST("a platform certificate outside its validity is not trusted", "[wechatpay]") {
  const struct {
    const char* name;
    std::chrono::hours moved;
  } cases[] = {
      {"expired (the sandbox's lasts 365 days)", std::chrono::hours(366 * 24)},
      {"not yet valid", std::chrono::hours(-24)},
  };
  for (const auto& c : cases) {
    INFO(c.name);
    Merchant m(store_kind);
    const std::string resource = sandbox_transaction(33);
    m.clock.advance(c.moved);
    auto sealed = m.sandbox.sandbox().seal("TRANSACTION.SUCCESS", resource);  // signed now
    REQUIRE(sealed.ok());
    auto o = m.adapter->open_notification(as_notice(*sealed));
    REQUIRE_FALSE(o.ok());
    CHECK(o.error().code == wx::kUnknownSerial);
    CHECK(m.adapter->trusted_serials().empty());
  }
}

// A proxy in front of the sandbox that loses answers: the adapter's retries.
struct LossyProxy {
  std::string target;
  std::string ca_file;
  std::atomic<int> lose_creates{0};
  std::atomic<int> fail_all{0};
  std::atomic<int> creates_forwarded{0};
  std::string last_create;  // the body of the last create forwarded
  // A man in the middle of /v3/certificates: these replace the answer's Wechatpay-* headers
  // (by their lower-case suffix: "serial", "timestamp", "signature").
  std::map<std::string, std::string> certificates_headers;
  // The same for the answer's body: each (from, to) replaced in it.
  std::vector<std::pair<std::string, std::string>> certificates_body;
  LocalServer server{[this](const FakeRequest& r) { return forward(r); }, std::nullopt};

  // Replace these headers of every other answer (by their lower-case suffix).
  std::map<std::string, std::string> answer_headers;
  // Forward requests without their Wechatpay-Serial (a merchant that does not name its
  // public key: a migrating WeChat Pay answers with the certificate).
  bool drop_request_serial = false;
  std::atomic<int> requests{0};  // every request that reached the proxy
  // The adapter's configuration for `sandbox` with its calls through this proxy.
  wx::Config in_front_of(PaySandbox& sandbox) {
    target = sandbox.sandbox().base_url();
    ca_file = sandbox.sandbox().ca_file();
    auto config = sandbox.config();
    config.api_base = server.url().substr(0, server.url().size() - 1);
    return config;
  }

  FakeReply forward(const FakeRequest& r) {
    ++requests;
    if (fail_all > 0) {
      --fail_all;
      return FakeReply{.status = 503, .body = R"({"code":"SYSTEM_ERROR","message":"busy"})"};
    }
    net::HttpClient client(net::HttpClientOptions{.ca_file = ca_file});
    net::HttpRequest out{
        .method = r.method, .url = target + r.target, .headers = {}, .body = r.body};
    for (const auto& [k, v] : r.headers)
      if (strcasecmp(k.c_str(), "host") != 0 && strcasecmp(k.c_str(), "content-length") != 0 &&
          strcasecmp(k.c_str(), "connection") != 0 &&
          !(drop_request_serial && strcasecmp(k.c_str(), wx::kSerialHeader) == 0))
        out.headers.emplace_back(k, v);
    auto answer = client.send(out);
    if (!answer.ok()) return FakeReply{.status = 502, .body = "{}"};
    const bool create = r.method == "POST" && r.target.starts_with("/v3/pay/transactions/h5");
    if (create) ++creates_forwarded;
    if (create) last_create = r.body;
    if (create && lose_creates > 0) {  // made at the provider, the answer lost on the way
      --lose_creates;
      return FakeReply{.status = 504, .body = R"({"code":"SYSTEM_ERROR","message":"lost"})"};
    }
    FakeReply reply{.status = answer->status, .body = answer->body, .headers = {}};
    if (r.target.starts_with("/v3/certificates"))
      for (const auto& [from, to] : certificates_body)
        for (auto at = reply.body.find(from); at != std::string::npos; at = reply.body.find(from))
          reply.body.replace(at, from.size(), to);
    for (const auto& [k, v] : answer->headers)
      if (k.starts_with("Wechatpay-") || k.starts_with("wechatpay-")) {
        std::string suffix = k.substr(10);
        for (char& ch : suffix) ch = static_cast<char>(std::tolower(ch));
        const bool certificates = r.target.starts_with("/v3/certificates");
        const auto& replaced = certificates ? certificates_headers : answer_headers;
        auto forged = replaced.find(suffix);
        const bool mitm = forged != replaced.end();
        reply.headers.emplace_back(k, mitm ? forged->second : v);
      }
    return reply;
  }
};

STORE_TEST("a create whose answer was lost is retried after a query: one order, one link",
           "[wechatpay]") {
  Merchant m(store_kind);
  LossyProxy proxy;
  auto config = proxy.in_front_of(m.sandbox);
  auto adapter = wx::WechatPayProvider::open(
      config, m.clock, wx::AdapterOptions{.attempts = 3, .backoff_ms = 1, .sleep = [](auto) {}});
  REQUIRE(adapter.ok());
  proxy.lose_creates = 1;
  auto made = (*adapter)->create_payment(m.request(41, 990));
  REQUIRE(made.ok());
  CHECK(proxy.creates_forwarded == 2);
  auto order = m.sandbox.sandbox().find("CUNHUO41");
  REQUIRE(order.ok());
  CHECK(made->pay_url.ends_with(order->prepay_id));
  // A paid order is not made again after a lost answer.
  REQUIRE(m.sandbox.sandbox().pay("CUNHUO41", true).ok());
  proxy.fail_all = 1;
  auto paid = (*adapter)->create_payment(m.request(41, 990));
  REQUIRE_FALSE(paid.ok());
  CHECK(paid.error().code == "already_paid");
}

STORE_TEST(
    "a /v3/certificates answer sealing a certificate otherwise than AES-256-GCM "
    "'certificate' is refused",
    "[wechatpay]") {
  Merchant m(store_kind);
  const struct {
    const char* name;
    std::pair<std::string, std::string> change;
  } cases[] = {
      {"another algorithm", {R"("algorithm":"AEAD_AES_256_GCM")", R"("algorithm":"AES")"}},
      {"another associated data",
       {R"("associated_data":"certificate")", R"("associated_data":"transaction")"}},
  };
  for (const auto& c : cases) {
    INFO(c.name);
    LossyProxy proxy;
    auto config = proxy.in_front_of(m.sandbox);
    auto adapter = wx::WechatPayProvider::open(
        config, m.clock, wx::AdapterOptions{.attempts = 1, .backoff_ms = 1, .sleep = [](auto) {}});
    REQUIRE(adapter.ok());
    proxy.certificates_body = {c.change};
    auto refreshed = (*adapter)->refresh_certificates();
    REQUIRE_FALSE(refreshed.ok());
    CHECK(refreshed.error().code == "bad_certificates");
  }
}

// Refusals in order of precedence: the signer must be named, then its signature must verify.
STORE_TEST("a /v3/certificates answer not signed by the certificate it names is refused",
           "[wechatpay]") {
  Merchant m(store_kind);
  const struct {
    const char* name;
    std::map<std::string, std::string> headers;
    std::string_view code;
  } cases[] = {
      {"a serial neither trusted nor carried",
       {{"serial", "NOT-A-TRUSTED-SERIAL"}, {"timestamp", "0"}, {"signature", "AAAA"}},
       wx::kUnknownSerial},
      {"the carried certificate's serial, a bad signature",
       {{"signature", "AAAA"}},
       wx::kBadSignature},
      {"a signature from another moment", {{"timestamp", "1796000001"}}, wx::kBadSignature},
  };
  for (const auto& c : cases) {
    INFO(c.name);
    LossyProxy proxy;
    proxy.certificates_headers = c.headers;
    auto config = proxy.in_front_of(m.sandbox);
    auto adapter = wx::WechatPayProvider::open(
        config, m.clock, wx::AdapterOptions{.attempts = 1, .backoff_ms = 1, .sleep = [](auto) {}});
    REQUIRE_FALSE(adapter.ok());
    CHECK(adapter.error().code == c.code);
  }
  // Untouched, the first download verifies with the certificate it carries (bootstrap).
  LossyProxy proxy;
  auto config = proxy.in_front_of(m.sandbox);
  auto adapter = wx::WechatPayProvider::open(config, m.clock);
  REQUIRE(adapter.ok());
  CHECK((*adapter)->trusted_serials().size() == 1);
}

STORE_TEST("an order is made with the platform's payment window as its time_expire",
           "[wechatpay]") {
  Merchant m(store_kind);
  LossyProxy proxy;
  auto config = proxy.in_front_of(m.sandbox);
  auto adapter = wx::WechatPayProvider::open(config, m.clock);
  REQUIRE(adapter.ok());
  auto request = m.request(44, 100);
  request.expires_at_ms = m.clock.now_ms() + 15 * 60 * 1000;
  REQUIRE((*adapter)->create_payment(request).ok());
  CHECK(field(proxy.last_create, "time_expire") == wx::beijing_time(request.expires_at_ms / 1000));
}

STORE_TEST("a provider answering 5xx is retried with back-off, and then fails", "[wechatpay]") {
  Merchant m(store_kind);
  LossyProxy proxy;
  auto config = proxy.in_front_of(m.sandbox);
  std::vector<std::int64_t> waits;
  auto adapter = wx::WechatPayProvider::open(
      config, m.clock,
      wx::AdapterOptions{.attempts = 3, .backoff_ms = 100, .sleep = [&](std::int64_t ms) {
                           waits.push_back(ms);
                         }});
  REQUIRE(adapter.ok());
  proxy.fail_all = 2;
  auto found = (*adapter)->query(42);  // two 503s, then the real answer
  REQUIRE(found.ok());
  CHECK(waits == std::vector<std::int64_t>{100, 200});
  proxy.fail_all = 3;
  auto failed = (*adapter)->query(42);
  REQUIRE_FALSE(failed.ok());
  CHECK(failed.error().code == pay::kProviderUnavailable);
}

STORE_TEST("a failing call's log line carries no key material", "[wechatpay]") {
  Merchant m(store_kind);
  LossyProxy proxy;
  auto config = proxy.in_front_of(m.sandbox);
  auto adapter = wx::WechatPayProvider::open(
      config, m.clock, wx::AdapterOptions{.attempts = 1, .backoff_ms = 1, .sleep = [](auto) {}});
  REQUIRE(adapter.ok());
  std::ostringstream out;
  auto previous = spdlog::default_logger();
  spdlog::set_default_logger(
      make_logger(std::make_shared<spdlog::sinks::ostream_sink_mt>(out), "info"));
  proxy.fail_all = 1;
  CHECK_FALSE((*adapter)->refund(43, Money::fen(1), "refund:order:43").ok());
  spdlog::set_default_logger(previous);
  const std::string text = out.str();
  CHECK(text.find("wechatpay: GET /v3/pay/transactions/out-trade-no/CUNHUO43") !=
        std::string::npos);
  CHECK(text.find(config.apiv3_key) == std::string::npos);
  CHECK(text.find("WECHATPAY2") == std::string::npos);
  CHECK(text.find("signature=") == std::string::npos);
  CHECK(text.find("PRIVATE KEY") == std::string::npos);
}

TEST_CASE("a configuration others may read is refused, as ssh refuses a key", "[wechatpay]") {
  ManualClock clock(1'796'000'000'000);
  PaySandbox sandbox(clock, SandboxSetup{.notify_url = "http://127.0.0.1:1/notify"});
  auto ok = wx::load_config(sandbox.config_file());
  REQUIRE(ok.ok());
  CHECK(ok->apiv3_key == sandbox.config().apiv3_key);
  REQUIRE(::chmod(sandbox.config_file().c_str(), 0640) == 0);
  auto refused = wx::load_config(sandbox.config_file());
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.error().message.find("chmod 600") != std::string::npos);
  CHECK(refused.error().message.find(sandbox.config().apiv3_key) == std::string::npos);
}

TEST_CASE("a merchant key file others may read, or encrypted, is refused", "[wechatpay]") {
  ManualClock clock(1'796'000'000'000);
  PaySandbox sandbox(clock, SandboxSetup{.notify_url = "http://127.0.0.1:1/notify"});
  const std::string key_file = sandbox.config().private_key_file;
  REQUIRE(::chmod(key_file.c_str(), 0644) == 0);
  auto readable = wx::WechatPayProvider::open(sandbox.config(), clock);
  REQUIRE_FALSE(readable.ok());
  CHECK(readable.error().field == "private_key_file");
  CHECK(readable.error().message.find("chmod 600") != std::string::npos);
  const std::string encrypted =
      "-----BEGIN ENCRYPTED PRIVATE KEY-----\nMIIFHDBOBgkqhkiG9w0BBQ0wQTApBgkqhkiG9w0BBQwwHAQI\n"
      "-----END ENCRYPTED PRIVATE KEY-----\n";
  REQUIRE(wx::write_secret_file(key_file, encrypted).ok());
  auto locked = wx::WechatPayProvider::open(sandbox.config(), clock);  // never prompts
  REQUIRE_FALSE(locked.ok());
  CHECK(locked.error().message.find("encrypted") != std::string::npos);
}

TEST_CASE("a bad configuration line is refused without echoing its value", "[wechatpay]") {
  ManualClock clock(1'796'000'000'000);
  PaySandbox sandbox(clock, SandboxSetup{.notify_url = "http://127.0.0.1:1/notify"});
  const std::string key = sandbox.config().apiv3_key;
  for (const std::string& line : std::vector<std::string>{"apiv3_key=" + key, key, "apiv3_key"}) {
    INFO(line.substr(0, 10));
    REQUIRE(wx::write_secret_file(sandbox.config_file(), "mchid 1900000109\n" + line + "\n").ok());
    auto refused = wx::load_config(sandbox.config_file());
    REQUIRE_FALSE(refused.ok());
    CHECK(refused.error().message.find(key) == std::string::npos);
    CHECK(refused.error().field.find(key) == std::string::npos);
  }
}

TEST_CASE("a configuration is written 0600 and never through a planted symlink", "[wechatpay]") {
  ManualClock clock(1'796'000'000'000);
  PaySandbox sandbox(clock, SandboxSetup{.notify_url = "http://127.0.0.1:1/notify"});
  const std::string target = sandbox.dir() + "/elsewhere", path = sandbox.dir() + "/planted.conf";
  REQUIRE(wx::write_secret_file(target, "untouched").ok());
  REQUIRE(::chmod(target.c_str(), 0644) == 0);
  REQUIRE(::symlink(target.c_str(), path.c_str()) == 0);
  REQUIRE(wx::write_config(path, sandbox.config()).ok());
  struct stat st {};
  REQUIRE(::lstat(path.c_str(), &st) == 0);
  CHECK(S_ISREG(st.st_mode));
  CHECK((st.st_mode & 0777) == 0600);
  REQUIRE(::stat(target.c_str(), &st) == 0);
  CHECK(st.st_size == 9);  // "untouched"
  CHECK(wx::load_config(path).ok());
}

TEST_CASE("a configuration whose api_base is not https is refused", "[wechatpay]") {
  ManualClock clock(1'796'000'000'000);
  PaySandbox sandbox(clock, SandboxSetup{.notify_url = "http://127.0.0.1:1/notify"});
  auto config = sandbox.config();
  for (const char* base : {"http://api.mch.weixin.qq.com", "http://127.0.0.1:8443", "ftp://x"}) {
    INFO(base);
    config.api_base = base;
    REQUIRE(wx::write_config(sandbox.config_file(), config).ok());
    auto refused = wx::load_config(sandbox.config_file());
    REQUIRE_FALSE(refused.ok());
    CHECK(refused.error().field == "api_base");
    CHECK(refused.error().message.find("https://") != std::string::npos);
  }
  config.api_base = "https://api.mch.weixin.qq.com";
  REQUIRE(wx::write_config(sandbox.config_file(), config).ok());
  CHECK(wx::load_config(sandbox.config_file()).ok());
}

}  // namespace cunhuo::test

namespace cunhuo::test {

STORE_TEST("the sandbox keeps its orders, refunds and certificate across a restart",
           "[wechatpay]") {
  namespace ps = paysandbox;
  ManualClock clock(1'796'000'000'000);
  TestStore store(store_kind);
  const std::string dir = temp_dir();
  auto merchant = ps::ensure_merchant(dir + "/merchant");
  REQUIRE(merchant.ok());
  auto open = [&] {
    auto sandbox =
        ps::Sandbox::open(ps::options_for(*merchant, ps::Options{.data_dir = dir + "/sandbox",
                                                                 .db_url = store.url(),
                                                                 .deliver_in_background = false}),
                          clock);
    REQUIRE(sandbox.ok());
    REQUIRE((*sandbox)->start().ok());
    return std::move(*sandbox);
  };
  auto adapter_for = [&](const ps::Sandbox& sandbox) {
    auto adapter = wx::WechatPayProvider::open(
        ps::adapter_config(*merchant, sandbox, "http://127.0.0.1:1/notify"), clock,
        wx::AdapterOptions{.attempts = 1, .backoff_ms = 1, .sleep = [](auto) {}});
    REQUIRE(adapter.ok());
    return std::move(*adapter);
  };
  std::string serial;
  {
    auto first = open();
    serial = first->platform_serial();
    auto adapter = adapter_for(*first);
    REQUIRE(adapter->create_payment(pay::PaymentRequest{51, Money::fen(880), "CNY", "羊肉"}).ok());
    REQUIRE(first->pay("CUNHUO51", true).ok());
    first->stop();
  }
  auto again = open();
  CHECK(again->platform_serial() == serial);
  auto adapter = adapter_for(*again);
  auto paid = adapter->query(51);
  REQUIRE(paid.ok());
  REQUIRE(*paid);
  CHECK((*paid)->trade_state == "SUCCESS");
  CHECK(adapter->refund(51, Money::fen(80), "refund:order:51").ok());
}

// A proxy in front of the sandbox, and an adapter configured through it with `options`.
struct Proxied {
  LossyProxy proxy;
  std::unique_ptr<wx::WechatPayProvider> adapter;
  Proxied(Merchant& m, wx::AdapterOptions options) {
    proxy.target = m.sandbox.sandbox().base_url();
    proxy.ca_file = m.sandbox.sandbox().ca_file();
    auto config = m.sandbox.config();
    config.api_base = proxy.server.url().substr(0, proxy.server.url().size() - 1);
    auto opened = wx::WechatPayProvider::open(config, m.clock, std::move(options));
    REQUIRE(opened.ok());
    adapter = std::move(*opened);
  }
};

STORE_TEST("a create that keeps failing asks once, without retries, between its attempts",
           "[wechatpay][create-retries]") {
  Merchant m(store_kind);
  Proxied p(m, wx::AdapterOptions{.attempts = 3, .backoff_ms = 1, .sleep = [](auto) {}});
  p.proxy.requests = 0;
  p.proxy.fail_all = 100;
  auto made = p.adapter->create_payment(m.request(51, 990));
  REQUIRE_FALSE(made.ok());
  CHECK(made.error().code == pay::kProviderUnavailable);
  CHECK(p.proxy.requests == 3 + 2);  // three creates, one query between each two
}

STORE_TEST("a create stops once its back-off would pass its deadline",
           "[wechatpay][create-retries]") {
  Merchant m(store_kind);
  std::vector<std::int64_t> waits;
  Proxied p(m, wx::AdapterOptions{.attempts = 5,
                                  .backoff_ms = 1000,
                                  .sleep = [&](std::int64_t ms) { waits.push_back(ms); },
                                  .create_deadline_ms = 2500});
  p.proxy.requests = 0;
  p.proxy.fail_all = 100;
  REQUIRE_FALSE(p.adapter->create_payment(m.request(52, 990)).ok());
  CHECK(waits == std::vector<std::int64_t>{1000});  // a second wait (2 s) would pass 2.5 s
  CHECK(p.proxy.requests == 2 + 1);
}

TEST_CASE("a configuration built in code with an unknown trade type is refused when paying",
          "[wechatpay]") {
  Merchant m(StoreKind::sqlite);
  auto config = m.sandbox.config();
  config.trade_type = "app";
  auto adapter = wx::WechatPayProvider::open(config, m.clock);
  REQUIRE(adapter.ok());
  auto made = (*adapter)->create_payment(m.request(53, 100));
  REQUIRE_FALSE(made.ok());
  CHECK(made.error().code == "bad_wechatpay_config");
  CHECK(made.error().field == "trade_type");
}

TEST_CASE("the bill counts a refund line only when its refund status is SUCCESS",
          "[wechatpay][bill]") {
  const struct {
    const char* status;
    bool counted;
  } cases[] = {{"SUCCESS", true}, {"PROCESSING", false}, {"ABNORMAL", false}, {"CLOSED", false}};
  for (const auto& c : cases) {
    INFO(c.status);
    const std::vector<wx::TradeBillLine> lines = {{.trade_time = "2026-12-07 10:00:00",
                                                   .transaction_id = "4200000000000000000000000001",
                                                   .out_trade_no = "CUNHUO61",
                                                   .trade_state = "SUCCESS",
                                                   .total = 7960},
                                                  {.trade_time = "2026-12-07 11:00:00",
                                                   .transaction_id = "4200000000000000000000000001",
                                                   .out_trade_no = "CUNHUO61",
                                                   .trade_state = "REFUND",
                                                   .refund_id = "50300000000000000000000001",
                                                   .out_refund_no = "refund_order_9",
                                                   .total = 7960,
                                                   .refund = 3980,
                                                   .refund_status = c.status}};
    auto parsed = wx::parse_trade_bill(wx::format_trade_bill("wxapp", "1900000109", lines));
    REQUIRE(parsed.ok());
    REQUIRE(parsed->size() == 2);
    CHECK((*parsed)[1].refund_status == c.status);
    const auto bill = wx::platform_bill(*parsed);
    CHECK(bill.size() == (c.counted ? 2u : 1u));
    CHECK(bill.front().type == "payment");
    if (c.counted) CHECK(bill.back().amount_fen == 3980);
  }
}

STORE_TEST("the adapter opens while WeChat Pay cannot be reached, not ready until it trusts",
           "[wechatpay][boot]") {
  Merchant m(store_kind);
  auto config = m.sandbox.config();
  config.api_base = "https://127.0.0.1:1";  // nothing listens
  auto adapter = wx::WechatPayProvider::open(
      config, m.clock, wx::AdapterOptions{.attempts = 1, .backoff_ms = 1, .sleep = [](auto) {}});
  REQUIRE(adapter.ok());
  CHECK_FALSE((*adapter)->ready());
  CHECK((*adapter)->trusted_serials().empty());
}

STORE_TEST("a restart while WeChat Pay cannot be reached trusts the certificates kept before",
           "[wechatpay][boot]") {
  Merchant m(store_kind);
  const std::string kept = temp_dir() + "/platform.pem";
  const wx::AdapterOptions options{
      .attempts = 1, .backoff_ms = 1, .sleep = [](auto) {}, .trusted_file = kept};
  auto first = wx::WechatPayProvider::open(m.sandbox.config(), m.clock, options);
  REQUIRE(first.ok());
  REQUIRE((*first)->ready());
  auto config = m.sandbox.config();
  config.api_base = "https://127.0.0.1:1";
  auto restarted = wx::WechatPayProvider::open(config, m.clock, options);
  REQUIRE(restarted.ok());
  CHECK((*restarted)->ready());
  CHECK((*restarted)->trusted_serials() ==
        std::vector<std::string>{m.sandbox.sandbox().platform_serial()});
  // What it trusts verifies the provider's notifications while the fetch still fails.
  auto sealed = m.sandbox.sandbox().seal("TRANSACTION.SUCCESS", R"({"x":1})");
  REQUIRE(sealed.ok());
  auto opened =
      (*restarted)
          ->open_notification(pay::Notification{sealed->serial, sealed->timestamp, sealed->nonce,
                                                sealed->signature, sealed->body});
  REQUIRE_FALSE(opened.ok());
  CHECK(opened.error().code == wx::kBadNotification);  // verified: its content is refused
}

// ---- The WeChat Pay public key (微信支付公钥) -------------------------------------------

STORE_TEST("a public-key merchant's orders, notifications and refunds verify with the key",
           "[wechatpay][public-key]") {
  Merchant m(store_kind, 0, 0, paysandbox::Signing::public_key);
  CHECK(m.adapter->ready());
  CHECK(m.adapter->trusted_serials().empty());  // no certificate downloaded, none needed
  REQUIRE(m.adapter->create_payment(m.request(51, 1200)).ok());
  auto before = m.adapter->query(51);
  REQUIRE(before.ok());
  CHECK((*before)->trade_state == "NOTPAY");
  REQUIRE(m.sandbox.sandbox().pay("CUNHUO51", true).ok());
  auto sealed = m.sandbox.sandbox().seal("TRANSACTION.SUCCESS", sandbox_transaction(51));
  REQUIRE(sealed.ok());
  CHECK(sealed->serial == kTestPublicKeyId);  // what WeChat Pay names in Wechatpay-Serial
  CHECK(m.deliver() == 1);
  REQUIRE(m.callback.opened.size() == 1);
  CHECK(field(m.callback.opened[0], "event_type") == "TRANSACTION.SUCCESS");
  auto refund = m.adapter->refund(51, Money::fen(200), "refund:order:51");
  REQUIRE(refund.ok());
  auto record = m.adapter->query_refund("refund:order:51");
  REQUIRE(record.ok());
  CHECK(record->status == "SUCCESS");
  CHECK(m.deliver() == 1);
  REQUIRE(m.callback.opened.size() == 2);
  CHECK(field(m.callback.opened[1], "event_type") == "REFUND.SUCCESS");
  auto lines = m.adapter->bill(format_date(shanghai_date(m.clock.now_ms())));
  REQUIRE(lines.ok());
  CHECK(lines->size() == 2);
}

STORE_TEST("a public-key merchant's adapter starts ready with WeChat Pay unreachable",
           "[wechatpay][public-key][boot]") {
  Merchant m(store_kind, 0, 0, paysandbox::Signing::public_key);
  LossyProxy proxy;
  auto config = proxy.in_front_of(m.sandbox);
  proxy.fail_all = 100;
  auto adapter = wx::WechatPayProvider::open(config, m.clock);
  REQUIRE(adapter.ok());
  CHECK((*adapter)->ready());
  CHECK(proxy.requests == 0);  // no /v3/certificates download
}

// Refusals in order of precedence: the key named, then its signature. Nothing is opened,
// and no certificate download is asked for (none would bring a public key).
STORE_TEST(
    "a notification naming an unknown public key id, or the certificate's signature under "
    "the key's id, is refused",
    "[wechatpay][public-key]") {
  Merchant m(store_kind, 0, 0, paysandbox::Signing::migrating);
  std::vector<std::function<void()>> asked;
  auto adapter = m.sandbox.adapter(m.clock, [&](auto task) { asked.push_back(task); });
  auto& sandbox = m.sandbox.sandbox();
  auto good = sandbox.seal("TRANSACTION.SUCCESS", sandbox_transaction(52));
  REQUIRE(good.ok());
  auto by_key = sandbox.sign_with(paysandbox::Sandbox::Key::public_key, good->body);
  auto by_certificate = sandbox.sign_with(paysandbox::Sandbox::Key::certificate, good->body);
  REQUIRE(by_key.ok());
  REQUIRE(by_certificate.ok());
  m.clock.advance(std::chrono::minutes(2));  // a certificate refresh would be due
  const struct {
    const char* name;
    pay::Notification notice;
    std::string_view code;
  } cases[] = {
      {"another public key's id",
       {"PUB_KEY_ID_01142321349124100000000000000002", by_key->timestamp, by_key->nonce,
        by_key->signature, by_key->body},
       wx::kUnknownSerial},
      {"the certificate's signature naming the key's id",
       {kTestPublicKeyId, by_certificate->timestamp, by_certificate->nonce,
        by_certificate->signature, by_certificate->body},
       wx::kBadSignature},
  };
  for (const auto& c : cases) {
    INFO(c.name);
    auto o = adapter->open_notification(c.notice);
    REQUIRE_FALSE(o.ok());
    CHECK(o.error().code == c.code);
  }
  CHECK(asked.empty());
  CHECK(adapter->open_notification(as_notice(*by_key)).ok());
}

// Refusals in order of precedence, as for notifications: the key named, then its signature.
STORE_TEST(
    "an answer naming an unknown public key id, or the certificate's signature under the "
    "key's id, is refused",
    "[wechatpay][public-key]") {
  Merchant m(store_kind, 0, 0, paysandbox::Signing::migrating);
  REQUIRE(m.adapter->create_payment(m.request(53, 100)).ok());
  const struct {
    const char* name;
    std::map<std::string, std::string> headers;
    bool drop_request_serial;
    std::string_view code;
  } cases[] = {
      {"another public key's id",
       {{"serial", "PUB_KEY_ID_01142321349124100000000000000002"}},
       false,
       wx::kUnknownSerial},
      // Asked without the key's id, a migrating WeChat Pay signs with the certificate.
      {"the certificate's signature naming the key's id",
       {{"serial", kTestPublicKeyId}},
       true,
       wx::kBadSignature},
  };
  for (const auto& c : cases) {
    INFO(c.name);
    LossyProxy proxy;
    auto config = proxy.in_front_of(m.sandbox);
    auto adapter = wx::WechatPayProvider::open(
        config, m.clock, wx::AdapterOptions{.attempts = 1, .backoff_ms = 1, .sleep = [](auto) {}});
    REQUIRE(adapter.ok());
    proxy.answer_headers = c.headers;
    proxy.drop_request_serial = c.drop_request_serial;
    auto found = (*adapter)->query(53);
    REQUIRE_FALSE(found.ok());
    CHECK(found.error().code == c.code);
  }
}

STORE_TEST("a migrating merchant verifies under the certificate and under the public key",
           "[wechatpay][public-key]") {
  Merchant m(store_kind, /*duplicates=*/1, 0, paysandbox::Signing::migrating);
  CHECK(m.adapter->trusted_serials().size() == 1);  // the certificates, still served
  // Answers: with the key when the request names it (the adapter does), else the certificate.
  REQUIRE(m.adapter->create_payment(m.request(54, 300)).ok());
  LossyProxy proxy;
  auto config = proxy.in_front_of(m.sandbox);
  proxy.drop_request_serial = true;
  auto unnamed = wx::WechatPayProvider::open(config, m.clock);
  REQUIRE(unnamed.ok());
  auto queried = (*unnamed)->query(54);
  REQUIRE(queried.ok());
  CHECK((*queried)->trade_state == "NOTPAY");
  // Notifications: the sandbox sends them under the key and the certificate in turn.
  REQUIRE(m.sandbox.sandbox().pay("CUNHUO54", true).ok());
  CHECK(m.deliver() == 2);
  CHECK(m.callback.refused.empty());
  const std::string body = m.sandbox.sandbox().seal("TRANSACTION.SUCCESS", "{}")->body;
  for (auto key : {paysandbox::Sandbox::Key::public_key, paysandbox::Sandbox::Key::certificate}) {
    auto signed_ = m.sandbox.sandbox().sign_with(key, body);
    REQUIRE(signed_.ok());
    auto o = m.adapter->open_notification(as_notice(*signed_));
    REQUIRE_FALSE(o.ok());
    CHECK(o.error().code == wx::kBadNotification);  // verified: only its content is refused
  }
}

// ---- A notification naming an unknown certificate serial --------------------------------

STORE_TEST(
    "a notification naming an unknown serial is refused at once; one refresh runs in the "
    "background, at most once a minute",
    "[wechatpay][refresh]") {
  Merchant m(store_kind);
  std::vector<std::function<void()>> asked;
  auto adapter = m.sandbox.adapter(m.clock, [&](auto task) { asked.push_back(task); });
  const std::string resource = sandbox_transaction(55);
  REQUIRE(m.sandbox.sandbox().rotate_certificate().ok());
  auto under_new = m.sandbox.sandbox().seal("TRANSACTION.SUCCESS", resource);
  REQUIRE(under_new.ok());
  auto open = [&] { return adapter->open_notification(as_notice(*under_new)); };
  // Within the minute since the adapter fetched at start: refused, nothing asked.
  CHECK(refusal(open()) == wx::kUnknownSerial);
  CHECK(asked.empty());
  m.clock.advance(std::chrono::seconds(wx::kRefreshGapMs / 1000));
  CHECK(refusal(open()) == wx::kUnknownSerial);  // answered without fetching
  REQUIRE(asked.size() == 1);
  CHECK(adapter->trusted_serials().size() == 1);
  m.clock.advance(std::chrono::minutes(2));
  CHECK(refusal(open()) == wx::kUnknownSerial);
  CHECK(asked.size() == 1);  // one refresh in flight at most
  asked.front()();           // the refresh runs
  CHECK(adapter->trusted_serials().size() == 2);
  CHECK(open().ok());  // WeChat Pay's next copy verifies
  // Another unknown serial within the minute after that refresh asks for none.
  auto forged = as_notice(*under_new);
  forged.serial = "5000DEADBEEF";
  CHECK(refusal(adapter->open_notification(forged)) == wx::kUnknownSerial);
  CHECK(asked.size() == 1);
  m.clock.advance(std::chrono::seconds(wx::kRefreshGapMs / 1000));
  CHECK(refusal(adapter->open_notification(forged)) == wx::kUnknownSerial);
  CHECK(asked.size() == 2);
}

// ---- The configuration of the public key ---------------------------------------------

TEST_CASE("a configuration names certificates, a public key or both, and nothing else",
          "[wechatpay][public-key]") {
  ManualClock clock(1'796'000'000'000);
  PaySandbox sandbox(clock, SandboxSetup{.notify_url = "http://127.0.0.1:1/notify",
                                         .signing = paysandbox::Signing::migrating});
  const std::string file = sandbox.config().wechatpay_public_key_file;
  std::string base;
  {
    auto c = sandbox.config();
    c.wechatpay_public_key_file.clear();
    c.wechatpay_public_key_id.clear();
    REQUIRE(wx::write_config(sandbox.config_file(), c).ok());
    auto plain = wx::load_config(sandbox.config_file());
    REQUIRE(plain.ok());
    CHECK(plain->platform_certificates);  // as every configuration before the public key
    std::ifstream in(sandbox.config_file());
    std::stringstream text;
    text << in.rdbuf();
    base = text.str();
    base = base.substr(0, base.find("platform_certificates"));
  }
  const std::string key_lines =
      "wechatpay_public_key_file " + file + "\nwechatpay_public_key_id " + kTestPublicKeyId + "\n";
  const struct {
    const char* name;
    std::string lines;
    bool certificates;
  } accepted[] = {
      {"the public key only", key_lines, false},
      {"both (migrating)", key_lines + "platform_certificates yes\n", true},
      {"certificates only", "platform_certificates yes\n", true},
  };
  for (const auto& a : accepted) {
    INFO(a.name);
    REQUIRE(wx::write_secret_file(sandbox.config_file(), base + a.lines).ok());
    auto c = wx::load_config(sandbox.config_file());
    REQUIRE(c.ok());
    CHECK(c->platform_certificates == a.certificates);
    CHECK(c->wechatpay_public_key_id == (a.lines.empty() || !a.lines.starts_with("wechatpay")
                                             ? std::string()
                                             : std::string(kTestPublicKeyId)));
  }
  const struct {
    const char* name;
    std::string lines;
    const char* field;
  } refused[] = {
      {"neither", "platform_certificates no\n", "platform_certificates"},
      {"a file without its id", "wechatpay_public_key_file " + file + "\n",
       "wechatpay_public_key_id"},
      {"an id without its file", std::string("wechatpay_public_key_id ") + kTestPublicKeyId + "\n",
       "wechatpay_public_key_file"},
      {"an id not PUB_KEY_ID_ and digits",
       "wechatpay_public_key_file " + file + "\nwechatpay_public_key_id 5157F09EFDC096DE\n",
       "wechatpay_public_key_id"},
      {"platform_certificates neither yes nor no", key_lines + "platform_certificates maybe\n",
       "platform_certificates"},
  };
  for (const auto& r : refused) {
    INFO(r.name);
    REQUIRE(wx::write_secret_file(sandbox.config_file(), base + r.lines).ok());
    auto c = wx::load_config(sandbox.config_file());
    REQUIRE_FALSE(c.ok());
    CHECK(c.error().code == "bad_wechatpay_config");
    CHECK(c.error().field == r.field);
  }
}

TEST_CASE("a WeChat Pay public key file others may change, or not a public key, is refused",
          "[wechatpay][public-key]") {
  ManualClock clock(1'796'000'000'000);
  PaySandbox sandbox(clock, SandboxSetup{.notify_url = "http://127.0.0.1:1/notify",
                                         .signing = paysandbox::Signing::public_key});
  const std::string file = sandbox.config().wechatpay_public_key_file;
  REQUIRE(wx::WechatPayProvider::open(sandbox.config(), clock).ok());
  REQUIRE(::chmod(file.c_str(), 0666) == 0);
  auto writable = wx::WechatPayProvider::open(sandbox.config(), clock);
  REQUIRE_FALSE(writable.ok());
  CHECK(writable.error().field == "wechatpay_public_key_file");
  REQUIRE(::chmod(file.c_str(), 0644) == 0);  // readable by all is fine: it is public
  REQUIRE(wx::WechatPayProvider::open(sandbox.config(), clock).ok());
  REQUIRE(wx::write_secret_file(file, "-----BEGIN CERTIFICATE-----\nMIIB\n").ok());
  auto garbage = wx::WechatPayProvider::open(sandbox.config(), clock);
  REQUIRE_FALSE(garbage.ok());
  CHECK(garbage.error().field == "wechatpay_public_key_file");
}

}  // namespace cunhuo::test
