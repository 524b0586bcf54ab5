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

Result<std::optional<std::int64_t>> take_code_send(db::Session& tx, std::string_view phone,
                                                   const Clock& clock) {
  const std::int64_t now = clock.now_ms();
  CUNHUO_TRY(tx.exec(std::string(tx.insert_ignore()) +
                         " INTO phone_code_limits (phone, last_sent_at, day_started_at, "
                         "day_count) VALUES (?, 0, ?, 0)",
                     {phone, now}));
  CUNHUO_TRY(
      tx.exec("UPDATE phone_code_limits SET day_started_at = ?, day_count = 0 WHERE phone = ? AND "
              "day_started_at <= ?",
              {now, phone, now - kCodeDayMs}));
  auto taken = CUNHUO_TRY(tx.exec(
      "UPDATE phone_code_limits SET last_sent_at = ?, day_count = day_count + 1 WHERE phone = ? "
      "AND last_sent_at <= ? AND day_count < ?",
      {now, phone, now - kCodeResendMs, kCodesPerPhonePerDay}));
  if (taken.affected_rows == 1) return std::optional<std::int64_t>();
  auto row = CUNHUO_TRY(tx.query_one(
      "SELECT last_sent_at, day_started_at, day_count FROM phone_code_limits WHERE phone = ?",
      {phone}));
  CUNHUO_ASSERT(row.has_value());
  std::int64_t wait = std::max<std::int64_t>(0, row->i64(0) + kCodeResendMs - now);
  if (row->i64(2) >= kCodesPerPhonePerDay) wait = std::max(wait, row->i64(1) + kCodeDayMs - now);
  return std::optional<std::int64_t>(std::max<std::int64_t>(wait, 1));
}

Result<std::int64_t> prune_phone_codes(db::Session& tx, std::int64_t now_ms) {
  const std::int64_t codes =
      CUNHUO_TRY(db::prune_older(tx, "phone_codes", "expires_at", now_ms, kCodePruneBatch));
  const std::int64_t sends = CUNHUO_TRY(db::prune_older(tx, "phone_code_limits", "last_sent_at",
                                                        now_ms - kCodeDayMs, kCodePruneBatch));
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
      .template_code = std::string(purpose == CodePurpose::proxy_confirm ? kProxyConfirmCode
                                                                         : kVerificationCode),
      .params = {{"code", code}, {"minutes", std::to_string(kCodeLifetimeMs / 60'000)}}};
  const bool queued = CUNHUO_TRY(queue_sms(tx, message, "phone-code:" + id, clock));
  CUNHUO_ASSERT(queued);  // a new row's id is a new key
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
