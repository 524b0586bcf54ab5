// The built-in payment provider sandbox, in the style of WeChat Pay's and Alipay's: it
// takes payment requests, shows the payer a page to confirm or fail, then notifies the
// platform asynchronously as real providers do: each notification signed with the
// provider's Ed25519 key over timestamp, nonce and body, sent again with back-off until
// the platform answers 2xx, sometimes twice (providers promise at least once). It
// refunds, serves a daily bill, and can send a deliberately mis-signed probe. Served by
// the same binary; switched off in production (`payment-simulator off`).
#pragma once

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <span>
#include <thread>

#include "core/clock.hpp"
#include "core/db/database.hpp"
#include "core/db/migrations.hpp"
#include "core/net/http_client.hpp"
#include "payments/provider.hpp"
#include "payments/signing.hpp"

namespace cunhuo::payments {

// How long the platform has to answer a notification (WeChat Pay allows 5 s).
inline constexpr std::int64_t kNotifyTimeoutMs = 5'000;

struct SimulatorOptions {
  std::string notify_url;             // http(s)://host:port/path of the platform's callback
  bool send_twice = true;             // every notification is also sent a second time
  std::int64_t retry_base_ms = 1000;  // back-off: base * 2^attempts, capped
  std::int64_t retry_cap_ms = 5 * 60 * 1000;
  int max_attempts = 24;  // then the provider gives up, as real ones do
  std::int64_t poll_ms = 200;
};

struct SimPayment {
  std::int64_t id = 0, intent_id = 0;
  Money amount;
  std::string status;  // created, succeeded, failed
};

inline constexpr std::size_t kPayerTokenChars = 32;  // hex: 128 bits

class Simulator final : public PaymentProvider {
 public:
  static constexpr const char* kName = "sim";
  // The payer's capability in the pay URL (/sim/pay/{id}/{token}), as a real provider's H5
  // link carries its prepay id: whoever holds the link may pay, no one can guess it. Derived
  // from the sandbox's own key, so nothing more is stored.
  std::string payer_token(std::int64_t payment_id) const;
  bool payer_token_valid(std::int64_t payment_id, std::string_view token) const;
  // The payment a pay URL of this sandbox opens; nullopt for any other URL.
  static std::optional<std::int64_t> payment_of_url(std::string_view pay_url);
  Simulator(db::Database& db, const Clock& clock, SigningKey key, SimulatorOptions options);
  ~Simulator() override;
  static std::span<const db::Migration> migrations();

  std::string name() const override { return kName; }
  Result<ProviderPayment> create_payment(const PaymentRequest& request) override;
  Result<std::string> refund(std::int64_t intent_id, Money amount,
                             const std::string& refund_key) override;
  Result<std::vector<BillLine>> bill(const std::string& date) override;
  Result<Notification> open_notification(const Notification& received) override {
    return received;
  }

  // The payer's choice on the pay page; queues the notification.
  Status confirm(std::int64_t payment_id);
  Status fail(std::int64_t payment_id);
  // The payer confirms and the signed notification is handed back instead of queued for
  // sending: the demo seed pays thousands of orders before the platform listens.
  // For a payment confirmed before, its notification again, signed anew, as a provider
  // resends one (the demo resumed after a crash before the platform applied it).
  Result<Notification> confirm_in_hand(std::int64_t payment_id);
  Result<std::optional<SimPayment>> find(std::int64_t payment_id);
  // The bill as the provider's CSV download.
  Result<std::string> bill_csv(const std::string& date);

  // Sends every notification that is due once; returns how many were acknowledged.
  Result<int> deliver_due();
  // A notification with a broken signature, as real providers send to check the
  // platform verifies: a success for a real intent and its real amount, so that only the
  // signature check can refuse it. True when the platform refused it with a 4xx.
  Result<bool> probe(std::int64_t intent_id, Money amount);
  // A body signed now with a fresh nonce (also how tests forge or replay notifications).
  Notification sign(const std::string& body) const;
  const SigningKey& key() const { return key_; }

  // Where notifications go; known once the platform listens.
  void notify_to(std::string url);

  void start();
  void stop();
  void wake() { cv_.notify_all(); }

 private:
  Status decide(std::int64_t payment_id, bool success);
  Result<std::string> record_decision(db::Session& tx, std::int64_t payment_id, bool success);
  Result<int> post(const Notification& n);
  db::Database& db_;
  const Clock& clock_;
  SigningKey key_;
  SimulatorOptions options_;
  net::HttpClient notifier_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace cunhuo::payments
