// The pages a buyer browses: search, a product with who grew it and where the money goes,
// a shop, and a village. Public: no personal data (household heads masked), and an unknown
// product, shop or village is a 404 page.
#pragma once

#include "core/clock.hpp"
#include "core/db/database.hpp"
#include "payments/settlement.hpp"
#include "storefront/web/page_table.hpp"

namespace cunhuo::storefront {

inline constexpr int kSearchPageSize = 20;
inline constexpr std::size_t kMaxSearchBytes = 100;     // a longer query is cut, not refused
inline constexpr std::size_t kProductStoryBytes = 300;  // of the village's story, on a product

struct CatalogPageContext {
  db::Database& db;
  const Clock& clock;
  payments::FeeRules fees;  // to show buyers how much of a price reaches households
};

void add_catalog_pages(web::PageTable& pages, const CatalogPageContext& ctx);

}  // namespace cunhuo::storefront
