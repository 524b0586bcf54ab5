// Text messages to phones: verification codes, and the urgent notifications (an order to
// pack, an excursion, a monitoring alert). A message is queued in the caller's transaction,
// so it exists if and only if the change that caused it committed; a sender process sends
// it at least once through an SmsSender, retries a failure with back-off and parks it after
// kMaxSmsAttempts for a person to look at, so none is lost. A dedupe key makes a second
// queueing of the same message (a repeated event, a retried request) a no-op.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/clock.hpp"
#include "core/db/database.hpp"
#include "core/db/migrations.hpp"
#include "core/result.hpp"

namespace cunhuo::messaging {

inline constexpr int kMaxSmsAttempts = 8;
inline constexpr std::size_t kMaxTemplateCode = 40;
inline constexpr std::size_t kMaxDedupeKey = 120;
inline constexpr std::size_t kMaxSmsParams = 8;
inline constexpr std::size_t kMaxSmsParamBytes = 200;

// What a gateway is asked to send: a registered template and its parameters, as Chinese
// SMS gateways take them (free text is not allowed on those channels).
struct SmsMessage {
  std::string phone;          // 11-digit mobile number
  std::string template_code;  // one of the templates the messaging module knows
  std::vector<std::pair<std::string, std::string>> params;  // name, value
};

// A channel that sends one message: the sandbox, or a real gateway's adapter. Returns the
// gateway's own id for the message, or an error (kind unavailable: worth a retry).
class SmsSender {
 public:
  virtual ~SmsSender() = default;
  virtual Result<std::string> send(const SmsMessage& message) = 0;
};

// The messaging tables, in order.
std::span<const db::Migration> migrations();

// The templates the messaging module knows (see templates.cpp for their text). A gateway
// registers each one; a message names one and fills its ${param} placeholders.
inline constexpr std::string_view kVerificationCode = "verification_code";    // code, minutes
inline constexpr std::string_view kAlreadyRegistered = "already_registered";  // (none)
// A code a villager reads out at a station counter to confirm an order or a listing made
// for them; its own text, so it is never mistaken for a login code.
inline constexpr std::string_view kProxyConfirmCode = "proxy_confirm_code";  // code, minutes
// The same, saying what the code confirms, so the villager knows what they agree to.
inline constexpr std::string_view kProxyOrderCode =
    "proxy_order_code";  // item, total, code, minutes
inline constexpr std::string_view kProxyListingCode =
    "proxy_listing_code";  // title, price, unit, stock, code, minutes
// The urgent notifications' (storefront/notification_flows.cpp), with their parameters.
inline constexpr std::string_view kOrderToPack = "order_to_pack";         // order, pack_by
inline constexpr std::string_view kExcursionOpened = "excursion_opened";  // node, excursion
inline constexpr std::string_view kMonitoringAlert = "monitoring_alert";  // alert, rule
// A parcel's pickup code (取件码), sent when it is in where its recipient collects it.
inline constexpr std::string_view kPickupCode = "pickup_code";  // parcel, place, code, days

struct SmsTemplate {
  std::string_view code;
  std::string_view text;  // Chinese, with ${name} placeholders
};
// Whether messages of template `code` carry a one-time code: such a message's parameters
// are not kept once it is sent or parked (the code is worthless by then, and secret).
bool carries_one_time_code(std::string_view code);
// The template named `code`, or null when there is none.
const SmsTemplate* find_template(std::string_view code);
// The message's text as a phone shows it; an unknown template or a placeholder without its
// parameter is an error.
Result<std::string> render(const SmsMessage& message);

// Queues `message` in the caller's transaction under `dedupe_key` (unique: say what the
// message is about, e.g. "order-to-pack:42"). True when queued now, false when a message
// with that key was queued before. An unknown template is refused.
Result<bool> queue_sms(db::Session& tx, const SmsMessage& message, std::string_view dedupe_key,
                       const Clock& clock);

}  // namespace cunhuo::messaging
