// The pages the storefront renders from what the domain modules return, outside the page
// table (they answer API routes, whose refusals stay JSON): a household's printable income
// statement and an area's open statistics. Rendered from templates (statement.mustache,
// statistics.mustache) in the layout, Chinese first, readable at 360 px: their tables
// scroll inside their own box. No inline script (the Content-Security-Policy forbids it).
#pragma once

#include <map>
#include <string>

#include "alleviation/statistics.hpp"
#include "marketplace/places.hpp"
#include "payments/statements.hpp"
#include "storefront/web/templates.hpp"

namespace cunhuo::storefront {

// The names the store has for region codes (a code absent has none): shown beside them.
using PlaceNames = marketplace::PlaceNames;

// `chrome` is the layout's (web::PageTable::frame_for: account bar and language switch);
// the title is set here.
std::string statement_html(const payments::StatementView& statement, const PlaceNames& names,
                           web::Chrome chrome);
std::string statistics_html(const alleviation::AreaStatistics& stats, const PlaceNames& names,
                            web::Chrome chrome);

}  // namespace cunhuo::storefront
