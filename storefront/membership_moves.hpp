// Joining a cooperative, as the API and the cooperative's pages both do it: the shop's
// manager invites a household of its county or answers a household's request; a farmer
// asks for their own household or answers an invitation. Either way the household has
// said yes before it joins.
#pragma once

#include <optional>

#include "core/clock.hpp"
#include "core/db/database.hpp"
#include "marketplace/shops.hpp"
#include "storefront/auth.hpp"

namespace cunhuo::storefront {

// Whether the account manages `shop`: its manager once approved (the account's shop), or
// the account that proposed it.
bool manages(const Account& a, const marketplace::Shop& shop);

// The farmer's household as the registry has it now (not merged into another); 403
// household_not_confirmed otherwise.
Result<marketplace::HouseholdId> own_household(db::Session& s, const Account& a);

// A farmer asks for their own household (`named` may only repeat it); a manager invites
// the household `named`. 404 when the account does not manage the shop or the household is
// not of the shop's county.
Result<marketplace::MembershipRequest> ask_or_invite_as(db::Session& tx, const Account& a,
                                                        marketplace::ShopId shop,
                                                        std::optional<std::int64_t> named,
                                                        const Clock& clock);

// The side that did not ask answers; 404 when the account is on neither side.
Result<marketplace::MembershipRequest> answer_request_as(db::Session& tx, const Account& a,
                                                         marketplace::MembershipRequestId id,
                                                         bool accept, const Clock& clock);

}  // namespace cunhuo::storefront
