// Products (listings) of a shop, the households that produced them and their shares,
// and catalog search that understands partial Chinese words.
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
#include "core/temperature.hpp"
#include "marketplace/registry.hpp"

namespace cunhuo::marketplace {

using ProductId = Id<struct ProductTag>;

// A product's temperature class is core's, shared with logistics, which carries it.
using cunhuo::parse_temperature_class;
using cunhuo::TemperatureClass;
using cunhuo::to_string;

constexpr int kFullShare = 10000;  // producer shares are basis points that sum to this
constexpr std::size_t kMaxProducers = 200;

// A listing's limits, for the catalog's checks and the API's schema alike (UTF-8 bytes).
constexpr std::size_t kMaxTitleBytes = 200;
constexpr std::size_t kMaxCategoryBytes = 40;
constexpr std::size_t kMaxUnitBytes = 10;
constexpr std::size_t kMaxLotBytes = 60;  // a lot number as printed on the box
constexpr std::size_t kMaxOriginNameBytes = 100;
constexpr std::size_t kMaxDescriptionBytes = 4000;
constexpr std::size_t kDateBytes = 10;              // YYYY-MM-DD
constexpr std::int64_t kMaxPriceFen = 100'000'000;  // 1,000,000 yuan per unit
constexpr std::int64_t kMaxStock = 100'000'000;
constexpr int kMaxShelfLifeDays = 3650;

struct ProducerShare {
  HouseholdId household;
  int share_bps = 0;
};

// Everything a listing states. On update, unset optionals keep their current value.
struct ListingFields {
  std::optional<std::string> title, category, unit, harvest_date, lot, origin_code, origin_name,
      description;
  std::optional<Money> price;
  std::optional<std::int64_t> stock;
  std::optional<TemperatureClass> temperature;
  std::optional<int> shelf_life_days;
  std::optional<std::vector<ProducerShare>> producers;
  std::optional<bool> active;
};

struct Product {
  ProductId id;
  ShopId shop;
  std::string title, category, unit, harvest_date, lot, origin_code, origin_name, description;
  Money price;
  std::int64_t stock = 0;
  TemperatureClass temperature = TemperatureClass::ambient;
  int shelf_life_days = 0;
  bool active = true;
  int version = 1;
  std::vector<ProducerShare> producers;
};

std::span<const db::Migration> catalog_migrations();

Result<ProductId> create_product(db::Session& tx, ShopId shop, const ListingFields& fields,
                                 const Clock& clock);
Result<Product> update_product(db::Session& tx, ProductId id, const ListingFields& changes,
                               const Clock& clock);
Result<std::optional<Product>> find_product(db::Session& s, ProductId id);
// A shop's listings, on sale or not, newest first: at most kMaxShopListings (its owner's list).
inline constexpr int kMaxShopListings = 200;
Result<std::vector<Product>> products_of_shop(db::Session& s, ShopId shop);
// Several products in one go, in the order of `ids` (missing ones left out); at most 1000.
Result<std::vector<Product>> find_products(db::Session& s, const std::vector<ProductId>& ids);

struct ProductQuery {
  std::string text;                   // Chinese or other words; partial words match
  std::optional<std::string> region;  // origin county, township or village code
  std::optional<std::string> category;
  std::optional<TemperatureClass> temperature;
  std::optional<std::int64_t> campaign_id;
  bool certified_only = false;  // only certified poverty-alleviation products
  std::string cursor;           // from the previous page, empty for the first
  int limit = 20;               // 1 to 100
};

// The categories of the listings on sale, those with most listings first (then by name).
struct CategoryCount {
  std::string category;
  std::int64_t listings = 0;
};
inline constexpr int kMaxCategoriesListed = 50;
Result<std::vector<CategoryCount>> categories_on_sale(db::Session& s, int limit);

struct ProductPage {
  std::vector<Product> items;
  std::string next_cursor;  // empty on the last page
};

Result<ProductPage> search_products(db::Session& s, const ProductQuery& query);

// The search terms of a text: single characters and pairs of adjacent characters of
// each run of letters, digits or CJK characters, lower-cased. Exposed for tests.
std::vector<std::string> search_terms(std::string_view text, bool with_single_characters);

}  // namespace cunhuo::marketplace
