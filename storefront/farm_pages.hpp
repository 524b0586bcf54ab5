// The farmer's pages, made for a cheap phone on a weak network and for someone who rarely
// uses one: what to pack today, each order with its pick-up point and deadline, marking it
// packed, and its parcel label with a QR code to print or show. A farmer sees only their
// own household's shop.
#pragma once

#include <functional>
#include <span>

#include "core/clock.hpp"
#include "core/db/database.hpp"
#include "marketplace/shops.hpp"
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

// Whose pages these are: the farmer's (/farm: the household's own shop) or a cooperative
// manager's (/coop: the cooperative, whose listings name their members' shares). The same
// pages serve both, under their own path.
struct Desk {
  std::string base;  // "/farm" or "/coop"
  Role role = Role::farmer;
  std::string home_title;  // a text key
  // The shops whose orders it packs (none: nothing to pack), or a refusal of the account.
  std::function<Result<std::vector<marketplace::ShopId>>(db::Session&, const Account&)> shops;
  // The shop its listings go to, or a refusal (409 no_shop when it has none).
  std::function<Result<marketplace::Shop>(db::Session&, const Account&)> listing_shop;
  bool shares = false;  // a listing names its producers' shares (a cooperative's members)
};
Desk farm_desk();
// What every desk page's template reads of its desk: base, desk_title, coop.
void set_desk(web::View& view, const Desk& desk, web::Lang lang);

// A page of a desk, at desk.base + path, for desk.role.
struct DeskPage {
  std::string_view method, path, summary;
  Result<web::Page> (*handler)(const FarmPageContext&, const Desk&, const web::PageCall&);
};
void add_desk_pages(web::PageTable& pages, const FarmPageContext& ctx, const Desk& desk,
                    std::span<const DeskPage> table);

// Orders to pack, marking one packed, its label: under desk.base.
void add_packing_pages(web::PageTable& pages, const FarmPageContext& ctx, const Desk& desk);
void add_farm_pages(web::PageTable& pages, const FarmPageContext& ctx);
// The listings (storefront/listing_pages.cpp): new, list, change stock, under desk.base.
void add_listing_pages(web::PageTable& pages, const FarmPageContext& ctx, const Desk& desk);

}  // namespace cunhuo::storefront
