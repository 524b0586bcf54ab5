#include <string>

#include "core/assert.hpp"
#include "core/json.hpp"
#include "messaging/sms.hpp"

namespace cunhuo::messaging {
namespace {

// status: queued (to send, at next_attempt_at), sent, parked (gave up after the last try).
constexpr db::Migration kMigrations[] = {
    {"messaging", 1, "the queue of text messages",
     "CREATE TABLE IF NOT EXISTS sms_queue (\n"
     "  id {{ID}},\n"
     "  dedupe_key VARCHAR(120) NOT NULL UNIQUE,\n"
     "  phone VARCHAR(20) NOT NULL,\n"
     "  template_code VARCHAR(40) NOT NULL,\n"
     "  params TEXT NOT NULL,\n"
     "  status VARCHAR(12) NOT NULL,\n"
     "  attempts INTEGER NOT NULL DEFAULT 0,\n"
     "  next_attempt_at BIGINT NOT NULL,\n"
     "  gateway_id VARCHAR(100),\n"
     "  last_error VARCHAR(300),\n"
     "  created_at BIGINT NOT NULL,\n"
     "  sent_at BIGINT\n"
     ");\n"
     "CREATE INDEX IF NOT EXISTS sms_queue_due ON sms_queue (status, next_attempt_at);\n"
     "CREATE INDEX IF NOT EXISTS sms_queue_phone ON sms_queue (phone, created_at);\n"},
    // One live code per phone and purpose (a new one replaces it); only its hash is kept.
    // Sends are counted in the store, so the limits hold across processes (see migration 4).
    {"messaging", 2, "one-time codes sent to phones",
     "CREATE TABLE IF NOT EXISTS phone_codes (\n"
     "  id {{ID}},\n"
     "  phone VARCHAR(20) NOT NULL,\n"
     "  purpose VARCHAR(20) NOT NULL,\n"
     "  code_hash VARCHAR(64) NOT NULL,\n"
     "  tries_left INTEGER NOT NULL,\n"
     "  expires_at BIGINT NOT NULL,\n"
     "  created_at BIGINT NOT NULL\n"
     ");\n"
     "CREATE UNIQUE INDEX IF NOT EXISTS phone_codes_key ON phone_codes (phone, purpose);\n"
     "CREATE INDEX IF NOT EXISTS phone_codes_expiry ON phone_codes (expires_at);\n"
     "CREATE TABLE IF NOT EXISTS phone_code_limits (\n"
     "  phone VARCHAR(20) NOT NULL PRIMARY KEY,\n"
     "  last_sent_at BIGINT NOT NULL,\n"
     "  day_started_at BIGINT NOT NULL,\n"
     "  day_count INTEGER NOT NULL\n"
     ");\n"
     "CREATE INDEX IF NOT EXISTS phone_code_limits_age ON phone_code_limits (last_sent_at);\n"},
    // What the sandbox "sent": the demo reads a phone's messages from here.
    {"messaging", 3, "the text message sandbox's inbox",
     "CREATE TABLE IF NOT EXISTS sandbox_sms (\n"
     "  id {{ID}},\n"
     "  phone VARCHAR(20) NOT NULL,\n"
     "  template_code VARCHAR(40) NOT NULL,\n"
     "  text VARCHAR(1000) NOT NULL,\n"
     "  sent_at BIGINT NOT NULL\n"
     ");\n"
     "CREATE INDEX IF NOT EXISTS sandbox_sms_phone ON sandbox_sms (phone, id);\n"},
    // Sends counted per (phone, purpose), and per phone over every purpose under purpose "*"
    // (messaging/phone_codes.hpp), instead of per phone alone: a day's counts start afresh.
    {"messaging", 4, "code sends counted per phone and purpose",
     "CREATE TABLE IF NOT EXISTS phone_code_sends (\n"
     "  phone VARCHAR(20) NOT NULL,\n"
     "  purpose VARCHAR(20) NOT NULL,\n"
     "  last_sent_at BIGINT NOT NULL,\n"
     "  day_started_at BIGINT NOT NULL,\n"
     "  day_count INTEGER NOT NULL,\n"
     "  PRIMARY KEY (phone, purpose)\n"
     ");\n"
     "CREATE INDEX IF NOT EXISTS phone_code_sends_age ON phone_code_sends (last_sent_at);\n"
     "DROP TABLE IF EXISTS phone_code_limits;\n"},
};

Status check_message(const SmsMessage& m, std::string_view dedupe_key) {
  if (dedupe_key.empty() || dedupe_key.size() > kMaxDedupeKey)
    return make_error(ErrorKind::invalid, "invalid_dedupe_key", "a message needs a short key");
  if (m.template_code.empty() || m.template_code.size() > kMaxTemplateCode)
    return make_error(ErrorKind::invalid, "invalid_template", "a message needs a template");
  if (m.params.size() > kMaxSmsParams)
    return make_error(ErrorKind::invalid, "too_many_params", "too many template parameters");
  for (const auto& [name, value] : m.params)
    if (value.size() > kMaxSmsParamBytes)
      return make_error(ErrorKind::invalid, "param_too_long", "a parameter is too long", name);
  // The gateway refuses what it has no template for: refuse it here, where the caller is.
  CUNHUO_CHECK(render(m));
  return {};
}

std::string params_json(const SmsMessage& m) {
  JsonWriter w;
  w.begin_object();
  for (const auto& [name, value] : m.params) w.field(name, value);
  w.end_object();
  return w.take();
}

}  // namespace

std::span<const db::Migration> migrations() { return kMigrations; }

Result<bool> queue_sms(db::Session& tx, const SmsMessage& message, std::string_view dedupe_key,
                       const Clock& clock) {
  CUNHUO_CHECK(check_message(message, dedupe_key));
  const std::int64_t now = clock.now_ms();
  auto inserted = CUNHUO_TRY(
      tx.exec(std::string(tx.insert_ignore()) +
                  " INTO sms_queue (dedupe_key, phone, template_code, params, status, attempts, "
                  "next_attempt_at, created_at) VALUES (?, ?, ?, ?, 'queued', 0, ?, ?)",
              {dedupe_key, message.phone, message.template_code, params_json(message), now, now}));
  CUNHUO_ASSERT(inserted.affected_rows <= 1);
  return inserted.affected_rows == 1;
}

}  // namespace cunhuo::messaging
