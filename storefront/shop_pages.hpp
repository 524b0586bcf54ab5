// The pages of the buyer's shop, and of every visitor: the home page with the campaigns
// now running and a search box, the language switch, and logging out. They render from
// the same module functions the API uses.
#pragma once

#include "core/clock.hpp"
#include "core/db/database.hpp"
#include "storefront/web/page_table.hpp"

namespace cunhuo::storefront {

inline constexpr int kHomeCampaigns = 20;   // campaigns on the home page
inline constexpr int kHomeCategories = 12;  // categories on the home page, the largest

struct ShopPageContext {
  db::Database& db;
  const Clock& clock;
  Auth& auth;
  const web::PageTable& pages;
};

void add_shop_pages(web::PageTable& pages, const ShopPageContext& ctx);

}  // namespace cunhuo::storefront
