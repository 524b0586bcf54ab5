#include "storefront/listing_form.hpp"

#include <sodium.h>

#include <algorithm>
#include <charconv>

#include "storefront/farm_pages.hpp"

namespace cunhuo::storefront {
namespace {

namespace mk = cunhuo::marketplace;

Error wrong(const char* field, std::string message) {
  return make_error(ErrorKind::invalid, std::string("invalid_") + field, std::move(message), field);
}

template <std::size_t N>
bool among(const std::string_view (&choices)[N], const std::string& value) {
  return std::find(std::begin(choices), std::end(choices), value) != std::end(choices);
}

Result<TemperatureClass> temperature_of(const std::string& text) {
  if (text.empty()) return TemperatureClass::ambient;
  auto t = parse_temperature_class(text);
  if (!t.ok()) return wrong("temperature", "ambient, chilled or frozen");
  return *t;
}

int shelf_life_of(TemperatureClass t) {
  switch (t) {
    case TemperatureClass::ambient: return kAmbientShelfLifeDays;
    case TemperatureClass::chilled: return kChilledShelfLifeDays;
    case TemperatureClass::frozen: return kFrozenShelfLifeDays;
  }
  return kAmbientShelfLifeDays;
}

Result<std::int64_t> stock_of(const std::string& text) {
  std::int64_t n = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (ec != std::errc() || end != text.data() + text.size() || n < 1 || n > mk::kMaxStock)
    return wrong("stock", "a whole number of at least 1");
  return n;
}

Result<Money> price_of(const std::string& text) {
  auto price = Money::parse_yuan(text);
  if (!price.ok() || price->fen() <= 0 || price->fen() > mk::kMaxPriceFen)
    return wrong("price", "a price in yuan, such as 12.50");
  return *price;
}

// A percent with at most two decimals, in basis points; nullopt when it is not one.
std::optional<int> basis_points_of(const std::string& text) {
  const auto dot = text.find('.');
  const std::string whole = text.substr(0, dot);
  std::string cents = dot == std::string::npos ? "" : text.substr(dot + 1);
  if (whole.empty() || whole.size() > 3 || cents.size() > 2) return std::nullopt;
  cents.resize(2, '0');
  int w = 0, c = 0;
  for (auto [part, out] : {std::pair<const std::string*, int*>{&whole, &w}, {&cents, &c}}) {
    auto [end, ec] = std::from_chars(part->data(), part->data() + part->size(), *out);
    if (ec != std::errc() || end != part->data() + part->size()) return std::nullopt;
  }
  const int bps = w * 100 + c;
  if (bps > mk::kFullShare) return std::nullopt;
  return bps;
}

std::vector<std::pair<std::string, std::string>> shares_typed(const web::FormFields& f) {
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& [name, value] : f)
    if (name.starts_with(kShareFieldPrefix))
      out.emplace_back(name.substr(kShareFieldPrefix.size()), value);
  return out;
}

}  // namespace

ListingForm read_listing_form(const web::FormFields& f) {
  const auto get = [&](const char* name) { return web::form_field(f, name).value_or(""); };
  return ListingForm{.title = get("title"),
                     .price = get("price"),
                     .unit = get("unit"),
                     .stock = get("stock"),
                     .category = get("category"),
                     .temperature = get("temperature"),
                     .harvest_date = get("harvest_date"),
                     .shares = shares_typed(f)};
}

Result<std::vector<mk::ProducerShare>> shares_of(const ListingForm& form,
                                                 const std::vector<mk::HouseholdId>& members) {
  std::vector<mk::ProducerShare> out;
  int total = 0;
  for (const auto& [household, percent] : form.shares) {
    if (percent.empty()) continue;
    std::int64_t id = 0;
    auto [end, ec] = std::from_chars(household.data(), household.data() + household.size(), id);
    const auto bps = basis_points_of(percent);
    if (ec != std::errc() || end != household.data() + household.size() || id < 1 || !bps)
      return wrong("share", "a percent such as 25 or 33.33");
    if (*bps == 0) continue;
    if (std::find(members.begin(), members.end(), mk::HouseholdId{id}) == members.end())
      return make_error(ErrorKind::invalid, "not_a_member", "a household not of the cooperative",
                        "shares");
    out.push_back(mk::ProducerShare{.household = mk::HouseholdId{id}, .share_bps = *bps});
    total += *bps;
  }
  if (total != mk::kFullShare)
    return make_error(ErrorKind::invalid, "shares_not_whole", "the shares must sum to 100 %",
                      "shares");
  return out;
}

Result<mk::ListingFields> listing_fields_of(const ListingForm& form,
                                            std::vector<mk::ProducerShare> producers,
                                            const std::string& village_code) {
  if (form.title.empty() || form.title.size() > mk::kMaxTitleBytes)
    return wrong("title", "a name of 1 to 200 bytes");
  const Money price = CUNHUO_TRY(price_of(form.price));
  const std::int64_t stock = CUNHUO_TRY(stock_of(form.stock));
  if (!among(kListingUnits, form.unit)) return wrong("unit", "one of the units offered");
  if (!among(kListingCategories, form.category))
    return wrong("category", "one of the categories offered");
  const TemperatureClass temperature = CUNHUO_TRY(temperature_of(form.temperature));
  mk::ListingFields f;
  f.title = form.title;
  f.price = price;
  f.stock = stock;
  f.unit = form.unit;
  f.category = form.category;
  f.temperature = temperature;
  f.shelf_life_days = shelf_life_of(temperature);
  if (!form.harvest_date.empty()) f.harvest_date = form.harvest_date;
  f.origin_code = village_code;
  f.origin_name = "";
  f.producers = std::move(producers);
  return f;
}

std::string listing_request_digest(const ListingForm& form, std::string_view photo) {
  crypto_generichash_state state;
  unsigned char digest[32];
  crypto_generichash_init(&state, nullptr, 0, sizeof digest);
  for (const std::string* part : {&form.title, &form.price, &form.unit, &form.stock, &form.category,
                                  &form.temperature, &form.harvest_date}) {
    crypto_generichash_update(&state, reinterpret_cast<const unsigned char*>(part->data()),
                              part->size());
    crypto_generichash_update(&state, reinterpret_cast<const unsigned char*>("\0"), 1);
  }
  for (const auto& [household, percent] : form.shares)
    for (const std::string* part : {&household, &percent}) {
      crypto_generichash_update(&state, reinterpret_cast<const unsigned char*>(part->data()),
                                part->size());
      crypto_generichash_update(&state, reinterpret_cast<const unsigned char*>("\0"), 1);
    }
  crypto_generichash_update(&state, reinterpret_cast<const unsigned char*>(photo.data()),
                            photo.size());
  crypto_generichash_final(&state, digest, sizeof digest);
  char hex[65];
  sodium_bin2hex(hex, sizeof hex, digest, sizeof digest);
  return hex;
}

}  // namespace cunhuo::storefront
