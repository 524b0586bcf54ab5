// A new listing as the farmer's or the cooperative's page form states it: a few fields in
// yuan and plain words, read into the catalog's ListingFields with its producers (the
// household alone, or the cooperative's members by the percent each is given), or refused
// naming the field, in words the page shows.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/result.hpp"
#include "marketplace/catalog.hpp"
#include "marketplace/registry.hpp"
#include "storefront/web/page_session.hpp"

namespace cunhuo::storefront {

// A member's share field is named share_<household id>; its value is a percent.
inline constexpr std::string_view kShareFieldPrefix = "share_";

// What the farmer typed, as the form names it.
struct ListingForm {
  std::string title, price, unit, stock, category, temperature, harvest_date;
  // A cooperative's: each share field's household id and percent, as typed.
  std::vector<std::pair<std::string, std::string>> shares;
};
ListingForm read_listing_form(const web::FormFields& fields);

// The listing the form states, made by `producers` in `village_code`; invalid_<field> when
// a field is wrong.
Result<marketplace::ListingFields> listing_fields_of(
    const ListingForm& form, std::vector<marketplace::ProducerShare> producers,
    const std::string& village_code);

// The producers of a cooperative's listing: the percents typed (at most two decimals) in
// basis points, members left at 0 or blank left out. Refused: invalid_share, not_a_member
// (a household not in `members`), shares_not_whole (not summing to 100 %).
Result<std::vector<marketplace::ProducerShare>> shares_of(
    const ListingForm& form, const std::vector<marketplace::HouseholdId>& members);

// What identifies "the same listing sent again": its fields and its photo's bytes.
std::string listing_request_digest(const ListingForm& form, std::string_view photo);

}  // namespace cunhuo::storefront
