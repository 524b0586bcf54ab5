// Shops as their owners run them: a household opens its own shop; a cooperative is proposed
// by its manager and opens when its county approves; households join a cooperative only
// with their own consent (the shop invites and the household accepts, or the household
// asks and the shop accepts) and may leave. A shop's public page, the shops of a village,
// and Taobao villages: villages where online shops are many.
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
#include "marketplace/registry.hpp"

namespace cunhuo::marketplace {

// Alibaba Research calls a village a Taobao village when at least 10% of its households run
// online shops or it has at least 100 active online shops, with e-commerce turnover of at
// least 10 million yuan a year. This platform sees only its own shops and a county's worth
// of villages, so it counts the shops with a listing on sale (active shops) and names a
// village a Taobao village from this many: ten is reachable by a demo village of a few
// dozen households, and a tenth of a typical 100-household village matches the 10% rule.
inline constexpr std::int64_t kTaobaoVillageShops = 10;

inline constexpr std::size_t kMaxShopNameBytes = 200;
inline constexpr std::size_t kMaxShopStoryBytes = 2000;
inline constexpr std::size_t kMaxDecisionReasonBytes = 500;

std::span<const db::Migration> shop_migrations();
std::string_view to_string(ShopKind kind);
std::string_view to_string(ShopStatus status);
// Reads a row of: id, name, kind, village_code, status, story, photo_id, manager_account_id.
Shop shop_from(const db::Row& row);
// Records `shop` as `household`'s one household shop (409 household_shop_exists).
Status claim_household_shop(db::Session& tx, HouseholdId household, ShopId shop);

// The household's own shop, active at once, in its village, with it as the only member.
Result<ShopId> open_household_shop(db::Session& tx, HouseholdId household, std::string_view name,
                                   std::string_view story, const Clock& clock);

struct NewCooperative {
  std::string name, village_code, story;
  std::int64_t manager_account = 0;
};
// A cooperative pending its county's approval, with no members yet (they join by consent).
Result<ShopId> propose_cooperative(db::Session& tx, const NewCooperative& cooperative,
                                   const Clock& clock);
// The cooperative this account proposed that still waits, if any.
Result<std::optional<ShopId>> pending_cooperative_of(db::Session& s, std::int64_t manager_account);
// The county's decision on a pending cooperative (409 already_decided otherwise).
Result<Shop> decide_cooperative(db::Session& tx, ShopId shop, bool approve,
                                std::string_view reason);

using MembershipRequestId = Id<struct MembershipRequestTag>;
// invite: the shop asks the household, whose farmer answers; ask: the household asks the
// shop, whose manager answers. Either way the household has said yes before it joins.
enum class RequestDirection { invite, ask };
enum class RequestStatus { pending, accepted, declined };
std::string_view to_string(RequestDirection direction);
std::string_view to_string(RequestStatus status);

struct MembershipRequest {
  MembershipRequestId id;
  ShopId shop;
  HouseholdId household;
  RequestDirection direction = RequestDirection::invite;
  RequestStatus status = RequestStatus::pending;
};
Result<MembershipRequestId> request_membership(db::Session& tx, ShopId shop, HouseholdId household,
                                               RequestDirection direction, const Clock& clock);
Result<std::optional<MembershipRequest>> find_membership_request(db::Session& s,
                                                                 MembershipRequestId id);
// The shop's requests and invitations still waiting for an answer, oldest first, at most
// kMaxPendingRequests.
inline constexpr int kMaxPendingRequests = 200;
Result<std::vector<MembershipRequest>> pending_requests_of(db::Session& s, ShopId shop);
// Accepting adds the household to the shop; declining leaves it out. Once only.
Result<MembershipRequest> answer_membership(db::Session& tx, MembershipRequestId id, bool accept,
                                            const Clock& clock);
Result<bool> is_member(db::Session& s, ShopId shop, HouseholdId household);
// The household leaves a cooperative. Orders already placed keep the shares they
// snapshotted; a listing still naming it cannot be bought until its shares are set anew.
Status leave_shop(db::Session& tx, ShopId shop, HouseholdId household);

// A listing on sale: active with stock. What makes a shop active.
struct ShopListing {
  std::int64_t product_id = 0;
  std::string title, unit;
  Money price;
};
Result<std::vector<ShopListing>> listings_on_sale(db::Session& s, ShopId shop);

struct ShopQuery {
  std::string region_code;       // a village, township or county; "" for all
  bool taobao_villages = false;  // only shops in Taobao villages
  std::int64_t after_id = 0;
  std::int64_t limit = 20;
};
// Active shops (approved), in id order.
Result<std::vector<Shop>> list_shops(db::Session& s, const ShopQuery& query);

struct VillageShops {
  std::string village_code;
  std::int64_t shops = 0;         // approved shops
  std::int64_t active_shops = 0;  // of them, with a listing on sale
  bool taobao_village = false;    // active_shops >= kTaobaoVillageShops
};
Result<VillageShops> village_shops(db::Session& s, std::string_view village_code);

}  // namespace cunhuo::marketplace
