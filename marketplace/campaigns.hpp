// Campaigns: consumption poverty alleviation, festival, anti-season, special price,
// flash sale and enterprise pairing. A campaign has a window, participating listings,
// a price rule (a discount or a special price per listing), an optional per-buyer
// limit and optional stock caps. Checkout reserves campaign quantities atomically.
#pragma once

#include <optional>
#include <span>
#include <string>
#include <vector>

#include "core/clock.hpp"
#include "core/db/database.hpp"
#include "core/db/migrations.hpp"
#include "core/id.hpp"
#include "core/money.hpp"
#include "marketplace/catalog.hpp"

namespace cunhuo::marketplace {

using CampaignId = Id<struct CampaignTag>;

enum class CampaignKind {
  consumption,
  festival,
  anti_season,
  special_price,
  flash_sale,
  enterprise_pairing
};
std::string_view to_string(CampaignKind kind);
Result<CampaignKind> parse_campaign_kind(std::string_view text);

struct CampaignItem {
  ProductId product;
  std::optional<Money> special_price;     // replaces the discount for this listing
  std::optional<std::int64_t> stock_cap;  // units this campaign may sell of it
};

struct NewCampaign {
  std::string name;
  CampaignKind kind = CampaignKind::consumption;
  std::int64_t starts_at_ms = 0, ends_at_ms = 0;
  int discount_bps = 0;                         // 0 to 9999 off the listing price
  std::optional<std::int64_t> per_buyer_limit;  // units per buyer per listing
  std::vector<CampaignItem> items;
  std::vector<std::string>
      villages;             // every listing from these villages takes part too (at the discount)
  std::string county_code;  // the county whose centre runs it: every listing and
                            // village must be of it ("" only for tests of the rules)
};

std::span<const db::Migration> campaign_migrations();

Result<CampaignId> create_campaign(db::Session& tx, const NewCampaign& campaign,
                                   const Clock& clock);
Result<std::optional<CampaignKind>> campaign_kind(db::Session& s, CampaignId campaign);

struct CampaignHeader {
  CampaignId id;
  std::string name, county_code;
};
Result<std::optional<CampaignHeader>> find_campaign(db::Session& s, CampaignId campaign);
// The shop agrees that the campaign may sell its listings at the campaign's price (a
// special price or the discount); until then checkout refuses them below their own price.
// Agreeing twice is a no-op.
Status consent_to_campaign(db::Session& tx, CampaignId campaign, ShopId shop,
                           std::string_view actor, const Clock& clock);
// Consumption poverty alleviation and enterprise pairing exist to lift household income:
// the platform takes no fee on what they sell.
bool is_alleviation_campaign(CampaignKind kind);

// The campaigns running at `now_ms` (started, not yet ended), of `county` ("": any), newest
// first, those with an id below `before_id` when given.
struct CampaignSummary {
  CampaignId id;
  std::string name;
  CampaignKind kind = CampaignKind::consumption;
  std::string county_code;
  std::int64_t starts_at_ms = 0, ends_at_ms = 0;
  int discount_bps = 0;
  std::optional<std::int64_t> per_buyer_limit;
};
Result<std::vector<CampaignSummary>> running_campaigns(db::Session& s, std::int64_t now_ms,
                                                       std::string_view county,
                                                       std::optional<std::int64_t> before_id,
                                                       int limit);

// A campaign with its listings (active ones) and villages. A listing's campaign price is
// shown only where its shop has consented to it: elsewhere the campaign sells at the
// listing's own price.
struct CampaignListing {
  ProductId product;
  ShopId shop;
  std::string title;
  Money price;
  std::optional<Money> campaign_price;
  std::optional<std::int64_t> stock_cap;
  std::int64_t sold = 0;
};
inline constexpr std::int64_t kMaxCampaignVillageListings = 200;  // shown through villages
struct CampaignDetail {
  CampaignSummary campaign;
  std::vector<CampaignListing> listings;
  std::vector<std::string> villages;
};
Result<std::optional<CampaignDetail>> campaign_detail(db::Session& s, CampaignId campaign);

// For checkout, in two steps so that the contended rows are locked only at the end of
// the transaction: first the unit price of `product` in the campaign at `now` (checks
// the window, participation and the per-buyer limit against `quantity`, locks nothing),
// then taking `quantity` against the campaign's cap and the buyer's limit (conditional
// updates). `field` names the item in errors.
struct CampaignTerms {
  Money unit_price;
  std::optional<std::int64_t> per_buyer_limit;
  bool through_village = false;  // the listing takes part because of its village
};
Result<CampaignTerms> campaign_terms(db::Session& tx, CampaignId campaign, const Product& product,
                                     std::int64_t quantity, std::int64_t now_ms,
                                     const std::string& field);
Status take_in_campaign(db::Session& tx, CampaignId campaign, const CampaignTerms& terms,
                        ProductId product, std::int64_t buyer, std::int64_t quantity,
                        const std::string& field);
// Gives back what reserve_in_campaign took (an order cancelled or expired).
Status release_in_campaign(db::Session& tx, CampaignId campaign, ProductId product,
                           std::int64_t buyer, std::int64_t quantity);

}  // namespace cunhuo::marketplace
