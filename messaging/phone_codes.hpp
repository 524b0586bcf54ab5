// One-time codes sent to a phone to prove its owner is here: signing up, logging in,
// resetting a password, confirming a purchase a station makes for someone (assisted
// selling). Only a hash of each code is stored; a code expires after kCodeLifetimeMs and
// allows kCodeTries wrong guesses; a new code for the same phone and purpose replaces the
// old one. Issuing queues the text message in the caller's transaction.
//
//   auto sent = CUNHUO_TRY(issue_code(tx, phone, CodePurpose::proxy_confirm, clock));
//   ...
//   auto check = CUNHUO_TRY(verify_code(tx, phone, CodePurpose::proxy_confirm, code, clock));
//   if (check != CodeCheck::accepted) ...  // commit anyway: the wrong try must count
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/clock.hpp"
#include "core/db/database.hpp"
#include "core/result.hpp"

namespace cunhuo::messaging {

inline constexpr int kCodeDigits = 6;
inline constexpr std::int64_t kCodeLifetimeMs = 5 * 60 * 1000;
inline constexpr int kCodeTries = 5;
// Sends to one phone, counted in the store so they hold across processes.
inline constexpr std::int64_t kCodeResendMs = 60 * 1000;  // one send a minute
inline constexpr int kCodesPerPhonePerDay = 10;
inline constexpr std::int64_t kCodeDayMs = 24LL * 3600 * 1000;

enum class CodePurpose { sign_up, log_in, reset_password, proxy_confirm };
std::string_view to_string(CodePurpose purpose);
Result<CodePurpose> parse_code_purpose(std::string_view text);

// Takes one send for `phone` if its limits allow (one a minute, kCodesPerPhonePerDay in a
// day from its first): nullopt when taken, else how long to wait. A conditional update of
// the phone's own row, so two processes cannot both take the last send.
Result<std::optional<std::int64_t>> take_code_send(db::Session& tx, std::string_view phone,
                                                   const Clock& clock);

// Stores a new code for (phone, purpose) and queues its text message.
// The caller takes the send first (take_code_send). Returns the code's expiry.
Result<std::int64_t> issue_code(db::Session& tx, std::string_view phone, CodePurpose purpose,
                                const Clock& clock);

inline constexpr int kCodePruneBatch = 1000;  // rows per pruning transaction
// Deletes a batch of expired codes and of phones' send counts idle for a day;
// returns how many rows went.
Result<std::int64_t> prune_phone_codes(db::Session& tx, std::int64_t now_ms);

enum class CodeCheck {
  accepted,  // right and live: consumed now
  wrong,     // wrong, expired, or out of tries: one try counted
  missing,   // no code was sent for this phone and purpose
};
// Checks `code`. Whatever it answers, the caller commits: an accepted code is consumed, a
// wrong one has cost a try.
Result<CodeCheck> verify_code(db::Session& tx, std::string_view phone, CodePurpose purpose,
                              std::string_view code, const Clock& clock);

}  // namespace cunhuo::messaging
