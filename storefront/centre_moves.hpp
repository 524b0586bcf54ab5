// What the county centre does and sees, as the API and the pages both do it: its verdict
// on a cold-chain excursion in its county, and what the access policy lets an account see
// of a household's card.
#pragma once

#include <cstdint>

#include "core/clock.hpp"
#include "core/db/database.hpp"
#include "logistics/telemetry.hpp"
#include "marketplace/archive.hpp"
#include "storefront/auth.hpp"
#include "storefront/policy.hpp"

namespace cunhuo::storefront {

// Whether a node's region lies in the account's county (admin: everywhere).
bool in_centre_county(const Account& a, std::string_view region_code);

// The centre's verdict on excursion `id`: spoiled (the held parcels are refunded) or
// released. 404 not_found outside the caller's county; 409 already_decided when it was.
Result<logistics::Excursion> decide_excursion_as(db::Session& tx, const Account& account,
                                                 std::int64_t id, bool spoiled, const Clock& clock);

// What `a` sees of a household's card (policy.hpp): none, masked or full.
View household_view(const Account& a, const marketplace::HouseholdRecord& r);

}  // namespace cunhuo::storefront
