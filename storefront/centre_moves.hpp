// What the county centre does and sees, as the API and the pages both do it: its verdict
// on a cold-chain excursion in its county, and what the access policy lets an account see
// of a household's card.
#pragma once

#include <cstdint>

#include "core/clock.hpp"
#include "core/db/database.hpp"
#include "logistics/telemetry.hpp"
#include "marketplace/archive.hpp"
#include "payments/refunds.hpp"
#include "payments/settlement.hpp"
#include "storefront/auth.hpp"
#include "storefront/policy.hpp"

namespace cunhuo::storefront {

// Whether a node's region lies in the account's county (admin: everywhere).
bool in_centre_county(const Account& a, std::string_view region_code);

// The centre's verdict on excursion `id`: spoiled (the held parcels are refunded) or
// released. 404 not_found outside the caller's county; 409 already_decided when it was.
Result<logistics::Excursion> decide_excursion_as(db::Session& tx, const Account& account,
                                                 std::int64_t id, bool spoiled, const Clock& clock);

// Whether the account decides refund claims on the order: the centre of the county its
// shop stands in, or admin.
Result<bool> centre_covers_order(db::Session& s, const Account& a, std::int64_t order_id);

// The centre's decision on refund claim `id`: approved (`bearer` bears the loss) or
// rejected. 404 not_found when the caller does not cover its order; 409 already_decided.
Result<payments::RefundClaim> decide_claim_as(db::Session& tx, const Account& account,
                                              std::int64_t id, bool approve,
                                              payments::LossBearer bearer,
                                              const payments::FeeRules& fees, const Clock& clock);

// What `a` sees of a household's card (policy.hpp): none, masked or full.
View household_view(const Account& a, const marketplace::HouseholdRecord& r);

}  // namespace cunhuo::storefront
