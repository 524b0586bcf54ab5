// The cooperative manager's pages (/coop): what the farmer's pages offer, for the
// cooperative (orders to pack across its members, labels, listings made for members with
// their shares, this month's income line by line), plus its member households and the
// requests to join it, and its orders across members. Only a manager of a cooperative
// opens them, and sees only their own cooperative.
#pragma once

#include "storefront/cursor.hpp"
#include "storefront/farm_pages.hpp"

namespace cunhuo::storefront {

inline constexpr int kCoopOrdersPerPage = 20;

struct CoopPageContext {
  FarmPageContext farm;
  const CursorSeal& cursors;  // the orders list's pages
};

// The cooperative the account manages; 403 not_a_cooperative_manager for any other.
Result<marketplace::Shop> cooperative_of(db::Session& s, const Account& account);

void add_coop_pages(web::PageTable& pages, const CoopPageContext& ctx);

}  // namespace cunhuo::storefront
