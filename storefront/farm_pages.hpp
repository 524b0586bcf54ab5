// The farmer's pages, made for a cheap phone on a weak network and for someone who rarely
// uses one: what to pack today, each order with its pick-up point and deadline, marking it
// packed, and its parcel label with a QR code to print or show. A farmer sees only their
// own household's shop.
#pragma once

#include "core/clock.hpp"
#include "core/db/database.hpp"
#include "storefront/web/page_table.hpp"

namespace cunhuo::storefront {

inline constexpr int kFarmOrdersToPack = 20;  // on the home page; the rest on the next page
inline constexpr int kLabelQrPx = 160;

struct FarmPageContext {
  db::Database& db;
  const Clock& clock;
};

void add_farm_pages(web::PageTable& pages, const FarmPageContext& ctx);

}  // namespace cunhuo::storefront
