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
#include <utility>
#include <vector>

#include "core/clock.hpp"
#include "core/db/database.hpp"
#include "core/result.hpp"

namespace cunhuo::messaging {

inline constexpr int kCodeDigits = 6;
inline constexpr std::int64_t kCodeLifetimeMs = 5 * 60 * 1000;
inline constexpr int kCodeTries = 5;
inline constexpr std::int64_t kCodeDayMs = 24LL * 3600 * 1000;

enum class CodePurpose { sign_up, log_in, reset_password, proxy_confirm };
std::string_view to_string(CodePurpose purpose);
Result<CodePurpose> parse_code_purpose(std::string_view text);

// Sends are budgeted per (phone, purpose), counted in the store so the limits hold across
// processes: anyone may ask for the anonymous purposes' codes, so spending one purpose's
// budget (ten anonymous log_in requests) must leave the others working. One send a minute
// per (phone, purpose); a day's budget per purpose, counted from its first send.
inline constexpr std::int64_t kCodeResendMs = 60 * 1000;
inline constexpr int kAnonymousCodesPerDay = 5;  // each of sign_up, log_in, reset_password
// Asked for by a station's signed-in operator, one per order or listing made for a villager.
inline constexpr int kProxyCodesPerDay = 10;
inline constexpr int kAnonymousPurposes = 3;
// The phone's ceiling over every purpose, against text-message bombing. Above what an
// attacker can spend through all anonymous purposes, so station confirmations still go.
inline constexpr int kCodesPerPhonePerDay = 20;
static_assert(kCodesPerPhonePerDay > kAnonymousPurposes * kAnonymousCodesPerDay,
              "a lock-out through the anonymous purposes must leave proxy confirmations working");
static_assert(kCodesPerPhonePerDay < kAnonymousPurposes * kAnonymousCodesPerDay + kProxyCodesPerDay,
              "the ceiling binds: otherwise it is no limit");
// A purpose's own day budget.
int codes_per_day(CodePurpose purpose);

// What taking a send found. A spent budget sends nothing; a public request still answers
// as a sent one (it never tells what was sent).
struct CodeSend {
  enum class Outcome {
    taken,     // send the code now
    too_soon,  // a code for this (phone, purpose) went less than kCodeResendMs ago
    spent,     // the purpose's day budget, or the phone's ceiling, is used up
  } outcome = Outcome::taken;
  std::int64_t wait_ms = 0;  // too_soon, spent: until a send is allowed again
};

// Takes one send of `purpose` for `phone` if its limits allow, in this order: the minute's
// spacing, the purpose's day budget, the phone's ceiling. Conditional updates of the
// phone's own rows (the ceiling's first, then the purpose's: one lock order), so two
// processes cannot both take the last send.
Result<CodeSend> take_code_send(db::Session& tx, std::string_view phone, CodePurpose purpose,
                                const Clock& clock);

// What a code's text says besides the code: a template with ${code} and ${minutes}
// placeholders, and its other parameters (what the code confirms). Empty: the purpose's
// own template.
struct CodeText {
  std::string template_code;
  std::vector<std::pair<std::string, std::string>> params;
};

// Stores a new code for (phone, purpose) and queues its text message.
// The caller takes the send first (take_code_send). Returns the code's expiry.
Result<std::int64_t> issue_code(db::Session& tx, std::string_view phone, CodePurpose purpose,
                                const Clock& clock, const CodeText& text = {});

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
// Costs the live code of (phone, purpose) one try without looking at a code: a right code
// offered for something other than what it was sent for.
Status spend_code_try(db::Session& tx, std::string_view phone, CodePurpose purpose);

}  // namespace cunhuo::messaging
