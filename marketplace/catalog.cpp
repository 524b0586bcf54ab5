#include "marketplace/catalog.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <map>
#include <set>

#include "core/assert.hpp"
#include "core/region.hpp"
#include "marketplace/certification.hpp"
#include "marketplace/lots.hpp"

namespace cunhuo::marketplace {
namespace {

constexpr db::Migration kMigrations[] = {
    {"marketplace", 2, "catalog",
     "CREATE TABLE IF NOT EXISTS products (\n"
     "  id {{ID}},\n"
     "  shop_id BIGINT NOT NULL,\n"
     "  title VARCHAR(200) NOT NULL,\n"
     "  category VARCHAR(40) NOT NULL,\n"
     "  unit VARCHAR(10) NOT NULL,\n"
     "  price_fen BIGINT NOT NULL,\n"
     "  stock BIGINT NOT NULL,\n"
     "  temperature_class VARCHAR(10) NOT NULL,\n"
     "  shelf_life_days INTEGER NOT NULL,\n"
     "  harvest_date VARCHAR(10) NOT NULL,\n"
     "  lot VARCHAR(60) NOT NULL,\n"
     "  origin_code VARCHAR(12) NOT NULL,\n"
     "  origin_name VARCHAR(100) NOT NULL,\n"
     "  description TEXT NOT NULL,\n"
     "  active INTEGER NOT NULL,\n"
     "  version INTEGER NOT NULL,\n"
     "  created_at BIGINT NOT NULL,\n"
     "  updated_at BIGINT NOT NULL,\n"
     "  CONSTRAINT products_stock_never_negative CHECK (stock >= 0)\n"
     ");\n"
     "CREATE INDEX IF NOT EXISTS products_shop ON products (shop_id);\n"
     "CREATE INDEX IF NOT EXISTS products_origin ON products (origin_code);\n"
     "CREATE TABLE IF NOT EXISTS product_producers (\n"
     "  product_id BIGINT NOT NULL,\n"
     "  household_id BIGINT NOT NULL,\n"
     "  share_bps INTEGER NOT NULL,\n"
     "  PRIMARY KEY (product_id, household_id)\n"
     ");\n"
     "CREATE INDEX IF NOT EXISTS product_producers_household ON product_producers (household_id);\n"
     "CREATE TABLE IF NOT EXISTS product_terms (\n"
     "  term VARCHAR(16) NOT NULL,\n"
     "  product_id BIGINT NOT NULL,\n"
     "  PRIMARY KEY (term, product_id)\n"
     ");\n"
     "CREATE INDEX IF NOT EXISTS product_terms_product ON product_terms (product_id);\n"},
};

constexpr std::array<std::string_view, 4> kUnits = {"jin", "kg", "box", "piece"};

constexpr const char* kProductColumns =
    "id, shop_id, title, category, unit, price_fen, stock, temperature_class, shelf_life_days, "
    "harvest_date, lot, "
    "origin_code, origin_name, description, active, version";

Error invalid(std::string code, std::string message, std::string field) {
  return make_error(ErrorKind::invalid, std::move(code), std::move(message), std::move(field));
}

// Decodes one UTF-8 code point; returns its length (1 for a stray byte).
std::size_t next_code_point(std::string_view s, std::size_t i, char32_t& cp) {
  auto c = static_cast<unsigned char>(s[i]);
  std::size_t len = c < 0x80           ? 1
                    : (c >> 5) == 0x6  ? 2
                    : (c >> 4) == 0xE  ? 3
                    : (c >> 3) == 0x1E ? 4
                                       : 1;
  if (i + len > s.size()) len = 1;
  cp = len == 1 ? c : len == 2 ? (c & 0x1F) : len == 3 ? (c & 0x0F) : (c & 0x07);
  for (std::size_t k = 1; k < len; ++k)
    cp = (cp << 6) | (static_cast<unsigned char>(s[i + k]) & 0x3F);
  return len;
}

bool is_word_character(char32_t cp) {
  if (cp < 0x80) return std::isalnum(static_cast<int>(cp)) != 0;
  if (cp >= 0x2000 && cp <= 0x206F) return false;  // general punctuation
  if (cp >= 0x3000 && cp <= 0x303F) return false;  // CJK punctuation
  if (cp >= 0xFF00 && cp <= 0xFF0F) return false;  // full-width punctuation
  if (cp >= 0xFF1A && cp <= 0xFF20) return false;
  if (cp >= 0xFF3B && cp <= 0xFF40) return false;
  if (cp >= 0xFF5B && cp <= 0xFF65) return false;
  return true;
}

Status check_text(const std::optional<std::string>& v, std::string_view field, std::size_t min,
                  std::size_t max) {
  if (v && (v->size() < min || v->size() > max))
    return invalid("invalid_length",
                   "must be " + std::to_string(min) + " to " + std::to_string(max) + " bytes",
                   std::string(field));
  return {};
}

Status check_date(const std::optional<std::string>& v, std::string_view field) {
  if (!v || v->empty()) return {};
  const std::string& d = *v;
  bool ok = d.size() == 10 && d[4] == '-' && d[7] == '-';
  for (std::size_t i = 0; ok && i < d.size(); ++i)
    ok = (i == 4 || i == 7) || (d[i] >= '0' && d[i] <= '9');
  if (ok) {
    int month = std::stoi(d.substr(5, 2)), day = std::stoi(d.substr(8, 2));
    ok = month >= 1 && month <= 12 && day >= 1 && day <= 31;
  }
  if (!ok) return invalid("invalid_date", "use YYYY-MM-DD", std::string(field));
  return {};
}

Status check_fields(const ListingFields& f) {
  CUNHUO_CHECK(check_text(f.title, "title", 1, kMaxTitleBytes));
  CUNHUO_CHECK(check_text(f.category, "category", 1, kMaxCategoryBytes));
  CUNHUO_CHECK(check_text(f.lot, "lot", 0, kMaxLotBytes));
  CUNHUO_CHECK(check_text(f.origin_name, "origin_name", 0, kMaxOriginNameBytes));
  CUNHUO_CHECK(check_text(f.description, "description", 0, kMaxDescriptionBytes));
  CUNHUO_CHECK(check_date(f.harvest_date, "harvest_date"));
  if (f.unit && std::find(kUnits.begin(), kUnits.end(), *f.unit) == kUnits.end())
    return invalid("invalid_unit", "unit must be jin, kg, box or piece", "unit");
  if (f.price && (f.price->fen() <= 0 || f.price->fen() > kMaxPriceFen))
    return invalid("out_of_range", "price must be 1 to " + std::to_string(kMaxPriceFen) + " fen",
                   "price_fen");
  if (f.stock && (*f.stock < 0 || *f.stock > kMaxStock))
    return invalid("out_of_range", "stock must be 0 to " + std::to_string(kMaxStock), "stock");
  if (f.shelf_life_days && (*f.shelf_life_days < 1 || *f.shelf_life_days > kMaxShelfLifeDays))
    return invalid("out_of_range",
                   "shelf life must be 1 to " + std::to_string(kMaxShelfLifeDays) + " days",
                   "shelf_life_days");
  if (f.origin_code) CUNHUO_TRY(region_level(*f.origin_code, "origin_code"));
  return {};
}

// Producers must be distinct member households of the shop, with shares summing to 10000.
Status check_producers(db::Session& s, ShopId shop, const std::vector<ProducerShare>& producers) {
  if (producers.empty())
    return invalid("missing_field", "name at least one producer household", "producers");
  if (producers.size() > kMaxProducers)
    return invalid("too_many_items", "at most " + std::to_string(kMaxProducers) + " producers",
                   "producers");
  std::int64_t total = 0;
  std::set<std::int64_t> seen;
  for (std::size_t i = 0; i < producers.size(); ++i) {
    const auto& p = producers[i];
    const std::string field = "producers[" + std::to_string(i) + "]";
    if (p.share_bps <= 0 || p.share_bps > kFullShare)
      return invalid("out_of_range", "share must be 1 to 10000 basis points", field + ".share_bps");
    if (!seen.insert(p.household.value).second)
      return invalid("duplicate_producer", "household named twice", field + ".household_id");
    auto member =
        CUNHUO_TRY(s.query_one("SELECT 1 FROM shop_members WHERE shop_id = ? AND household_id = ?",
                               {shop.value, p.household.value}));
    if (!member)
      return invalid("not_a_member", "household is not a member of this shop",
                     field + ".household_id");
    total += p.share_bps;
  }
  if (total != kFullShare)
    return invalid("shares_not_whole",
                   "producer shares must sum to 10000 basis points, not " + std::to_string(total),
                   "producers");
  return {};
}

Status index_terms(db::Session& tx, ProductId id, const Product& p) {
  CUNHUO_TRY(tx.exec("DELETE FROM product_terms WHERE product_id = ?", {id.value}));
  std::set<std::string> terms;
  for (const auto* text : {&p.title, &p.category, &p.origin_name})
    for (auto& t : search_terms(*text, true)) terms.insert(std::move(t));
  const std::string sql =
      std::string(tx.insert_ignore()) + " INTO product_terms (term, product_id) VALUES (?, ?)";
  for (const auto& t : terms) CUNHUO_TRY(tx.exec(sql, {t, id.value}));
  return {};
}

Status write_producers(db::Session& tx, ProductId id, const std::vector<ProducerShare>& producers) {
  CUNHUO_TRY(tx.exec("DELETE FROM product_producers WHERE product_id = ?", {id.value}));
  for (const auto& p : producers)
    CUNHUO_TRY(tx.exec(
        "INSERT INTO product_producers (product_id, household_id, share_bps) VALUES (?, ?, ?)",
        {id.value, p.household.value, p.share_bps}));
  return {};
}

Result<Product> product_row(const db::Row& r) {
  Product p;
  p.id = ProductId{r.i64(0)};
  p.shop = ShopId{r.i64(1)};
  p.title = r.str(2);
  p.category = r.str(3);
  p.unit = r.str(4);
  p.price = Money::fen(r.i64(5));
  p.stock = r.i64(6);
  p.temperature = CUNHUO_TRY(parse_temperature_class(r.str(7)));
  p.shelf_life_days = static_cast<int>(r.i64(8));
  p.harvest_date = r.str(9);
  p.lot = r.str(10);
  p.origin_code = r.str(11);
  p.origin_name = r.str(12);
  p.description = r.str(13);
  p.active = r.i64(14) != 0;
  p.version = static_cast<int>(r.i64(15));
  assert(p.stock >= 0 && "stock is never negative");
  return p;
}

void apply(Product& p, const ListingFields& f) {
  if (f.title) p.title = *f.title;
  if (f.category) p.category = *f.category;
  if (f.unit) p.unit = *f.unit;
  if (f.harvest_date) p.harvest_date = *f.harvest_date;
  if (f.lot) p.lot = *f.lot;
  if (f.origin_code) p.origin_code = *f.origin_code;
  if (f.origin_name) p.origin_name = *f.origin_name;
  if (f.description) p.description = *f.description;
  if (f.price) p.price = *f.price;
  if (f.stock) p.stock = *f.stock;
  if (f.temperature) p.temperature = *f.temperature;
  if (f.shelf_life_days) p.shelf_life_days = *f.shelf_life_days;
  if (f.producers) p.producers = *f.producers;
  if (f.active) p.active = *f.active;
}

struct Cursor {
  std::int64_t score = 0, id = 0;
};

Result<std::optional<Cursor>> parse_cursor(const std::string& text) {
  if (text.empty()) return std::optional<Cursor>();
  Cursor c;
  auto dash = text.find('-');
  auto bad = [] {
    return invalid("invalid_cursor", "cursor is not one this server gave", "cursor");
  };
  if (dash == std::string::npos) return bad();
  auto [e1, ec1] = std::from_chars(text.data(), text.data() + dash, c.score);
  auto [e2, ec2] = std::from_chars(text.data() + dash + 1, text.data() + text.size(), c.id);
  if (ec1 != std::errc{} || ec2 != std::errc{} || e1 != text.data() + dash ||
      e2 != text.data() + text.size())
    return bad();
  return std::optional<Cursor>(c);
}

}  // namespace

std::span<const db::Migration> catalog_migrations() { return kMigrations; }

std::vector<std::string> search_terms(std::string_view text, bool with_single_characters) {
  std::vector<std::string> out;
  std::vector<std::string> run;  // code points of the current word run, lower-cased
  auto flush = [&] {
    if (with_single_characters || run.size() == 1)
      for (const auto& c : run) out.push_back(c);
    for (std::size_t i = 0; i + 1 < run.size(); ++i) out.push_back(run[i] + run[i + 1]);
    run.clear();
  };
  for (std::size_t i = 0; i < text.size();) {
    char32_t cp = 0;
    std::size_t len = next_code_point(text, i, cp);
    if (is_word_character(cp)) {
      std::string ch(text.substr(i, len));
      if (len == 1) ch[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(ch[0])));
      run.push_back(std::move(ch));
    } else {
      flush();
    }
    i += len;
  }
  flush();
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

namespace {

// Produce is sold by a shop of the county it comes from: a county's centre, office and
// certification vouch for their own county's goods only.
Status check_origin(const Shop& shop, std::string_view origin_code) {
  if (!region_within(origin_code, county_of(shop.village_code)))
    return invalid("origin_outside_county", "the origin must lie in the shop's own county",
                   "origin_code");
  return {};
}

}  // namespace

Result<ProductId> create_product(db::Session& tx, ShopId shop, const ListingFields& f,
                                 const Clock& clock) {
  for (auto [present, field] : {std::pair{f.title.has_value(), "title"},
                                {f.category.has_value(), "category"},
                                {f.unit.has_value(), "unit"},
                                {f.price.has_value(), "price_fen"},
                                {f.stock.has_value(), "stock"},
                                {f.temperature.has_value(), "temperature_class"},
                                {f.shelf_life_days.has_value(), "shelf_life_days"},
                                {f.origin_code.has_value(), "origin_code"},
                                {f.producers.has_value(), "producers"}})
    if (!present) return invalid("missing_field", "field is required", field);
  CUNHUO_CHECK(check_fields(f));
  auto found = CUNHUO_TRY(find_shop(tx, shop));
  if (!found) return make_error(ErrorKind::not_found, "unknown_shop", "no such shop", "shop_id");
  if (found->status != ShopStatus::active)
    return make_error(ErrorKind::conflict, "shop_not_approved",
                      "a cooperative lists products once its county approves it", "shop_id");
  CUNHUO_CHECK(check_origin(*found, *f.origin_code));
  CUNHUO_CHECK(check_producers(tx, shop, *f.producers));
  Product p;
  p.shop = shop;
  apply(p, f);
  const auto now = clock.now_ms();
  CUNHUO_TRY(
      tx.exec("INSERT INTO products (shop_id, title, category, unit, price_fen, stock, "
              "temperature_class, shelf_life_days, "
              "harvest_date, lot, origin_code, origin_name, description, active, version, "
              "created_at, updated_at) "
              "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1, 1, ?, ?)",
              {shop.value, p.title, p.category, p.unit, p.price.fen(), p.stock,
               to_string(p.temperature), p.shelf_life_days, p.harvest_date, p.lot, p.origin_code,
               p.origin_name, p.description, now, now}));
  const ProductId id{CUNHUO_TRY(tx.last_insert_id())};
  CUNHUO_CHECK(write_producers(tx, id, p.producers));
  CUNHUO_CHECK(index_terms(tx, id, p));
  if (!p.lot.empty()) CUNHUO_TRY(record_lot(tx, id, p.lot, p.harvest_date, clock));
  return id;
}

Result<Product> update_product(db::Session& tx, ProductId id, const ListingFields& changes,
                               const Clock& clock) {
  CUNHUO_CHECK(check_fields(changes));
  auto current = CUNHUO_TRY(find_product(tx, id));
  if (!current) return make_error(ErrorKind::not_found, "unknown_product", "no such product", "id");
  Product p = std::move(*current);
  if (changes.producers) CUNHUO_CHECK(check_producers(tx, p.shop, *changes.producers));
  if (changes.origin_code) {
    auto shop = CUNHUO_TRY(find_shop(tx, p.shop));
    CUNHUO_ASSERT(shop.has_value());  // a listing's shop is never deleted
    CUNHUO_CHECK(check_origin(*shop, *changes.origin_code));
  }
  const bool described_anew = (changes.title && *changes.title != p.title) ||
                              (changes.category && *changes.category != p.category) ||
                              (changes.origin_code && *changes.origin_code != p.origin_code);
  apply(p, changes);
  p.version += 1;
  auto updated = CUNHUO_TRY(tx.exec(
      "UPDATE products SET title = ?, category = ?, unit = ?, price_fen = ?, stock = ?, "
      "temperature_class = ?, "
      "shelf_life_days = ?, harvest_date = ?, lot = ?, origin_code = ?, origin_name = ?, "
      "description = ?, active = ?, "
      "version = ?, updated_at = ? WHERE id = ? AND version = ?",
      {p.title, p.category, p.unit, p.price.fen(), p.stock, to_string(p.temperature),
       p.shelf_life_days, p.harvest_date, p.lot, p.origin_code, p.origin_name, p.description,
       p.active ? 1 : 0, p.version, clock.now_ms(), id.value, p.version - 1}));
  if (updated.affected_rows != 1)
    return make_error(ErrorKind::conflict, "concurrent_update",
                      "the listing changed meanwhile; read it again");
  if (changes.producers) CUNHUO_CHECK(write_producers(tx, id, p.producers));
  if (changes.title || changes.category || changes.origin_name)
    CUNHUO_CHECK(index_terms(tx, id, p));
  if (described_anew)
    CUNHUO_CHECK(review_again(tx, id, "listing:" + std::to_string(id.value), clock));
  if (!p.lot.empty()) CUNHUO_TRY(record_lot(tx, id, p.lot, p.harvest_date, clock));
  return p;
}

Result<std::optional<Product>> find_product(db::Session& s, ProductId id) {
  auto found = CUNHUO_TRY(find_products(s, std::vector<ProductId>{id}));
  if (found.empty()) return std::optional<Product>();
  return std::optional<Product>(std::move(found.front()));
}

Result<std::vector<Product>> find_products(db::Session& s, const std::vector<ProductId>& ids) {
  std::vector<Product> out;
  if (ids.empty()) return out;
  assert(ids.size() <= 1000);
  const auto params = db::id_values(ids);
  const std::string in = db::placeholders(ids.size());
  std::map<std::int64_t, Product> by_id;
  for (const auto& r : CUNHUO_TRY(s.query_with(
           std::string("SELECT ") + kProductColumns + " FROM products WHERE id IN (" + in + ")",
           params))) {
    auto p = CUNHUO_TRY(product_row(r));
    by_id.emplace(p.id.value, std::move(p));
  }
  for (const auto& r : CUNHUO_TRY(s.query_with("SELECT product_id, household_id, share_bps FROM "
                                               "product_producers WHERE product_id IN (" +
                                                   in + ") ORDER BY product_id, household_id",
                                               params)))
    by_id[r.i64(0)].producers.push_back(
        ProducerShare{HouseholdId{r.i64(1)}, static_cast<int>(r.i64(2))});
  for (auto id : ids)  // in the order asked for
    if (auto it = by_id.find(id.value); it != by_id.end() && it->second.id.valid())
      out.push_back(std::move(it->second));
  return out;
}

Result<std::vector<Product>> products_of_shop(db::Session& s, ShopId shop) {
  std::vector<ProductId> ids;
  for (const auto& r :
       CUNHUO_TRY(s.query("SELECT id FROM products WHERE shop_id = ? ORDER BY id DESC LIMIT ?",
                          {shop.value, static_cast<std::int64_t>(kMaxShopListings)})))
    ids.push_back(ProductId{r.i64(0)});
  return find_products(s, ids);
}

Result<std::vector<CategoryCount>> categories_on_sale(db::Session& s, int limit) {
  CUNHUO_ASSERT(limit > 0 && limit <= kMaxCategoriesListed);
  std::vector<CategoryCount> out;
  for (const auto& r : CUNHUO_TRY(s.query("SELECT category, COUNT(*) AS n FROM products "
                                          "WHERE active = 1 GROUP BY category "
                                          "ORDER BY n DESC, category LIMIT ?",
                                          {static_cast<std::int64_t>(limit)})))
    out.push_back(CategoryCount{.category = r.str(0), .listings = r.i64(1)});
  return out;
}

Result<ProductPage> search_products(db::Session& s, const ProductQuery& q) {
  if (q.limit < 1 || q.limit > 100)
    return invalid("out_of_range", "limit must be 1 to 100", "limit");
  if (q.region) CUNHUO_TRY(region_level(*q.region, "region"));
  auto cursor = CUNHUO_TRY(parse_cursor(q.cursor));
  if (q.text.size() > 200) return invalid("too_long", "search text is at most 200 bytes", "q");

  // Terms: pairs of characters for words, single characters for one-character words.
  auto terms = search_terms(q.text, false);
  if (terms.size() > 64) terms.resize(64);
  const bool by_text = !terms.empty();
  const std::int64_t need =
      by_text ? (terms.size() <= 2 ? static_cast<std::int64_t>(terms.size())
                                   : (static_cast<std::int64_t>(terms.size()) * 6 + 9) / 10)
              : 0;
  std::string sql;
  std::vector<db::Value> params;
  std::string filters = " AND p.active = 1";
  if (q.region) {
    filters += " AND p.origin_code LIKE ?";
    params.emplace_back(*q.region + "%");
  }
  if (q.category) {
    filters += " AND p.category = ?";
    params.emplace_back(*q.category);
  }
  if (q.temperature) {
    filters += " AND p.temperature_class = ?";
    params.emplace_back(to_string(*q.temperature));
  }
  if (q.certified_only)
    filters += " AND p.id IN (SELECT product_id FROM certifications WHERE status = 'approved')";
  if (q.campaign_id) {
    filters +=
        " AND (p.id IN (SELECT product_id FROM campaign_products WHERE campaign_id = ?)"
        " OR p.origin_code IN (SELECT village_code FROM campaign_villages WHERE campaign_id = ?))";
    params.emplace_back(*q.campaign_id);
    params.emplace_back(*q.campaign_id);
  }
  if (by_text) {
    // Score = how many of the query's terms a product has; rank by score, then id.
    std::string in;
    std::vector<db::Value> term_params;
    for (const auto& t : terms) {
      in += in.empty() ? "?" : ", ?";
      term_params.emplace_back(t);
    }
    sql =
        "SELECT t.product_id, COUNT(*) AS score FROM product_terms t JOIN products p ON p.id = "
        "t.product_id "
        "WHERE t.term IN (" +
        in + ")" + filters + " GROUP BY t.product_id HAVING COUNT(*) >= ?";
    term_params.insert(term_params.end(), params.begin(), params.end());
    params = std::move(term_params);
    params.emplace_back(need);
    if (cursor) {
      sql += " AND (COUNT(*) < ? OR (COUNT(*) = ? AND t.product_id > ?))";
      params.insert(params.end(), {cursor->score, cursor->score, cursor->id});
    }
    sql += " ORDER BY score DESC, t.product_id ASC LIMIT ?";
  } else {
    sql = "SELECT p.id, 0 AS score FROM products p WHERE 1 = 1" + filters;
    if (cursor) {
      sql += " AND p.id > ?";
      params.emplace_back(cursor->id);
    }
    sql += " ORDER BY p.id ASC LIMIT ?";
  }
  params.emplace_back(static_cast<std::int64_t>(q.limit + 1));
  auto hits = CUNHUO_TRY(s.query_with(sql, params));
  ProductPage page;
  std::vector<ProductId> ids;
  for (std::size_t i = 0; i < hits.size() && i < static_cast<std::size_t>(q.limit); ++i)
    ids.push_back(ProductId{hits[i].i64(0)});
  page.items = CUNHUO_TRY(find_products(s, ids));
  if (hits.size() > static_cast<std::size_t>(q.limit)) {
    const auto& last = hits[static_cast<std::size_t>(q.limit) - 1];
    page.next_cursor = std::to_string(last.i64(1)) + "-" + std::to_string(last.i64(0));
  }
  return page;
}

}  // namespace cunhuo::marketplace
