// The in-app inbox: one notification per (event, recipient account), fed from the outbox by
// the flows in notification_flows.cpp. A notification says what happened (its kind, a
// title and a line of text) and links to the object it is about, by the API path a GET of
// which the recipient may open. Its dedupe key is unique, so a repeated event (delivered
// twice, or handled by two processes) inserts nothing new.
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

namespace cunhuo::storefront {

// The columns' sizes in the notifications table (storefront migration 9).
inline constexpr std::size_t kMaxNotificationKind = 40;
inline constexpr std::size_t kMaxNotificationTitle = 200;
inline constexpr std::size_t kMaxNotificationBody = 500;
inline constexpr std::size_t kMaxNotificationLink = 200;
inline constexpr std::size_t kMaxNotificationKey = 120;

// What a notification is about; each kind is named once here.
namespace notification_kind {
inline constexpr std::string_view order_to_pack = "order_to_pack";
inline constexpr std::string_view parcel_arriving = "parcel_arriving";
inline constexpr std::string_view pickup_run_planned = "pickup_run_planned";
inline constexpr std::string_view excursion_opened = "excursion_opened";
inline constexpr std::string_view monitoring_alert = "monitoring_alert";
inline constexpr std::string_view exit_notice_opened = "exit_notice_opened";
inline constexpr std::string_view exit_objection = "exit_objection";
inline constexpr std::string_view payout_sent = "payout_sent";
}  // namespace notification_kind
// Every kind, for the schema of an answer.
std::span<const std::string_view> notification_kinds();

struct NewNotification {
  std::int64_t account_id = 0;
  std::string kind, title, body, link;
  std::string dedupe_key;  // e.g. "event:42:account:7"
};

struct Notification {
  std::int64_t id = 0, account_id = 0;
  std::string kind, title, body, link;
  std::int64_t created_at_ms = 0;
  std::optional<std::int64_t> read_at_ms;
};

std::span<const db::Migration> notification_migrations();

// The dedupe key of what event `event_id` tells `account_id`.
std::string notification_key(std::int64_t event_id, std::int64_t account_id);

// Adds `n` to its account's inbox in the caller's transaction. True when added now, false
// when a notification with its key was added before. Text longer than its column is cut at
// a character boundary.
Result<bool> notify(db::Session& tx, const NewNotification& n, const Clock& clock);

// One page of an account's notifications, newest first, after the notification `after_id`
// (none: from the newest); only unread ones when `unread_only`.
struct NotificationQuery {
  std::int64_t account_id = 0;
  bool unread_only = false;
  std::optional<std::int64_t> after_id;
  std::int64_t limit = 20;
};
Result<std::vector<Notification>> notifications_of(db::Session& s, const NotificationQuery& q);

// Marks one of the account's notifications read (a repeat keeps the first time). The
// notification as it is now; none when it is not the account's (or does not exist).
Result<std::optional<Notification>> mark_read(db::Session& tx, std::int64_t account_id,
                                              std::int64_t id, const Clock& clock);
// Marks every unread notification of the account read; returns how many.
Result<std::int64_t> mark_all_read(db::Session& tx, std::int64_t account_id, const Clock& clock);
Result<std::int64_t> unread_count(db::Session& s, std::int64_t account_id);

}  // namespace cunhuo::storefront
