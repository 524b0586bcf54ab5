// Payment intents: what a checkout asks the buyer to pay, and what happens when the
// provider says it was paid. The platform keeps its own copy of what each order sold
// (lines, producer shares, whether the line was in a poverty-alleviation campaign), taken
// when the intent is opened, so settlement never reads another module's tables.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.hpp"
#include "core/db/database.hpp"
#include "core/db/migrations.hpp"
#include "core/money.hpp"
#include "payments/provider.hpp"

namespace cunhuo::payments {

struct ProducerPart {
  std::int64_t household_id = 0;
  int share_bps = 0;
};

struct PayableLine {
  std::int64_t product_id = 0;
  std::string title;
  std::int64_t quantity = 0;
  Money line_total;
  std::optional<std::int64_t> campaign_id;
  std::string campaign_kind;          // empty when not in a campaign
  bool alleviation_campaign = false;  // no platform fee
  std::vector<ProducerPart> producers;
};

struct PayableOrder {
  std::int64_t order_id = 0, shop_id = 0;
  bool cooperative = false;  // a cooperative shop takes a commission
  Money total;
  std::vector<PayableLine> lines;
  std::string region_code;  // the shop's village: the area its refund claims are decided in
};

struct Payable {
  std::int64_t checkout_id = 0, buyer_id = 0;
  Money total;
  std::vector<PayableOrder> orders;
};

// returned: succeeded after another intent had paid the checkout; its money goes back.
enum class IntentStatus { open, succeeded, failed, returned };
std::string_view to_string(IntentStatus status);

struct Intent {
  std::int64_t id = 0, checkout_id = 0, buyer_id = 0;
  Money amount;
  std::string currency = "CNY";
  IntentStatus status = IntentStatus::open;
  std::string provider, provider_ref, pay_url;
  std::int64_t created_at_ms = 0;
  std::optional<std::int64_t> paid_at_ms;
};

std::span<const db::Migration> intent_migrations();

// Opens the checkout's intent, or returns the one still open. Refuses a checkout already
// paid (409).
// A notification's nonce is kept well past the window its timestamp must fall in (±5 min):
// after that a replay is refused by its timestamp alone, so the nonce may go.
inline constexpr std::int64_t kNonceRetentionMs = 24LL * 3600 * 1000;
inline constexpr int kNoncePruneBatch = 1000;  // rows per pruning transaction
Result<std::int64_t> prune_nonces(db::Session& tx, std::int64_t now_ms);

Result<Intent> open_intent(db::Session& tx, const Payable& payable, const std::string& provider,
                           const Clock& clock);
Status attach_provider_payment(db::Session& tx, std::int64_t intent_id,
                               const ProviderPayment& payment);
Result<std::optional<Intent>> find_intent(db::Session& s, std::int64_t intent_id);

// What a verified notification did.
// returned: the money came for a checkout another intent had paid; it is sent back.
enum class NoticeOutcome { captured, failed, duplicate, returned };

// Applies a notification whose signature has been verified: refuses a reused nonce, an
// unknown intent, a wrong amount or currency; a repeat of an outcome already recorded is
// a no-op. On success money moves provider → each order's escrow and "payment.captured"
// is published, all in `tx`.
Result<NoticeOutcome> apply_notification(db::Session& tx, const Notification& notice,
                                         const std::string& provider, const Clock& clock);

// Applies a payment a query of its order found (a close the provider refused: the payer had
// paid), as its notification would, less the nonce (none was received). The notification
// coming before or after it is a duplicate: the money moves once.
Result<NoticeOutcome> apply_queried_payment(db::Session& tx, std::int64_t intent_id,
                                            const ProviderPaid& paid, const std::string& provider,
                                            const Clock& clock);

// Topics this module publishes, each with its event. An event encodes to its payload
// and decodes from it (a payload without a field it requires is a "bad_event").

// The provider's money for a checkout reached the escrow of each of its orders.
inline constexpr const char* kPaymentCaptured = "payment.captured";
struct PaymentCaptured {
  std::int64_t checkout_id = 0, intent_id = 0;
  std::vector<std::int64_t> order_ids;

  std::string encode() const;  // {"checkout_id", "intent_id", "order_ids": [...]}
  static Result<PaymentCaptured> decode(std::string_view payload);
  bool operator==(const PaymentCaptured&) const = default;
};

// An intent paid a checkout another intent had paid: its money is set aside to go back.
inline constexpr const char* kPaymentReturned = "payment.returned";
struct PaymentReturned {
  std::int64_t intent_id = 0, checkout_id = 0;

  std::string encode() const;  // {"intent_id", "checkout_id"}
  static Result<PaymentReturned> decode(std::string_view payload);
  bool operator==(const PaymentReturned&) const = default;
};

}  // namespace cunhuo::payments
