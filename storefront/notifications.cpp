#include "storefront/notifications.hpp"

#include <array>

#include "core/assert.hpp"

namespace cunhuo::storefront {
namespace {

// The column sizes are the limits in notifications.hpp.
constexpr db::Migration kMigrations[] = {
    {"storefront", 9, "the in-app inbox of notifications",
     "CREATE TABLE IF NOT EXISTS notifications (\n"
     "  id {{ID}},\n"
     "  account_id BIGINT NOT NULL,\n"
     "  kind VARCHAR(40) NOT NULL,\n"
     "  title VARCHAR(200) NOT NULL,\n"
     "  body VARCHAR(500) NOT NULL,\n"
     "  link VARCHAR(200) NOT NULL,\n"
     "  dedupe_key VARCHAR(120) NOT NULL UNIQUE,\n"
     "  created_at BIGINT NOT NULL,\n"
     "  read_at BIGINT\n"
     ");\n"
     "CREATE INDEX IF NOT EXISTS notifications_inbox ON notifications (account_id, id);\n"},
    // Who an event notifies is found by what the account answers for (notification_flows).
    {"storefront", 10, "accounts found by household, shop, node and area",
     "CREATE INDEX IF NOT EXISTS accounts_household ON accounts (household_id);\n"
     "CREATE INDEX IF NOT EXISTS accounts_shop ON accounts (shop_id);\n"
     "CREATE INDEX IF NOT EXISTS accounts_node ON accounts (node_id);\n"
     "CREATE INDEX IF NOT EXISTS accounts_role_region ON accounts (role, region_code);\n"},
};

constexpr std::array kKinds = {
    notification_kind::order_to_pack,      notification_kind::parcel_arriving,
    notification_kind::excursion_opened,   notification_kind::monitoring_alert,
    notification_kind::exit_notice_opened, notification_kind::exit_objection,
    notification_kind::payout_sent,        notification_kind::pickup_run_planned,
};

// At most `bytes` of UTF-8 `text`, never splitting a character.
std::string cut(std::string_view text, std::size_t bytes) {
  if (text.size() <= bytes) return std::string(text);
  std::size_t end = bytes;
  while (end > 0 && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) --end;
  return std::string(text.substr(0, end));
}

constexpr const char* kColumns = "id, account_id, kind, title, body, link, created_at, read_at";

Notification notification_from(const db::Row& r) {
  return Notification{.id = r.i64(0),
                      .account_id = r.i64(1),
                      .kind = r.str(2),
                      .title = r.str(3),
                      .body = r.str(4),
                      .link = r.str(5),
                      .created_at_ms = r.i64(6),
                      .read_at_ms = r.opt_i64(7)};
}

}  // namespace

std::span<const std::string_view> notification_kinds() { return kKinds; }

std::span<const db::Migration> notification_migrations() { return kMigrations; }

std::string notification_key(std::int64_t event_id, std::int64_t account_id) {
  return "event:" + std::to_string(event_id) + ":account:" + std::to_string(account_id);
}

Result<bool> notify(db::Session& tx, const NewNotification& n, const Clock& clock) {
  CUNHUO_ASSERT(n.account_id > 0);
  CUNHUO_ASSERT(!n.dedupe_key.empty() && n.dedupe_key.size() <= kMaxNotificationKey);
  CUNHUO_ASSERT(!n.kind.empty() && n.kind.size() <= kMaxNotificationKind);
  CUNHUO_ASSERT(n.link.size() <= kMaxNotificationLink);
  auto inserted = CUNHUO_TRY(tx.exec(
      std::string(tx.insert_ignore()) +
          " INTO notifications (account_id, kind, title, body, link, dedupe_key, created_at) "
          "VALUES (?, ?, ?, ?, ?, ?, ?)",
      {n.account_id, n.kind, cut(n.title, kMaxNotificationTitle), cut(n.body, kMaxNotificationBody),
       n.link, n.dedupe_key, clock.now_ms()}));
  CUNHUO_ASSERT(inserted.affected_rows <= 1);
  return inserted.affected_rows == 1;
}

Result<std::vector<Notification>> notifications_of(db::Session& s, const NotificationQuery& q) {
  std::string sql = std::string("SELECT ") + kColumns +
                    " FROM notifications WHERE account_id = ? AND id < ?" +
                    (q.unread_only ? " AND read_at IS NULL" : "") + " ORDER BY id DESC LIMIT ?";
  auto rows = CUNHUO_TRY(s.query(sql, {q.account_id, q.after_id.value_or(INT64_MAX), q.limit}));
  std::vector<Notification> out;
  out.reserve(rows.size());
  for (const auto& r : rows) out.push_back(notification_from(r));
  return out;
}

Result<std::optional<Notification>> mark_read(db::Session& tx, std::int64_t account_id,
                                              std::int64_t id, const Clock& clock) {
  CUNHUO_TRY(tx.exec(
      "UPDATE notifications SET read_at = ? WHERE id = ? AND account_id = ? AND read_at IS NULL",
      {clock.now_ms(), id, account_id}));
  auto row = CUNHUO_TRY(tx.query_one(
      std::string("SELECT ") + kColumns + " FROM notifications WHERE id = ? AND account_id = ?",
      {id, account_id}));
  if (!row) return std::optional<Notification>();
  return std::optional<Notification>(notification_from(*row));
}

Result<std::int64_t> mark_all_read(db::Session& tx, std::int64_t account_id, const Clock& clock) {
  auto done = CUNHUO_TRY(
      tx.exec("UPDATE notifications SET read_at = ? WHERE account_id = ? AND read_at IS NULL",
              {clock.now_ms(), account_id}));
  return done.affected_rows;
}

Result<std::int64_t> unread_count(db::Session& s, std::int64_t account_id) {
  auto row = CUNHUO_TRY(s.query_one(
      "SELECT COUNT(*) FROM notifications WHERE account_id = ? AND read_at IS NULL", {account_id}));
  return row ? row->i64(0) : 0;
}

}  // namespace cunhuo::storefront
