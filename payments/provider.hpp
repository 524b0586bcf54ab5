// A payment provider as the platform sees it (WeChat Pay v3 / Alipay style): it takes a
// payment request and returns where the payer goes; it later tells the platform the
// outcome in an asynchronous notification signed with its key; it refunds; and it serves
// a daily bill. payments/wechatpay implements it for WeChat Pay's API v3 (and the sandbox
// provider, paysandbox/, speaks the same protocol).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/money.hpp"
#include "core/result.hpp"

namespace cunhuo::payments {

struct PaymentRequest {
  std::int64_t intent_id = 0;
  Money amount;
  std::string currency = "CNY";
  std::string description;
  // The end of the platform's payment window (the checkout's expires_at, from
  // Config::payment_window_ms): the provider refuses payment after it. 0: none.
  std::int64_t expires_at_ms = 0;
};

struct ProviderPayment {
  std::string provider_ref;  // the provider's transaction id
  std::string pay_url;       // where the payer confirms
};

struct BillLine {
  std::string type;          // "payment" or "refund"
  std::string provider_ref;  // transaction or refund id at the provider
  std::int64_t intent_id = 0;
  std::int64_t amount_fen = 0;
};

// Where a refund the provider took stands: real providers mostly answer "processing" and
// tell the outcome later (a notification, or a query).
enum class RefundState { processing, succeeded, abnormal, closed };
std::string_view to_string(RefundState state);
// What closing a payment at the provider found: closed (or never made: nothing can be paid),
// or paid first by the payer (the payment still comes by its notification).
enum class CloseOutcome { closed, paid };
std::string_view to_string(CloseOutcome outcome);

// A payment the provider took, as a query of its order tells it: what its notification
// would have said (intents.hpp applies either the same way).
struct ProviderPaid {
  std::string provider_ref;  // the provider's transaction id
  Money amount;
  std::string currency = "CNY";
  std::int64_t paid_at_ms = 0;  // 0: the provider did not say
};

struct ProviderRefund {
  std::string provider_ref;  // the provider's refund id
  RefundState state = RefundState::processing;
};

// A notification whose timestamp is this far from now, or further, is refused (a replay
// older than that is refused by its timestamp alone; see kNonceRetentionMs).
inline constexpr std::int64_t kNotificationSkewMs = 5 * 60 * 1000;

// A notification as the provider sent it: its signed headers (WeChat Pay's
// Wechatpay-Serial, -Timestamp, -Nonce, -Signature) and body; once opened, the same with
// the body in the platform's terms.
struct Notification {
  std::string serial, timestamp, nonce, signature, body;  // timestamp in Unix seconds
};

class PaymentProvider {
 public:
  virtual ~PaymentProvider() = default;
  virtual std::string name() const = 0;
  virtual Result<ProviderPayment> create_payment(const PaymentRequest& request) = 0;
  // Sends `amount` back to the payer of `intent_id`; `refund_key` makes a retry harmless.
  virtual Result<ProviderRefund> refund(std::int64_t intent_id, Money amount,
                                        const std::string& refund_key) = 0;
  // Where the refund sent under `refund_key` stands now.
  virtual Result<ProviderRefund> query_refund_state(const std::string& refund_key) = 0;
  // The provider's own name for a refund key (its notifications name refunds so).
  virtual std::string refund_no(const std::string& refund_key) const { return refund_key; }
  // Every payment and refund the provider completed on `date` (YYYY-MM-DD, Beijing time).
  virtual Result<std::vector<BillLine>> bill(const std::string& date) = 0;
  // Closes the payment opened for `intent_id` so that it can no longer be paid. One attempt:
  // the caller retries later. Providers that cannot close answer unavailable.
  virtual Result<CloseOutcome> close_payment(std::int64_t intent_id);
  // The payment of `intent_id` if its payer paid (a payment refunded since was paid too);
  // none while the order is not paid. Providers that cannot query answer unavailable.
  virtual Result<std::optional<ProviderPaid>> query_paid(std::int64_t intent_id);
  // False for the stand-in below: nothing is opened for a payment it cannot take.
  virtual bool configured() const { return true; }
  // Configured and able to work now (WeChat Pay: a platform certificate is trusted).
  virtual bool ready() const { return configured(); }
  // A notification as it arrived (its signed headers and body): verified against the
  // provider's keys and the clock, decrypted, and handed back with `body` in the platform's
  // terms (what apply_notification reads). Refused with a 4xx-kind error otherwise.
  virtual Result<Notification> open_notification(const Notification& received) = 0;
};

inline constexpr std::string_view kProviderUnavailable = "provider_unavailable";
// The name intents and the ledger give the payment sandbox (paysandbox/): its money is not
// real, and payouts treat it so.
inline constexpr const char* kSandboxProvider = "sim";

// Stands in when no provider is configured (the sandbox off, no real provider yet):
// every payments route exists, and what needs the provider answers 503.
class NoProvider final : public PaymentProvider {
 public:
  std::string name() const override { return "none"; }
  Result<ProviderPayment> create_payment(const PaymentRequest& request) override;
  Result<ProviderRefund> refund(std::int64_t intent_id, Money amount,
                                const std::string& refund_key) override;
  Result<ProviderRefund> query_refund_state(const std::string& refund_key) override;
  Result<std::vector<BillLine>> bill(const std::string& date) override;
  bool configured() const override { return false; }
  Result<Notification> open_notification(const Notification& received) override;
};

}  // namespace cunhuo::payments
