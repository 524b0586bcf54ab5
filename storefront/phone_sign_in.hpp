// Signing in by a code sent to a phone, for the API and the pages alike: asking for a code
// (limited per phone in the store, and per address by the caller), signing up a consumer
// with a sign_up code, and the pages' single step, which logs in a phone that has an account
// and signs up one that has not, answering both the same way so that neither step tells
// whether a phone is registered.
#pragma once

#include <optional>
#include <string>

#include "core/clock.hpp"
#include "core/db/database.hpp"
#include "messaging/dispatcher.hpp"
#include "messaging/phone_codes.hpp"
#include "messaging/sandbox.hpp"
#include "storefront/auth.hpp"
#include "storefront/rate_limit.hpp"
#include "storefront/work_pool.hpp"

namespace cunhuo::storefront {

// A consumer has no area: its region is China as a whole (100000, the code national
// geographic data gives the country), which region_level accepts and no area lies within.
inline constexpr std::string_view kConsumerRegionCode = "100000";
inline constexpr std::int64_t kCodeRequestWindowMs = 3600LL * 1000;  // per-address limit window

struct AccountContext {
  db::Database& db;
  const Clock& clock;
  Auth& auth;
  WorkPool& pool;
  RateLimiter& code_requests;      // per client address
  messaging::SmsDispatcher* sms;   // woken when a message is queued; null when off
  messaging::SandboxSms* sandbox;  // null unless the sandbox is on
  bool demo = false;               // the sandbox may answer beyond loopback
};

// Asking for a code where no text is sent (sms off): 503, whatever the phone, before
// anything is counted or queued.
inline constexpr std::string_view kSmsUnavailable = "sms_unavailable";

// Sends a code for `purpose` if the phone's limits allow: nullopt when sent (or when
// nothing was to be sent: the answer must not tell), else how many ms to wait; an
// unavailable kSmsUnavailable error when no sender is configured.
Result<std::optional<std::int64_t>> send_phone_code(const AccountContext& ctx,
                                                    const std::string& phone,
                                                    messaging::CodePurpose purpose);
// A new consumer and its session; nullopt for a wrong, expired or used-up code, and for a
// phone that has an account (answered alike).
Result<std::optional<SessionGrant>> sign_up_by_code(const AccountContext& ctx,
                                                    const std::string& phone,
                                                    const std::string& code,
                                                    const std::string& display_name);

// The pages' way: a log_in code to a phone that has an account, a sign_up code to one that
// has not. Limits as send_phone_code.
Result<std::optional<std::int64_t>> send_sign_in_code(const AccountContext& ctx,
                                                      const std::string& phone);
// Logs in with that code, or signs up a consumer named `new_name`; nullopt when refused.
Result<std::optional<SessionGrant>> sign_in_by_code(const AccountContext& ctx,
                                                    const std::string& phone,
                                                    const std::string& code,
                                                    const std::string& new_name);

}  // namespace cunhuo::storefront
