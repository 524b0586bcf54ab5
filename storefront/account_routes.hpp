// Signing up and logging in by phone: one-time codes sent by text message, consumer
// accounts, passwords set and changed, and the account's own sessions. Also the text
// message sandbox's inbox (GET /sim/sms) when the sandbox is on.
#pragma once

#include "core/clock.hpp"
#include "core/db/database.hpp"
#include "messaging/dispatcher.hpp"
#include "messaging/sandbox.hpp"
#include "storefront/auth.hpp"
#include "storefront/phone_sign_in.hpp"
#include "storefront/rate_limit.hpp"
#include "storefront/route_table.hpp"
#include "storefront/work_pool.hpp"

namespace cunhuo::storefront {

void add_account_routes(RouteTable& table, const AccountContext& ctx);
// GET /sim/sms: only when ctx.sandbox is set.
void add_sms_sandbox_routes(RouteTable& table, const AccountContext& ctx);

}  // namespace cunhuo::storefront
