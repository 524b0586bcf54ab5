#include "messaging/phone_codes.hpp"

#include <sodium.h>

#include "core/assert.hpp"
#include "core/enum_names.hpp"
#include "core/one_time_code.hpp"
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
std::string bound_to(std::string_view phone, CodePurpose purpose) {
  return std::string(phone) + "|" + std::string(to_string(purpose));
}

std::string code_hash(std::string_view phone, CodePurpose purpose, std::string_view code) {
  return one_time_code_hash(bound_to(phone, purpose), code);
}

std::string random_code() { return random_digits(kCodeDigits); }

}  // namespace

std::string_view to_string(CodePurpose purpose) { return name_of(kPurposeNames, purpose); }

Result<CodePurpose> parse_code_purpose(std::string_view text) {
  if (auto v = value_of(kPurposeNames, text)) return *v;
  return make_error(ErrorKind::invalid, "invalid_purpose", "unknown purpose for a code", "purpose");
}

int codes_per_day(CodePurpose purpose) {
  return purpose == CodePurpose::proxy_confirm ? kProxyCodesPerDay : kAnonymousCodesPerDay;
}

namespace {

// The row that counts every purpose's sends to a phone (no purpose is spelt so).
constexpr std::string_view kCeilingRow = "*";

// Opens the phone's ceiling row and the purpose's row, and starts a new day on each whose
// day is over. Always the ceiling's row first: the order two transactions lock them in.
Status open_send_rows(db::Session& tx, std::string_view phone, std::string_view purpose,
                      std::int64_t now) {
  for (const std::string_view row : {kCeilingRow, purpose}) {
    CUNHUO_TRY(tx.exec(std::string(tx.insert_ignore()) +
                           " INTO phone_code_sends (phone, purpose, last_sent_at, "
                           "day_started_at, day_count) VALUES (?, ?, 0, ?, 0)",
                       {phone, row, now}));
    CUNHUO_TRY(
        tx.exec("UPDATE phone_code_sends SET day_started_at = ?, day_count = 0 WHERE "
                "phone = ? AND purpose = ? AND day_started_at <= ?",
                {now, phone, row, now - kCodeDayMs}));
  }
  return {};
}

// Why a send could not be taken, in the order the limits take precedence.
Result<CodeSend> refusal(db::Session& tx, std::string_view phone, std::string_view purpose,
                         int budget, std::int64_t now) {
  auto read = [&](std::string_view row) -> Result<db::Row> {
    auto found = CUNHUO_TRY(tx.query_one(
        "SELECT last_sent_at, day_started_at, day_count FROM phone_code_sends WHERE phone = ? "
        "AND purpose = ?",
        {phone, row}));
    CUNHUO_ASSERT(found.has_value());  // opened in this transaction
    return std::move(*found);
  };
  const db::Row own = CUNHUO_TRY(read(purpose)), ceiling = CUNHUO_TRY(read(kCeilingRow));
  using O = CodeSend::Outcome;
  if (own.i64(0) + kCodeResendMs > now)
    return CodeSend{.outcome = O::too_soon, .wait_ms = own.i64(0) + kCodeResendMs - now};
  if (own.i64(2) >= budget)
    return CodeSend{.outcome = O::spent, .wait_ms = own.i64(1) + kCodeDayMs - now};
  if (ceiling.i64(2) >= kCodesPerPhonePerDay)
    return CodeSend{.outcome = O::spent, .wait_ms = ceiling.i64(1) + kCodeDayMs - now};
  // Another process took the last send between our updates: it is its, not ours.
  return CodeSend{.outcome = O::too_soon, .wait_ms = kCodeResendMs};
}

}  // namespace

Result<CodeSend> take_code_send(db::Session& tx, std::string_view phone, CodePurpose purpose,
                                const Clock& clock) {
  const std::int64_t now = clock.now_ms();
  const std::string_view name = to_string(purpose);
  const int budget = codes_per_day(purpose);
  CUNHUO_CHECK(open_send_rows(tx, phone, name, now));
  auto ceiling = CUNHUO_TRY(
      tx.exec("UPDATE phone_code_sends SET last_sent_at = ?, day_count = day_count + 1 WHERE "
              "phone = ? AND purpose = ? AND day_count < ?",
              {now, phone, kCeilingRow, kCodesPerPhonePerDay}));
  if (ceiling.affected_rows == 1) {
    auto own = CUNHUO_TRY(
        tx.exec("UPDATE phone_code_sends SET last_sent_at = ?, day_count = day_count + 1 WHERE "
                "phone = ? AND purpose = ? AND last_sent_at <= ? AND day_count < ?",
                {now, phone, name, now - kCodeResendMs, budget}));
    if (own.affected_rows == 1) return CodeSend{};
    // The ceiling's send is given back (its row stays locked by this transaction).
    CUNHUO_TRY(
        tx.exec("UPDATE phone_code_sends SET day_count = day_count - 1 WHERE phone = ? "
                "AND purpose = ?",
                {phone, kCeilingRow}));
  }
  auto refused = CUNHUO_TRY(refusal(tx, phone, name, budget, now));
  refused.wait_ms = std::max<std::int64_t>(refused.wait_ms, 1);
  return refused;
}

Result<std::int64_t> prune_phone_codes(db::Session& tx, std::int64_t now_ms) {
  const std::int64_t codes =
      CUNHUO_TRY(db::prune_older(tx, "phone_codes", "expires_at", now_ms, kCodePruneBatch));
  const std::int64_t sends = CUNHUO_TRY(db::prune_older(tx, "phone_code_sends", "last_sent_at",
                                                        now_ms - kCodeDayMs, kCodePruneBatch));
  return codes + sends;
}

Result<std::int64_t> issue_code(db::Session& tx, std::string_view phone, CodePurpose purpose,
                                const Clock& clock, const CodeText& text) {
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
  SmsMessage message{
      .phone = std::string(phone), .template_code = text.template_code, .params = text.params};
  if (message.template_code.empty())
    message.template_code =
        purpose == CodePurpose::proxy_confirm ? kProxyConfirmCode : kVerificationCode;
  message.params.emplace_back("code", code);
  message.params.emplace_back("minutes", std::to_string(kCodeLifetimeMs / 60'000));
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
  const bool live = row->i64(2) > 0 && row->i64(3) > clock.now_ms();
  // A code hashed before codes were keyed never matches (its hash may have been read): it
  // lived five minutes at most, and the person asks for a new one.
  const bool same = one_time_code_matches(row->str(1), bound_to(phone, purpose), code);
  if (live && same) {
    // Only one of two concurrent checks of the same code deletes its row.
    auto consumed = CUNHUO_TRY(tx.exec("DELETE FROM phone_codes WHERE id = ?", {id}));
    return consumed.affected_rows == 1 ? CodeCheck::accepted : CodeCheck::wrong;
  }
  CUNHUO_TRY(tx.exec(
      "UPDATE phone_codes SET tries_left = tries_left - 1 WHERE id = ? AND tries_left > 0", {id}));
  return CodeCheck::wrong;
}

Status spend_code_try(db::Session& tx, std::string_view phone, CodePurpose purpose) {
  CUNHUO_TRY(
      tx.exec("UPDATE phone_codes SET tries_left = tries_left - 1 WHERE phone = ? AND "
              "purpose = ? AND tries_left > 0",
              {phone, to_string(purpose)}));
  return {};
}

}  // namespace cunhuo::messaging
