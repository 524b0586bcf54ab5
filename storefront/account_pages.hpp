// Logging in on a page, by a code sent to the phone (验证码登录): a phone with an account
// logs in, a phone without one becomes a consumer, and the pages answer both alike. Works
// without JavaScript: one form asks for the code, the next takes it.
#pragma once

#include "storefront/phone_sign_in.hpp"
#include "storefront/web/page_table.hpp"

namespace cunhuo::storefront {

inline constexpr std::string_view kNewAccountName = "村货用户";  // + the phone's last 4 digits

void add_account_pages(web::PageTable& pages, const AccountContext& ctx);

}  // namespace cunhuo::storefront
