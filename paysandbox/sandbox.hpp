// The payment sandbox: a provider of its own that speaks WeChat Pay's merchant API v3, so
// the platform's real adapter (payments/wechatpay) is what every payment test and the demo
// run. It listens on loopback over HTTPS (a self-signed certificate made at first start,
// which is also the CA file the adapter trusts), checks the merchant's request signatures,
// signs its answers with its platform key (an RSA key and self-signed X.509 certificate,
// rotated on demand: the old one stays served until it expires), keeps orders, refunds and
// notifications in its own store, shows the payer a small page to pay or fail, and sends
// signed, AES-GCM-encrypted notifications with back-off until a 2xx, with configurable
// duplicates and late copies. It signs as for a merchant of platform certificates, of the
// WeChat Pay public key, or migrating from one to the other (Signing). Runs in-process
// (tests) or as `cunhuo-paysandbox`.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "core/clock.hpp"
#include "core/result.hpp"

namespace cunhuo::paysandbox {

inline constexpr std::int64_t kNotifyTimeoutMs = 5'000;  // WeChat Pay waits 5 s for the answer
// Connections are served by this many threads, so a client that holds one open (or sends
// slowly) stalls one thread, not the sandbox; at most kMaxWaitingConnections more wait, the
// rest are closed at once. Each has kConnectionDeadlineMs to be served, then it is cut.
inline constexpr int kServeThreads = 4;
inline constexpr std::size_t kMaxWaitingConnections = 64;
inline constexpr std::int64_t kConnectionDeadlineMs = 10'000;
inline constexpr std::uint32_t kMaxHeaderBytes = 8 * 1024;  // more: 431
inline constexpr std::uint64_t kMaxBodyBytes = 1 << 20;     // more: 413

// What the sandbox signs answers and notifications with, as WeChat Pay does for a merchant:
// its platform certificate's key (served by /v3/certificates); a WeChat Pay public key
// (微信支付公钥: a new merchant, no certificate served); or, migrating from one to the other,
// answers signed as the request's Wechatpay-Serial asks (the public key's id: the key) and
// notifications with the key and the certificate in turn.
enum class Signing { certificate, public_key, migrating };
std::optional<Signing> signing_of(std::string_view name);  // certificate, public_key, migrating

struct Options {
  std::string data_dir;            // keys, certificates and the store (paysandbox.db) live here
  std::string db_url;              // default: sqlite:<data_dir>/paysandbox.db
  std::string host = "127.0.0.1";  // loopback only: anyone reaching it can "pay"
  std::uint16_t port = 0;          // 0: any free port
  // The merchant it serves: its id, the public key its requests are signed with, the
  // serial of its certificate, the APIv3 key notifications are encrypted under.
  std::string mchid, appid, merchant_public_key_pem, merchant_serial, apiv3_key;
  std::string return_url;    // where the payer's browser goes after paying (the platform)
  int duplicates = 1;        // extra copies of every notification, sent at once
  std::int64_t late_ms = 0;  // > 0: one more copy sent this long after the first
  std::int64_t retry_base_ms = 1000, retry_cap_ms = 5 * 60 * 1000;
  int max_attempts = 15;
  bool deliver_in_background = true;  // tests drive deliver_due() themselves
  // The demo loader's way of paying at a moment of the demo's history (see pay()): off,
  // anyone holding a pay link could have a platform-signed, back-dated notification.
  bool back_dated_payments = false;
  std::int64_t connection_deadline_ms = kConnectionDeadlineMs;
  std::int64_t poll_ms = 200;
  int certificate_days = 365;
  Signing signing = Signing::certificate;
  // The public key's id (PUB_KEY_ID_ and digits) and the private half WeChat Pay signs
  // with; used unless signing is certificate.
  std::string public_key_id, public_key_private_pem;
};

// What the sandbox knows of an order, for tests and its own page.
struct Order {
  std::string out_trade_no, transaction_id, prepay_id, trade_type, trade_state;
  std::int64_t total = 0;
};

class Sandbox {
 public:
  // Opens the store and keys (made at first start), binds the listener; serves after start().
  static Result<std::unique_ptr<Sandbox>> open(Options options, const Clock& clock);
  virtual ~Sandbox() = default;

  virtual Status start() = 0;
  virtual void stop() = 0;
  virtual std::uint16_t port() const = 0;
  // "https://127.0.0.1:PORT": the API base the adapter is configured with.
  virtual std::string base_url() const = 0;
  // The listener's self-signed certificate: the adapter's CA file.
  virtual std::string ca_file() const = 0;
  virtual std::string platform_serial() const = 0;
  // The WeChat Pay public key's id it signs with; "" when it signs with certificates only.
  virtual std::string public_key_id() const = 0;

  // The payer pays (or the payment fails) for the order with this prepay id / out_trade_no:
  // the sandbox page's buttons; the notifications are queued. Over HTTP the page's
  // POST /pay/{prepay_id}/confirm with {"in_hand": true, "paid_at_ms": N} instead answers
  // the signed notification (the demo loader's way: see payer_in_hand), only with
  // Options::back_dated_payments (403 otherwise).
  virtual Status pay(const std::string& out_trade_no, bool success) = 0;
  virtual Result<Order> find(const std::string& out_trade_no) = 0;
  // Where the payer's browser goes once they decided (known once the platform listens).
  virtual void set_return_url(std::string url) = 0;
  // Sends every notification that is due once; returns how many were acknowledged (2xx).
  virtual Result<int> deliver_due() = 0;
  // Held: the background loop sends nothing (a test sends with deliver_due when it says).
  virtual void hold_background_delivery(bool held) = 0;
  // A notification of `event_type` for `resource` (its plaintext JSON), encrypted and
  // signed now as the sandbox sends them: (headers, body). Tests forge from it.
  struct Sealed {
    std::string serial, timestamp, nonce, signature, body;
  };
  virtual Result<Sealed> seal(const std::string& event_type, const std::string& resource) = 0;
  // `body` signed now as a notification (a test forges a notification's body with it).
  virtual Result<Sealed> sign(const std::string& body) = 0;
  // `body` signed now with the platform certificate's key, or with the public key.
  enum class Key { certificate, public_key };
  virtual Result<Sealed> sign_with(Key key, const std::string& body) = 0;
  // A new platform key and certificate, used from now on; the old one is still served by
  // /v3/certificates until it expires.
  virtual Status rotate_certificate() = 0;
};

}  // namespace cunhuo::paysandbox
