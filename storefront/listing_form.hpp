// A new listing as the farmer's page form states it: a few fields in yuan and plain words,
// read into the catalog's ListingFields with the household as the only producer, or
// refused naming the field, in words the page shows.
#pragma once

#include <optional>
#include <string>

#include "core/result.hpp"
#include "marketplace/catalog.hpp"
#include "marketplace/registry.hpp"
#include "storefront/web/page_session.hpp"

namespace cunhuo::storefront {

// What the farmer typed, as the form names it.
struct ListingForm {
  std::string title, price, unit, stock, category, temperature, harvest_date;
};
ListingForm read_listing_form(const web::FormFields& fields);

// The listing the form states, for `household` in `village_code`; invalid_<field> when a
// field is wrong.
Result<marketplace::ListingFields> listing_fields_of(const ListingForm& form,
                                                     marketplace::HouseholdId household,
                                                     const std::string& village_code);

// What identifies "the same listing sent again": its fields and its photo's bytes.
std::string listing_request_digest(const ListingForm& form, std::string_view photo);

}  // namespace cunhuo::storefront
