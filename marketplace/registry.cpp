#include "marketplace/registry.hpp"

#include <array>
#include <cassert>

#include "core/enum_names.hpp"

#include "core/privacy.hpp"
#include "marketplace/archive.hpp"
#include "marketplace/certification.hpp"
#include "marketplace/id_numbers.hpp"
#include "marketplace/integrity.hpp"
#include "marketplace/lots.hpp"
#include "marketplace/orders.hpp"
#include "marketplace/organisations.hpp"
#include "marketplace/photos.hpp"
#include "marketplace/places.hpp"
#include "marketplace/shops.hpp"
#include "marketplace/village_profiles.hpp"
#include "marketplace/work_queue.hpp"
#include "core/region.hpp"

namespace cunhuo::marketplace {
namespace {

constexpr db::Migration kMigrations[] = {
    {"marketplace", 1, "households and shops",
     "CREATE TABLE IF NOT EXISTS households (\n"
     "  id {{ID}},\n"
     "  village_code VARCHAR(12) NOT NULL,\n"
     "  head_name VARCHAR(100) NOT NULL,\n"
     "  head_id_number VARCHAR(18) NOT NULL,\n"
     "  phone VARCHAR(20) NOT NULL,\n"
     "  member_count INTEGER NOT NULL,\n"
     "  poverty_status VARCHAR(24) NOT NULL,\n"
     "  created_at BIGINT NOT NULL,\n"
     "  updated_at BIGINT NOT NULL\n"
     ");\n"
     "CREATE INDEX IF NOT EXISTS households_village ON households (village_code);\n"
     "CREATE TABLE IF NOT EXISTS shops (\n"
     "  id {{ID}},\n"
     "  name VARCHAR(200) NOT NULL,\n"
     "  kind VARCHAR(16) NOT NULL,\n"
     "  village_code VARCHAR(12) NOT NULL,\n"
     "  created_at BIGINT NOT NULL\n"
     ");\n"
     "CREATE TABLE IF NOT EXISTS shop_members (\n"
     "  shop_id BIGINT NOT NULL,\n"
     "  household_id BIGINT NOT NULL,\n"
     "  PRIMARY KEY (shop_id, household_id)\n"
     ");\n"},
};

constexpr std::array<std::pair<PovertyStatus, std::string_view>, 5> kStatusNames = {{
    {PovertyStatus::registered_poor, "registered_poor"},
    {PovertyStatus::at_risk, "at_risk"},
    {PovertyStatus::exited, "exited"},
    {PovertyStatus::returned_to_poverty, "returned_to_poverty"},
    {PovertyStatus::not_registered, "not_registered"},
}};

Status check_phone(std::string_view phone) {
  if (!is_mobile_number(phone))
    return make_error(ErrorKind::invalid, "invalid_phone",
                      "phone must be an 11-digit mobile number", "phone");
  return {};
}

Household household_from(const db::Row& r) {
  auto status = parse_poverty_status(r.str(6));
  assert(status.ok() && "the store holds only known statuses");
  return Household{HouseholdId{r.i64(0)},
                   r.str(1),
                   r.str(2),
                   r.str(3),
                   r.str(4),
                   static_cast<int>(r.i64(5)),
                   status.ok() ? *status : PovertyStatus::not_registered,
                   r.opt_i64(7) ? std::optional(HouseholdId{*r.opt_i64(7)}) : std::nullopt};
}

}  // namespace

std::vector<db::Migration> migrations() {
  std::vector<db::Migration> out(std::begin(kMigrations), std::end(kMigrations));
  for (auto list : {catalog_migrations(), campaign_migrations(), order_migrations(),
                    archive_migrations(), certification_migrations(), photo_migrations(),
                    organisation_migrations(), integrity_migrations(), shop_migrations(),
                    lot_migrations(), village_profile_migrations(), place_migrations()})
    out.insert(out.end(), list.begin(), list.end());
  const auto queue = work_queue_migrations();  // indexes for the "what needs me now" reads
  out.insert(out.end(), queue.begin(), queue.end());
  return out;
}

std::string_view to_string(PovertyStatus status) { return name_of(kStatusNames, status); }

Result<PovertyStatus> parse_poverty_status(std::string_view text) {
  if (auto v = value_of(kStatusNames, text)) return *v;
  return make_error(ErrorKind::invalid, "invalid_status", "unknown registration status", "status");
}

Result<HouseholdId> create_household(db::Session& tx, const NewHousehold& h, const Clock& clock) {
  if (CUNHUO_TRY(region_level(h.village_code, "village_code")) != RegionLevel::village)
    return make_error(ErrorKind::invalid, "invalid_region_code",
                      "a household belongs to a 12-digit village code", "village_code");
  if (h.head_name.empty() || h.head_name.size() > 100)
    return make_error(ErrorKind::invalid, "invalid_name", "name must be 1 to 100 bytes",
                      "head_name");
  CUNHUO_CHECK(check_id_number(h.head_id_number, "head_id_number"));
  CUNHUO_CHECK(check_phone(h.phone));
  if (h.member_count < 1 || h.member_count > 30)
    return make_error(ErrorKind::invalid, "out_of_range", "a household has 1 to 30 members",
                      "member_count");
  const auto now = clock.now_ms();
  CUNHUO_TRY(
      tx.exec("INSERT INTO households (village_code, head_name, head_id_number, phone, "
              "member_count, poverty_status, "
              "created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
              {h.village_code, h.head_name, h.head_id_number, h.phone, h.member_count,
               to_string(h.status), now, now}));
  const HouseholdId id{CUNHUO_TRY(tx.last_insert_id())};
  CUNHUO_CHECK(claim_id_numbers(tx, id, {{h.head_id_number, "head_id_number"}}));
  CUNHUO_CHECK(flag_shared_phone(tx, id, h.village_code, h.phone, clock));
  return id;
}

Result<std::optional<Household>> find_household(db::Session& s, HouseholdId id) {
  auto row =
      CUNHUO_TRY(s.query_one("SELECT id, village_code, head_name, head_id_number, phone, "
                             "member_count, poverty_status, merged_into FROM households "
                             "WHERE id = ?",
                             {id.value}));
  if (!row) return std::optional<Household>();
  return std::optional<Household>(household_from(*row));
}

Result<std::vector<Household>> households_in(db::Session& s, std::string_view region_code) {
  CUNHUO_TRY(region_level(region_code));
  auto rows =
      CUNHUO_TRY(s.query("SELECT id, village_code, head_name, head_id_number, phone, member_count, "
                         "poverty_status, merged_into FROM households "
                         "WHERE village_code LIKE ? ORDER BY id",
                         {std::string(region_code) + "%"}));
  std::vector<Household> out;
  for (const auto& r : rows) out.push_back(household_from(r));
  return out;
}

Result<std::vector<Household>> households_page(db::Session& s, const HouseholdPageQuery& q) {
  std::string sql =
      "SELECT id, village_code, head_name, head_id_number, phone, member_count, poverty_status, "
      "merged_into FROM households WHERE village_code LIKE ? AND id > ? AND merged_into IS NULL";
  std::vector<db::Value> params = {std::string(region_prefix(q.area)) + "%", q.after_id};
  if (q.village) {
    sql += " AND village_code = ?";
    params.emplace_back(*q.village);
  }
  if (q.status) {
    sql += " AND poverty_status = ?";
    params.emplace_back(to_string(*q.status));
  }
  sql += " ORDER BY id LIMIT ?";
  params.emplace_back(q.limit);
  std::vector<Household> out;
  for (const auto& r : CUNHUO_TRY(s.query_with(sql, params))) out.push_back(household_from(r));
  return out;
}

Result<std::vector<StatusCount>> status_counts(db::Session& s, std::string_view prefix,
                                               std::size_t digits) {
  assert(digits == 6 || digits == 9 || digits == 12);
  const std::string area = "SUBSTR(village_code, 1, " + std::to_string(digits) + ")";
  std::vector<StatusCount> out;
  for (const auto& r : CUNHUO_TRY(
           s.query("SELECT " + area +
                       ", poverty_status, COUNT(*) FROM households WHERE village_code LIKE ? AND "
                       "merged_into IS NULL GROUP BY " +
                       area + ", poverty_status ORDER BY 1, 2",
                   {std::string(prefix) + "%"})))
    out.push_back(StatusCount{r.str(0), CUNHUO_TRY(parse_poverty_status(r.str(1))), r.i64(2)});
  return out;
}

Result<std::map<std::int64_t, HouseholdPlace>> household_places(
    db::Session& s, const std::vector<std::int64_t>& ids) {
  std::map<std::int64_t, HouseholdPlace> out;
  if (ids.empty()) return out;
  assert(ids.size() <= kMaxPlacesPerCall);
  const std::vector<db::Value> params(ids.begin(), ids.end());
  for (const auto& r : CUNHUO_TRY(
           s.query_with("SELECT id, village_code, poverty_status FROM households WHERE id IN (" +
                            db::placeholders(ids.size()) + ")",
                        params)))
    out.emplace(r.i64(0), HouseholdPlace{r.str(1), CUNHUO_TRY(parse_poverty_status(r.str(2)))});
  return out;
}

Result<ShopId> create_shop(db::Session& tx, const NewShop& shop, const Clock& clock) {
  if (shop.name.empty() || shop.name.size() > 200)
    return make_error(ErrorKind::invalid, "invalid_name", "shop name must be 1 to 200 bytes",
                      "name");
  CUNHUO_TRY(region_level(shop.village_code, "village_code"));
  if (shop.members.empty())
    return make_error(ErrorKind::invalid, "missing_field",
                      "a shop has at least one member household", "members");
  if (shop.kind == ShopKind::household && shop.members.size() != 1)
    return make_error(ErrorKind::invalid, "invalid_members",
                      "a household shop has exactly one household", "members");
  CUNHUO_TRY(tx.exec("INSERT INTO shops (name, kind, village_code, created_at) VALUES (?, ?, ?, ?)",
                     {shop.name, shop.kind == ShopKind::household ? "household" : "cooperative",
                      shop.village_code, clock.now_ms()}));
  const ShopId id{CUNHUO_TRY(tx.last_insert_id())};
  for (auto member : shop.members) {
    if (!CUNHUO_TRY(find_household(tx, member)))
      return make_error(ErrorKind::not_found, "unknown_household", "no such household", "members");
    CUNHUO_TRY(tx.exec("INSERT INTO shop_members (shop_id, household_id) VALUES (?, ?)",
                       {id.value, member.value}));
  }
  if (shop.kind == ShopKind::household) CUNHUO_CHECK(claim_household_shop(tx, shop.members[0], id));
  return id;
}

Result<std::optional<Shop>> find_shop(db::Session& s, ShopId id) {
  auto row =
      CUNHUO_TRY(s.query_one("SELECT id, name, kind, village_code, status, story, photo_id, "
                             "manager_account_id FROM shops WHERE id = ?",
                             {id.value}));
  if (!row) return std::optional<Shop>();
  Shop shop = shop_from(*row);
  for (const auto& m : CUNHUO_TRY(
           s.query("SELECT household_id FROM shop_members WHERE shop_id = ? ORDER BY household_id",
                   {id.value})))
    shop.members.push_back(HouseholdId{m.i64(0)});
  return std::optional<Shop>(std::move(shop));
}

Result<std::vector<ShopId>> shops_in(db::Session& s, std::string_view region_code) {
  CUNHUO_TRY(region_level(region_code));
  std::vector<ShopId> out;
  const std::string like = std::string(region_prefix(region_code)) + "%";
  for (const auto& r :
       CUNHUO_TRY(s.query("SELECT id FROM shops WHERE village_code LIKE ? ORDER BY id", {like})))
    out.push_back(ShopId{r.i64(0)});
  return out;
}

}  // namespace cunhuo::marketplace
