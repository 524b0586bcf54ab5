#include "marketplace/campaigns.hpp"

#include <array>

#include "core/enum_names.hpp"
#include <set>

#include "core/region.hpp"
#include "marketplace/registry.hpp"

namespace cunhuo::marketplace {
namespace {

constexpr db::Migration kMigrations[] = {
    {"marketplace", 3, "campaigns",
     "CREATE TABLE IF NOT EXISTS campaigns (\n"
     "  id {{ID}},\n"
     "  name VARCHAR(200) NOT NULL,\n"
     "  kind VARCHAR(24) NOT NULL,\n"
     "  starts_at BIGINT NOT NULL,\n"
     "  ends_at BIGINT NOT NULL,\n"
     "  discount_bps INTEGER NOT NULL,\n"
     "  per_buyer_limit BIGINT,\n"
     "  created_at BIGINT NOT NULL\n"
     ");\n"
     "CREATE TABLE IF NOT EXISTS campaign_products (\n"
     "  campaign_id BIGINT NOT NULL,\n"
     "  product_id BIGINT NOT NULL,\n"
     "  special_price_fen BIGINT,\n"
     "  stock_cap BIGINT,\n"
     "  sold BIGINT NOT NULL DEFAULT 0,\n"
     "  PRIMARY KEY (campaign_id, product_id),\n"
     "  CONSTRAINT campaign_sold_within_cap CHECK (sold >= 0 AND (stock_cap IS NULL OR sold <= "
     "stock_cap))\n"
     ");\n"
     "CREATE INDEX IF NOT EXISTS campaign_products_product ON campaign_products (product_id);\n"
     "CREATE TABLE IF NOT EXISTS campaign_villages (\n"
     "  campaign_id BIGINT NOT NULL,\n"
     "  village_code VARCHAR(12) NOT NULL,\n"
     "  PRIMARY KEY (campaign_id, village_code)\n"
     ");\n"
     "CREATE TABLE IF NOT EXISTS campaign_buyers (\n"
     "  campaign_id BIGINT NOT NULL,\n"
     "  product_id BIGINT NOT NULL,\n"
     "  buyer_id BIGINT NOT NULL,\n"
     "  quantity BIGINT NOT NULL,\n"
     "  PRIMARY KEY (campaign_id, product_id, buyer_id)\n"
     ");\n"},
    // A campaign belongs to the county whose centre runs it; a shop consents before the
    // campaign may sell its listings below their own price.
    {"marketplace", 10, "campaigns per county, shops' consent to campaign prices",
     "ALTER TABLE campaigns ADD COLUMN county_code VARCHAR(6) NOT NULL DEFAULT '';\n"
     "CREATE TABLE IF NOT EXISTS campaign_consents (\n"
     "  campaign_id BIGINT NOT NULL,\n"
     "  shop_id BIGINT NOT NULL,\n"
     "  actor VARCHAR(100) NOT NULL,\n"
     "  at BIGINT NOT NULL,\n"
     "  PRIMARY KEY (campaign_id, shop_id)\n"
     ");\n"},
};

constexpr std::array<std::pair<CampaignKind, std::string_view>, 6> kKindNames = {{
    {CampaignKind::consumption, "consumption"},
    {CampaignKind::festival, "festival"},
    {CampaignKind::anti_season, "anti_season"},
    {CampaignKind::special_price, "special_price"},
    {CampaignKind::flash_sale, "flash_sale"},
    {CampaignKind::enterprise_pairing, "enterprise_pairing"},
}};

constexpr std::size_t kMaxItems = 10'000;

Error invalid(std::string code, std::string message, std::string field) {
  return make_error(ErrorKind::invalid, std::move(code), std::move(message), std::move(field));
}

Result<bool> shop_within(db::Session& s, ShopId shop, std::string_view county) {
  auto found = CUNHUO_TRY(find_shop(s, shop));
  return found && region_within(found->village_code, county);
}

Result<bool> has_consented(db::Session& s, CampaignId campaign, ShopId shop) {
  auto row = CUNHUO_TRY(
      s.query_one("SELECT 1 FROM campaign_consents WHERE campaign_id = ? AND shop_id = ?",
                  {campaign.value, shop.value}));
  return row.has_value();
}

// A listing's price in a campaign: its special price, else the discount rounded to the
// nearest fen, never below one fen.
Money campaign_price(Money own, int discount_bps, std::optional<std::int64_t> special) {
  if (special) return Money::fen(*special);
  const std::int64_t discounted = (own.fen() * (10000 - discount_bps) + 5000) / 10000;
  return Money::fen(std::max<std::int64_t>(1, discounted));
}

constexpr const char* kSummaryColumns =
    "SELECT id, name, kind, county_code, starts_at, ends_at, discount_bps, per_buyer_limit "
    "FROM campaigns ";

Result<CampaignSummary> summary_from(const db::Row& r) {
  return CampaignSummary{.id = CampaignId{r.i64(0)},
                         .name = r.str(1),
                         .kind = CUNHUO_TRY(parse_campaign_kind(r.str(2))),
                         .county_code = r.str(3),
                         .starts_at_ms = r.i64(4),
                         .ends_at_ms = r.i64(5),
                         .discount_bps = static_cast<int>(r.i64(6)),
                         .per_buyer_limit = r.opt_i64(7)};
}

}  // namespace

std::span<const db::Migration> campaign_migrations() { return kMigrations; }

std::string_view to_string(CampaignKind kind) { return name_of(kKindNames, kind); }

Result<CampaignKind> parse_campaign_kind(std::string_view text) {
  if (auto v = value_of(kKindNames, text)) return *v;
  return invalid("invalid_kind", "unknown campaign kind", "kind");
}

Result<CampaignId> create_campaign(db::Session& tx, const NewCampaign& c, const Clock& clock) {
  if (c.name.empty() || c.name.size() > 200)
    return invalid("invalid_length", "name must be 1 to 200 bytes", "name");
  if (c.ends_at_ms <= c.starts_at_ms)
    return invalid("invalid_window", "a campaign ends after it starts", "ends_at");
  if (c.discount_bps < 0 || c.discount_bps > 9999)
    return invalid("out_of_range", "discount must be 0 to 9999 bps", "discount_bps");
  if (c.per_buyer_limit && (*c.per_buyer_limit < 1 || *c.per_buyer_limit > 1'000'000))
    return invalid("out_of_range", "per-buyer limit must be 1 to 1000000", "per_buyer_limit");
  if ((c.items.empty() && c.villages.empty()) || c.items.size() > kMaxItems ||
      c.villages.size() > kMaxItems)
    return invalid("missing_field", "name 1 to 10000 listings or villages", "items");
  if (!c.county_code.empty() &&
      CUNHUO_TRY(region_level(c.county_code, "county_code")) != RegionLevel::county)
    return invalid("invalid_region_code", "a county has a 6-digit code", "county_code");
  CUNHUO_TRY(
      tx.exec("INSERT INTO campaigns (name, kind, starts_at, ends_at, discount_bps, "
              "per_buyer_limit, created_at, "
              "county_code) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
              {c.name, to_string(c.kind), c.starts_at_ms, c.ends_at_ms, c.discount_bps,
               c.per_buyer_limit, clock.now_ms(), c.county_code}));
  const CampaignId id{CUNHUO_TRY(tx.last_insert_id())};
  std::set<std::int64_t> seen;
  for (std::size_t i = 0; i < c.items.size(); ++i) {
    const auto& item = c.items[i];
    const std::string field = "items[" + std::to_string(i) + "]";
    if (!seen.insert(item.product.value).second)
      return invalid("duplicate_item", "listing named twice", field + ".product_id");
    auto product = CUNHUO_TRY(find_product(tx, item.product));
    if (!product)
      return make_error(ErrorKind::not_found, "unknown_product", "no such product",
                        field + ".product_id");
    if (!c.county_code.empty() && !CUNHUO_TRY(shop_within(tx, product->shop, c.county_code)))
      return make_error(ErrorKind::forbidden, "outside_your_area",
                        "a listing of another county's shop", field + ".product_id");
    if (item.special_price && item.special_price->fen() <= 0)
      return invalid("out_of_range", "special price must be positive", field + ".price_fen");
    if (item.stock_cap && *item.stock_cap < 0)
      return invalid("out_of_range", "stock cap must not be negative", field + ".stock_cap");
    CUNHUO_TRY(tx.exec(
        "INSERT INTO campaign_products (campaign_id, product_id, special_price_fen, stock_cap, "
        "sold) "
        "VALUES (?, ?, ?, ?, 0)",
        {id.value, item.product.value,
         item.special_price ? db::Value(item.special_price->fen()) : db::Value(), item.stock_cap}));
  }
  for (std::size_t i = 0; i < c.villages.size(); ++i) {
    const std::string field = "villages[" + std::to_string(i) + "]";
    if (CUNHUO_TRY(region_level(c.villages[i], field)) != RegionLevel::village)
      return invalid("invalid_region_code", "a village has a 12-digit code", field);
    if (!c.county_code.empty() && !region_within(c.villages[i], c.county_code))
      return make_error(ErrorKind::forbidden, "outside_your_area", "a village of another county",
                        field);
    auto added = tx.exec("INSERT INTO campaign_villages (campaign_id, village_code) VALUES (?, ?)",
                         {id.value, c.villages[i]});
    if (!added.ok())
      return added.error().code == db::kDuplicate
                 ? invalid("duplicate_item", "village named twice", field)
                 : added.error();
  }
  return id;
}

Result<std::optional<CampaignKind>> campaign_kind(db::Session& s, CampaignId campaign) {
  auto row = CUNHUO_TRY(s.query_one("SELECT kind FROM campaigns WHERE id = ?", {campaign.value}));
  if (!row) return std::optional<CampaignKind>();
  return std::optional<CampaignKind>(CUNHUO_TRY(parse_campaign_kind(row->str(0))));
}

bool is_alleviation_campaign(CampaignKind kind) {
  return kind == CampaignKind::consumption || kind == CampaignKind::enterprise_pairing;
}

Result<CampaignTerms> campaign_terms(db::Session& tx, CampaignId campaign, const Product& product,
                                     std::int64_t quantity, std::int64_t now_ms,
                                     const std::string& field) {
  auto row = CUNHUO_TRY(tx.query_one(
      "SELECT c.starts_at, c.ends_at, c.discount_bps, c.per_buyer_limit, cp.special_price_fen "
      "FROM campaigns c JOIN campaign_products cp ON cp.campaign_id = c.id WHERE c.id = ? AND "
      "cp.product_id = ?",
      {campaign.value, product.id.value}));
  const bool listed = row.has_value();
  if (!row)  // taking part through its village: the campaign's discount, no cap of its own
    row = CUNHUO_TRY(tx.query_one(
        "SELECT c.starts_at, c.ends_at, c.discount_bps, c.per_buyer_limit, NULL FROM campaigns c "
        "JOIN campaign_villages v ON v.campaign_id = c.id WHERE c.id = ? AND v.village_code = ?",
        {campaign.value, product.origin_code}));
  if (!row) {
    auto exists =
        CUNHUO_TRY(tx.query_one("SELECT 1 FROM campaigns WHERE id = ?", {campaign.value}));
    if (!exists)
      return make_error(ErrorKind::not_found, "unknown_campaign", "no such campaign",
                        "campaign_id");
    return make_error(ErrorKind::unprocessable, "not_in_campaign",
                      "this listing is not in the campaign", field + ".product_id");
  }
  if (now_ms < row->i64(0) || now_ms >= row->i64(1))
    return make_error(ErrorKind::unprocessable, "campaign_not_running",
                      "the campaign is not running now", "campaign_id");
  if (auto limit = row->opt_i64(3); limit && quantity > *limit)
    return make_error(ErrorKind::unprocessable, "over_buyer_limit",
                      "over the per-buyer limit of " + std::to_string(*limit), field + ".quantity");
  CampaignTerms terms{campaign_price(product.price, static_cast<int>(row->i64(2)), row->opt_i64(4)),
                      row->opt_i64(3), !listed};
  // Nobody but the shop lowers its price: a campaign price needs the shop's consent.
  if (terms.unit_price != product.price && !CUNHUO_TRY(has_consented(tx, campaign, product.shop)))
    return make_error(ErrorKind::unprocessable, "shop_not_opted_in",
                      "the shop has not agreed to this campaign's price", field + ".product_id");
  return terms;
}

Result<std::optional<CampaignHeader>> find_campaign(db::Session& s, CampaignId campaign) {
  auto row = CUNHUO_TRY(
      s.query_one("SELECT id, name, county_code FROM campaigns WHERE id = ?", {campaign.value}));
  if (!row) return std::optional<CampaignHeader>();
  return std::optional<CampaignHeader>(
      CampaignHeader{CampaignId{row->i64(0)}, row->str(1), row->str(2)});
}

Status consent_to_campaign(db::Session& tx, CampaignId campaign, ShopId shop,
                           std::string_view actor, const Clock& clock) {
  if (!CUNHUO_TRY(find_campaign(tx, campaign)))
    return make_error(ErrorKind::not_found, "unknown_campaign", "no such campaign", "campaign_id");
  CUNHUO_TRY(
      tx.exec(std::string(tx.insert_ignore()) +
                  " INTO campaign_consents (campaign_id, shop_id, actor, at) VALUES (?, ?, ?, ?)",
              {campaign.value, shop.value, std::string(actor), clock.now_ms()}));
  return {};
}

Status take_in_campaign(db::Session& tx, CampaignId campaign, const CampaignTerms& terms,
                        ProductId product, std::int64_t buyer, std::int64_t quantity,
                        const std::string& field) {
  // A listing taking part through its village gets its row (with no cap) on first sale.
  if (terms.through_village)
    CUNHUO_TRY(tx.exec(
        std::string(tx.insert_ignore()) +
            " INTO campaign_products (campaign_id, product_id, special_price_fen, stock_cap, sold) "
            "VALUES (?, ?, NULL, NULL, 0)",
        {campaign.value, product.value}));
  // The cap and the buyer's limit are both conditional updates: no unit is sold twice.
  auto capped = CUNHUO_TRY(tx.exec(
      "UPDATE campaign_products SET sold = sold + ? WHERE campaign_id = ? AND product_id = ? "
      "AND (stock_cap IS NULL OR sold + ? <= stock_cap)",
      {quantity, campaign.value, product.value, quantity}));
  if (capped.affected_rows != 1)
    return make_error(ErrorKind::conflict, "campaign_sold_out",
                      "the campaign has no more of this listing", field + ".quantity");
  const auto& limit = terms.per_buyer_limit;
  if (!limit) return {};
  CUNHUO_TRY(tx.exec(
      std::string(tx.insert_ignore()) +
          " INTO campaign_buyers (campaign_id, product_id, buyer_id, quantity) VALUES (?, ?, ?, 0)",
      {campaign.value, product.value, buyer}));
  auto within =
      CUNHUO_TRY(tx.exec("UPDATE campaign_buyers SET quantity = quantity + ? WHERE campaign_id = ? "
                         "AND product_id = ? AND buyer_id = ? "
                         "AND quantity + ? <= ?",
                         {quantity, campaign.value, product.value, buyer, quantity, *limit}));
  if (within.affected_rows != 1)
    return make_error(ErrorKind::unprocessable, "over_buyer_limit",
                      "over the per-buyer limit of " + std::to_string(*limit), field + ".quantity");
  return {};
}

Status release_in_campaign(db::Session& tx, CampaignId campaign, ProductId product,
                           std::int64_t buyer, std::int64_t quantity) {
  CUNHUO_TRY(
      tx.exec("UPDATE campaign_products SET sold = sold - ? WHERE campaign_id = ? AND product_id = "
              "? AND sold >= ?",
              {quantity, campaign.value, product.value, quantity}));
  CUNHUO_TRY(tx.exec(
      "UPDATE campaign_buyers SET quantity = quantity - ? WHERE campaign_id = ? AND product_id = ? "
      "AND buyer_id = ? AND quantity >= ?",
      {quantity, campaign.value, product.value, buyer, quantity}));
  return {};
}

}  // namespace cunhuo::marketplace

namespace cunhuo::marketplace {

Result<std::vector<CampaignSummary>> running_campaigns(db::Session& s, std::int64_t now_ms,
                                                       std::string_view county,
                                                       std::optional<std::int64_t> before_id,
                                                       int limit) {
  std::string sql = std::string(kSummaryColumns) + "WHERE starts_at <= ? AND ends_at > ?";
  std::vector<db::Value> params{now_ms, now_ms};
  if (!county.empty()) {
    sql += " AND county_code = ?";
    params.emplace_back(county);
  }
  if (before_id) {
    sql += " AND id < ?";
    params.emplace_back(*before_id);
  }
  sql += " ORDER BY id DESC LIMIT ?";
  params.emplace_back(limit);
  std::vector<CampaignSummary> out;
  for (const auto& r : CUNHUO_TRY(s.query_with(sql, params)))
    out.push_back(CUNHUO_TRY(summary_from(r)));
  return out;
}

// The listings taking part through their village of origin (campaign_terms prices them with
// the campaign's discount where the shop agreed), after those named, at most
// kMaxCampaignVillageListings of them.
Status add_village_listings(db::Session& s, CampaignDetail& d) {
  for (const auto& r : CUNHUO_TRY(s.query(
           "SELECT p.id, p.shop_id, p.title, p.price_fen, cc.shop_id FROM products p "
           "JOIN campaign_villages v ON v.village_code = p.origin_code "
           "LEFT JOIN campaign_consents cc ON cc.campaign_id = v.campaign_id "
           "AND cc.shop_id = p.shop_id "
           "WHERE v.campaign_id = ? AND p.active = 1 AND NOT EXISTS (SELECT 1 FROM "
           "campaign_products cp WHERE cp.campaign_id = v.campaign_id AND cp.product_id = p.id) "
           "ORDER BY p.id LIMIT ?",
           {d.campaign.id.value, kMaxCampaignVillageListings}))) {
    const Money own = Money::fen(r.i64(3));
    d.listings.push_back(CampaignListing{
        .product = ProductId{r.i64(0)},
        .shop = ShopId{r.i64(1)},
        .title = r.str(2),
        .price = own,
        .campaign_price = r.is_null(4) ? std::nullopt
                                       : std::optional<Money>(campaign_price(
                                             own, d.campaign.discount_bps, std::nullopt)),
        .stock_cap = std::nullopt,
        .sold = 0});
  }
  return {};
}

Result<std::optional<CampaignDetail>> campaign_detail(db::Session& s, CampaignId campaign) {
  auto row =
      CUNHUO_TRY(s.query_one(std::string(kSummaryColumns) + "WHERE id = ?", {campaign.value}));
  if (!row) return std::optional<CampaignDetail>();
  CampaignDetail d{.campaign = CUNHUO_TRY(summary_from(*row)), .listings = {}, .villages = {}};
  for (const auto& r : CUNHUO_TRY(
           s.query("SELECT cp.product_id, p.shop_id, p.title, p.price_fen, cp.special_price_fen, "
                   "cp.stock_cap, cp.sold, cc.shop_id FROM campaign_products cp "
                   "JOIN products p ON p.id = cp.product_id "
                   "LEFT JOIN campaign_consents cc ON cc.campaign_id = cp.campaign_id "
                   "AND cc.shop_id = p.shop_id "
                   "WHERE cp.campaign_id = ? AND p.active = 1 ORDER BY cp.product_id",
                   {campaign.value}))) {
    const Money own = Money::fen(r.i64(3));
    const bool consented = !r.is_null(7);
    d.listings.push_back(CampaignListing{
        .product = ProductId{r.i64(0)},
        .shop = ShopId{r.i64(1)},
        .title = r.str(2),
        .price = own,
        .campaign_price = consented ? std::optional<Money>(campaign_price(
                                          own, d.campaign.discount_bps, r.opt_i64(4)))
                                    : std::nullopt,
        .stock_cap = r.opt_i64(5),
        .sold = r.i64(6)});
  }
  for (const auto& r : CUNHUO_TRY(s.query(
           "SELECT village_code FROM campaign_villages WHERE campaign_id = ? ORDER BY village_code",
           {campaign.value})))
    d.villages.push_back(r.str(0));
  CUNHUO_CHECK(add_village_listings(s, d));
  return std::optional<CampaignDetail>(std::move(d));
}

}  // namespace cunhuo::marketplace
