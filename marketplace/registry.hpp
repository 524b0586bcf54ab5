// The household registry and shops: who produces, and through which village online
// store they sell. Identity numbers and phones are stored whole and only ever shown
// masked to roles that do not need them.
#pragma once

#include <map>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "core/clock.hpp"
#include "core/db/database.hpp"
#include "core/db/migrations.hpp"
#include "core/id.hpp"

namespace cunhuo::marketplace {

using HouseholdId = Id<struct HouseholdTag>;
using ShopId = Id<struct ShopTag>;

enum class PovertyStatus { registered_poor, at_risk, exited, returned_to_poverty, not_registered };
std::string_view to_string(PovertyStatus status);
Result<PovertyStatus> parse_poverty_status(std::string_view text);

struct NewHousehold {
  std::string village_code;  // 12 digits
  std::string head_name;
  std::string head_id_number;  // 18-character resident ID
  std::string phone;
  int member_count = 1;
  PovertyStatus status = PovertyStatus::registered_poor;
};

struct Household {
  HouseholdId id;
  std::string village_code, head_name, head_id_number, phone;
  int member_count = 0;
  PovertyStatus status = PovertyStatus::not_registered;
  std::optional<HouseholdId> merged_into;  // a duplicate merged into this household
};

enum class ShopKind { household, cooperative };
// A household's shop is active when opened; a cooperative waits for its county's approval.
enum class ShopStatus { active, pending, declined };

struct NewShop {
  std::string name;
  ShopKind kind = ShopKind::household;
  std::string village_code;
  std::vector<HouseholdId> members;
};

struct Shop {
  ShopId id;
  std::string name;
  ShopKind kind = ShopKind::household;
  std::string village_code;
  std::vector<HouseholdId> members;
  ShopStatus status = ShopStatus::active;
  std::string story;
  std::optional<std::int64_t> photo_id;
  std::optional<std::int64_t> manager_account;  // who proposed a cooperative
};

// Every marketplace migration, in order (registry, catalog, campaigns, orders).
std::vector<db::Migration> migrations();

Result<HouseholdId> create_household(db::Session& tx, const NewHousehold& household,
                                     const Clock& clock);
Result<std::optional<Household>> find_household(db::Session& s, HouseholdId id);
Result<std::vector<Household>> households_in(db::Session& s, std::string_view region_code);

// Households of each status by area, for open statistics: areas are the first `digits`
// digits of the village code (6 county, 9 township, 12 village), among village codes
// starting with `prefix`. A household merged into another is counted once, as that one.
struct StatusCount {
  std::string area;
  PovertyStatus status = PovertyStatus::not_registered;
  std::int64_t households = 0;
};
Result<std::vector<StatusCount>> status_counts(db::Session& s, std::string_view prefix,
                                               std::size_t digits);

// One page of an area's households by id, optionally in one village and of one status.
struct HouseholdPageQuery {
  std::string area;  // a county, township or village code
  std::optional<std::string> village;
  std::optional<PovertyStatus> status;
  std::int64_t after_id = 0;
  std::int64_t limit = 20;
};
Result<std::vector<Household>> households_page(db::Session& s, const HouseholdPageQuery& q);

// Where households live and their status now; at most kMaxPlacesPerCall ids a call.
inline constexpr std::size_t kMaxPlacesPerCall = 1000;
struct HouseholdPlace {
  std::string village_code;
  PovertyStatus status = PovertyStatus::not_registered;
};
Result<std::map<std::int64_t, HouseholdPlace>> household_places(
    db::Session& s, const std::vector<std::int64_t>& ids);

// An active shop with these members (the seed's, a test's); shops.hpp opens and proposes shops
// as users do. A household has at most one household shop (409 household_shop_exists).
Result<ShopId> create_shop(db::Session& tx, const NewShop& shop, const Clock& clock);
Result<std::optional<Shop>> find_shop(db::Session& s, ShopId id);
// The shops whose village lies in `region_code` (a county's, for its part of the bill).
Result<std::vector<ShopId>> shops_in(db::Session& s, std::string_view region_code);

}  // namespace cunhuo::marketplace
