#include "messaging/phone_codes.hpp"

#include <sodium.h>

#include "core/assert.hpp"
#include "core/enum_names.hpp"
#include "messaging/sms.hpp"

namespace cunhuo::messaging {
namespace {

constexpr EnumNames<CodePurpose, 4> kPurposeNames = {{
    {CodePurpose::sign_up, "sign_up"},
    {CodePurpose::log_in, "log_in"},
    {CodePurpose::reset_password, "reset_password"},
    {CodePurpose::proxy_confirm, "proxy_confirm"},
}};

// The hash binds the code to its phone and purpose, so a row copied elsewhere is useless.
std::string code_hash(std::string_view phone, CodePurpose purpose, std::string_view code) {
  const std::string input =
      std::string(phone) + "|" + std::string(to_string(purpose)) + "|" + std::string(code);
  unsigned char digest[32];
  crypto_generichash(digest, sizeof digest, reinterpret_cast<const unsigned char*>(input.data()),
                     input.size(), nullptr, 0);
  char hex[65];
  sodium_bin2hex(hex, sizeof hex, digest, sizeof digest);
  return hex;
}

std::string random_code() {
  std::string code;
  for (int i = 0; i < kCodeDigits; ++i) code += static_cast<char>('0' + randombytes_uniform(10));
  return code;
}

}  // namespace

std::string_view to_string(CodePurpose purpose) { return name_of(kPurposeNames, purpose); }

Result<CodePurpose> parse_code_purpose(std::string_view text) {
  if (auto v = value_of(kPurposeNames, text)) return *v;
  return make_error(ErrorKind::invalid, "invalid_purpose", "unknown purpose for a code", "purpose");
}

Result<std::optional<std::int64_t>> code_send_wait_ms(db::Session& tx, std::string_view phone,
                                                      const Clock& clock) {
  const std::int64_t now = clock.now_ms();
  auto rows = CUNHUO_TRY(tx.query(
      "SELECT sent_at FROM phone_code_sends WHERE phone = ? AND sent_at > ? ORDER BY sent_at",
      {phone, now - kCodeDayMs}));
  std::optional<std::int64_t> wait;
  if (!rows.empty() && rows.back().i64(0) + kCodeResendMs > now)
    wait = rows.back().i64(0) + kCodeResendMs - now;
  if (static_cast<int>(rows.size()) >= kCodesPerPhonePerDay) {
    // The oldest send of the day leaves the window first.
    const std::int64_t day_wait =
        rows[rows.size() - kCodesPerPhonePerDay].i64(0) + kCodeDayMs - now;
    wait = std::max(wait.value_or(0), day_wait);
  }
  return wait;
}

Status record_code_send(db::Session& tx, std::string_view phone, const Clock& clock) {
  const std::int64_t now = clock.now_ms();
  // The day's window is all the limits read: older sends of this phone can go.
  CUNHUO_TRY(tx.exec("DELETE FROM phone_code_sends WHERE phone = ? AND sent_at <= ?",
                     {phone, now - kCodeDayMs}));
  CUNHUO_TRY(tx.exec("INSERT INTO phone_code_sends (phone, sent_at) VALUES (?, ?)", {phone, now}));
  return {};
}

Result<std::int64_t> prune_phone_codes(db::Session& tx, std::int64_t now_ms) {
  const std::int64_t codes =
      CUNHUO_TRY(db::prune_older(tx, "phone_codes", "expires_at", now_ms, kCodePruneBatch));
  const std::int64_t sends = CUNHUO_TRY(
      db::prune_older(tx, "phone_code_sends", "sent_at", now_ms - kCodeDayMs, kCodePruneBatch));
  return codes + sends;
}

Result<std::int64_t> issue_code(db::Session& tx, std::string_view phone, CodePurpose purpose,
                                const Clock& clock) {
  if (sodium_init() < 0)
    return make_error(ErrorKind::internal, "crypto", "libsodium failed to initialise");
  const std::int64_t now = clock.now_ms();
  const std::string code = random_code();
  CUNHUO_TRY(tx.exec("DELETE FROM phone_codes WHERE phone = ? AND purpose = ?",
                     {phone, to_string(purpose)}));
  CUNHUO_TRY(tx.exec(
      "INSERT INTO phone_codes (phone, purpose, code_hash, tries_left, expires_at, created_at) "
      "VALUES (?, ?, ?, ?, ?, ?)",
      {phone, to_string(purpose), code_hash(phone, purpose, code), kCodeTries,
       now + kCodeLifetimeMs, now}));
  const std::string id = std::to_string(CUNHUO_TRY(tx.last_insert_id()));
  const SmsMessage message{
      .phone = std::string(phone),
      .template_code = std::string(kVerificationCode),
      .params = {{"code", code}, {"minutes", std::to_string(kCodeLifetimeMs / 60'000)}}};
  const bool queued = CUNHUO_TRY(queue_sms(tx, message, "phone-code:" + id, clock));
  CUNHUO_ASSERT(queued);  // a new row's id is a new key
  CUNHUO_CHECK(record_code_send(tx, phone, clock));
  return now + kCodeLifetimeMs;
}

Result<CodeCheck> verify_code(db::Session& tx, std::string_view phone, CodePurpose purpose,
                              std::string_view code, const Clock& clock) {
  auto row = CUNHUO_TRY(tx.query_one(
      "SELECT id, code_hash, tries_left, expires_at FROM phone_codes WHERE phone = ? AND "
      "purpose = ?",
      {phone, to_string(purpose)}));
  if (!row) return CodeCheck::missing;
  const std::int64_t id = row->i64(0);
  const std::string expected = row->str(1), given = code_hash(phone, purpose, code);
  const bool live = row->i64(2) > 0 && row->i64(3) > clock.now_ms();
  const bool same = sodium_memcmp(expected.data(), given.data(), expected.size()) == 0;
  if (live && same) {
    // Only one of two concurrent checks of the same code deletes its row.
    auto consumed = CUNHUO_TRY(tx.exec("DELETE FROM phone_codes WHERE id = ?", {id}));
    return consumed.affected_rows == 1 ? CodeCheck::accepted : CodeCheck::wrong;
  }
  CUNHUO_TRY(tx.exec(
      "UPDATE phone_codes SET tries_left = tries_left - 1 WHERE id = ? AND tries_left > 0", {id}));
  return CodeCheck::wrong;
}

}  // namespace cunhuo::messaging
