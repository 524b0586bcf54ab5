// The farmer's pages, made for a cheap phone on a weak network and for someone who rarely
// uses one: what to pack today, each order with its pick-up point and deadline, marking it
// packed, and its parcel label with a QR code to print or show. A farmer sees only their
// own household's shop.
#pragma once

#include "core/clock.hpp"
#include "core/db/database.hpp"
#include "storefront/idempotency.hpp"
#include "storefront/web/page_table.hpp"

namespace cunhuo::storefront {

inline constexpr int kFarmOrdersToPack = 20;  // on the home page; the rest on the next page
inline constexpr int kLabelQrPx = 160;

// A new listing's choices, kept few so that listing takes three taps and a photo.
inline constexpr std::string_view kListingCategories[] = {"水果", "蔬菜",   "粮油",
                                                          "干货", "肉禽蛋", "其他"};
// The catalog's unit codes, shown as 斤, 箱, 千克, 个.
inline constexpr std::string_view kListingUnits[] = {"jin", "box", "kg", "piece"};
// Days a listing keeps, by how it must be kept, unless the farmer says otherwise.
inline constexpr int kAmbientShelfLifeDays = 30, kChilledShelfLifeDays = 10,
                     kFrozenShelfLifeDays = 180;
inline constexpr std::size_t kMaxListingFormBytes = 16 * 1024;  // the form without its photo

struct FarmPageContext {
  db::Database& db;
  const Clock& clock;
  Idempotency& idempotency;  // a listing sent twice (a retry on a dropped line) appears once
  std::string photo_folder;  // where listing photos are kept
  std::int64_t max_upload_body = 0;
  bool https = false;  // served over TLS: the label's trace QR codes say https
};

void add_farm_pages(web::PageTable& pages, const FarmPageContext& ctx);
// The farmer's listings (storefront/listing_pages.cpp): new, list, change stock.
void add_listing_pages(web::PageTable& pages, const FarmPageContext& ctx);

}  // namespace cunhuo::storefront
