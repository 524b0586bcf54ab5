// Signing up and logging in by phone: one-time codes sent by text message, consumer
// accounts, passwords set and changed, and the account's own sessions. Also the text
// message sandbox's inbox (GET /sim/sms) when the sandbox is on.
#pragma once

#include "core/clock.hpp"
#include "core/db/database.hpp"
#include "messaging/dispatcher.hpp"
#include "messaging/sandbox.hpp"
#include "storefront/auth.hpp"
#include "storefront/rate_limit.hpp"
#include "storefront/route_table.hpp"
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

void add_account_routes(RouteTable& table, const AccountContext& ctx);
// GET /sim/sms: only when ctx.sandbox is set.
void add_sms_sandbox_routes(RouteTable& table, const AccountContext& ctx);

}  // namespace cunhuo::storefront
