// Who is told what: the outbox events that feed the in-app inbox (notifications.hpp), and,
// for the urgent ones, a text message queued in the same transaction (messaging/sms.hpp).
// Each handler resolves the recipient accounts of its event and writes one notification
// per (event, account), keyed so that a repeat of the event adds nothing; the SMS is keyed
// the same way, so it is queued once however often the event is delivered.
//
//   event                  kind                 to                                     SMS
//   order.paid             order_to_pack        who manages the order's shop            yes
//   shipment.departed      parcel_arriving      operators of the next station on route  no
//   pickup.planned         pickup_run_planned   who manages a shop with parcels to collect  no
//   excursion.raised       excursion_opened     the county's centre                     yes
//   alert.raised           monitoring_alert     the household's helper                  yes
//   exit.notice_opened     exit_notice_opened   the offices over the household           no
//   exit.objection_lodged  exit_objection       the offices over the household           no
//   payout.sent            payout_sent          the household's farmer accounts         no
#pragma once

#include <cstdint>
#include <string_view>

#include "core/clock.hpp"
#include "core/outbox/outbox.hpp"
#include "messaging/sms.hpp"

namespace cunhuo::storefront {

// How long a shop has to pack a paid order; the notification says by when.
inline constexpr std::int64_t kPackWindowMs = 24LL * 3600 * 1000;
// The most accounts one event notifies (a shop's managers, a county's centre staff...).
inline constexpr int kMaxRecipientsPerEvent = 50;
// The most waiting orders a pickup plan's notifications look at.
inline constexpr int kMaxOrdersToCollect = 200;

// The SMS templates the urgent notifications are sent with (messaging's templates.cpp).
namespace sms_template {
inline constexpr std::string_view order_to_pack = messaging::kOrderToPack;
inline constexpr std::string_view excursion_opened = messaging::kExcursionOpened;
inline constexpr std::string_view monitoring_alert = messaging::kMonitoringAlert;
}  // namespace sms_template

// Subscribes every notification flow to the dispatcher (before it starts).
void subscribe_notification_flows(outbox::Dispatcher& dispatcher, const Clock& clock);

}  // namespace cunhuo::storefront
