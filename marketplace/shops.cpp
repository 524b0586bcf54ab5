#include "marketplace/shops.hpp"

#include <array>

#include "core/assert.hpp"
#include "core/enum_names.hpp"
#include "core/region.hpp"

namespace cunhuo::marketplace {
namespace {

// household_shops holds each household's one household shop (its key is the household), and
// starts from the household shops already stored.
constexpr db::Migration kMigrations[] = {
    {"marketplace", 12, "shops opened by households, cooperatives approved, members by consent",
     "ALTER TABLE shops ADD COLUMN status VARCHAR(10) NOT NULL DEFAULT 'active';\n"
     "ALTER TABLE shops ADD COLUMN story VARCHAR(2000) NOT NULL DEFAULT '';\n"
     "ALTER TABLE shops ADD COLUMN photo_id BIGINT;\n"
     "ALTER TABLE shops ADD COLUMN manager_account_id BIGINT;\n"
     "ALTER TABLE shops ADD COLUMN decision_reason VARCHAR(500) NOT NULL DEFAULT '';\n"
     "CREATE INDEX IF NOT EXISTS shops_village ON shops (village_code, id);\n"
     "CREATE TABLE IF NOT EXISTS household_shops (\n"
     "  household_id BIGINT NOT NULL PRIMARY KEY,\n"
     "  shop_id BIGINT NOT NULL\n"
     ");\n"
     "INSERT INTO household_shops (household_id, shop_id) SELECT m.household_id, MIN(s.id) "
     "FROM shops s JOIN shop_members m ON m.shop_id = s.id WHERE s.kind = 'household' GROUP BY "
     "m.household_id;\n"
     "CREATE TABLE IF NOT EXISTS membership_requests (\n"
     "  id {{ID}},\n"
     "  shop_id BIGINT NOT NULL,\n"
     "  household_id BIGINT NOT NULL,\n"
     "  direction VARCHAR(10) NOT NULL,\n"
     "  status VARCHAR(10) NOT NULL,\n"
     "  created_at BIGINT NOT NULL,\n"
     "  answered_at BIGINT\n"
     ");\n"
     "CREATE INDEX IF NOT EXISTS membership_requests_shop ON membership_requests (shop_id, "
     "household_id, status);\n"},
};

constexpr std::array<std::pair<ShopKind, std::string_view>, 2> kKindNames = {{
    {ShopKind::household, "household"},
    {ShopKind::cooperative, "cooperative"},
}};
constexpr std::array<std::pair<ShopStatus, std::string_view>, 3> kStatusNames = {{
    {ShopStatus::active, "active"},
    {ShopStatus::pending, "pending"},
    {ShopStatus::declined, "declined"},
}};
constexpr std::array<std::pair<RequestDirection, std::string_view>, 2> kDirectionNames = {{
    {RequestDirection::invite, "invite"},
    {RequestDirection::ask, "ask"},
}};
constexpr std::array<std::pair<RequestStatus, std::string_view>, 3> kRequestStatusNames = {{
    {RequestStatus::pending, "pending"},
    {RequestStatus::accepted, "accepted"},
    {RequestStatus::declined, "declined"},
}};

constexpr const char* kShopColumns =
    "s.id, s.name, s.kind, s.village_code, s.status, s.story, s.photo_id, s.manager_account_id";

// A listing on sale, for the product alias p.
constexpr const char* kOnSale = "p.active = 1 AND p.stock > 0";

Error invalid(std::string code, std::string message, std::string field) {
  return make_error(ErrorKind::invalid, std::move(code), std::move(message), std::move(field));
}

Error conflict(std::string code, std::string message, std::string field = "") {
  return make_error(ErrorKind::conflict, std::move(code), std::move(message), std::move(field));
}

Status check_name_and_story(std::string_view name, std::string_view story) {
  if (name.empty() || name.size() > kMaxShopNameBytes)
    return invalid("invalid_name", "shop name must be 1 to 200 bytes", "name");
  if (story.size() > kMaxShopStoryBytes)
    return invalid("invalid_length", "a story is at most 2000 bytes", "story");
  return {};
}

Result<Household> live_household(db::Session& s, HouseholdId id, std::string_view field) {
  auto h = CUNHUO_TRY(find_household(s, id));
  if (!h || h->merged_into)
    return make_error(ErrorKind::not_found, "unknown_household", "no such household",
                      std::string(field));
  return std::move(*h);
}

MembershipRequest request_from(const db::Row& r) {
  auto direction = value_of(kDirectionNames, r.str(3));
  auto status = value_of(kRequestStatusNames, r.str(4));
  CUNHUO_ASSERT(direction && status);  // the store holds only known names
  return MembershipRequest{.id = MembershipRequestId{r.i64(0)},
                           .shop = ShopId{r.i64(1)},
                           .household = HouseholdId{r.i64(2)},
                           .direction = *direction,
                           .status = *status};
}

// The active shops of each village starting with `like`, by village.
std::string taobao_villages_sql() {
  return std::string(
             "SELECT s2.village_code FROM shops s2 WHERE s2.status = 'active' AND EXISTS "
             "(SELECT 1 FROM products p WHERE p.shop_id = s2.id AND ") +
         kOnSale + ") GROUP BY s2.village_code HAVING COUNT(*) >= ?";
}

}  // namespace

std::span<const db::Migration> shop_migrations() { return kMigrations; }
std::string_view to_string(ShopKind kind) { return name_of(kKindNames, kind); }
std::string_view to_string(ShopStatus status) { return name_of(kStatusNames, status); }
std::string_view to_string(RequestDirection d) { return name_of(kDirectionNames, d); }
std::string_view to_string(RequestStatus s) { return name_of(kRequestStatusNames, s); }

Shop shop_from(const db::Row& r) {
  auto kind = value_of(kKindNames, r.str(2));
  auto status = value_of(kStatusNames, r.str(4));
  CUNHUO_ASSERT(kind && status);  // the store holds only known names
  Shop shop;
  shop.id = ShopId{r.i64(0)};
  shop.name = r.str(1);
  shop.kind = *kind;
  shop.village_code = r.str(3);
  shop.status = *status;
  shop.story = r.str(5);
  shop.photo_id = r.opt_i64(6);
  shop.manager_account = r.opt_i64(7);
  return shop;
}

Status claim_household_shop(db::Session& tx, HouseholdId household, ShopId shop) {
  auto held = CUNHUO_TRY(tx.query_one("SELECT shop_id FROM household_shops WHERE household_id = ?",
                                      {household.value}));
  if (held) return conflict("household_shop_exists", "this household has its own shop already");
  CUNHUO_TRY(tx.exec("INSERT INTO household_shops (household_id, shop_id) VALUES (?, ?)",
                     {household.value, shop.value}));
  return {};
}

Result<ShopId> open_household_shop(db::Session& tx, HouseholdId household, std::string_view name,
                                   std::string_view story, const Clock& clock) {
  CUNHUO_CHECK(check_name_and_story(name, story));
  const auto h = CUNHUO_TRY(live_household(tx, household, "household_id"));
  const ShopId id = CUNHUO_TRY(create_shop(tx,
                                           NewShop{.name = std::string(name),
                                                   .kind = ShopKind::household,
                                                   .village_code = h.village_code,
                                                   .members = {household}},
                                           clock));
  CUNHUO_TRY(tx.exec("UPDATE shops SET story = ? WHERE id = ?", {story, id.value}));
  return id;
}

Result<ShopId> propose_cooperative(db::Session& tx, const NewCooperative& c, const Clock& clock) {
  CUNHUO_CHECK(check_name_and_story(c.name, c.story));
  if (CUNHUO_TRY(region_level(c.village_code, "village_code")) != RegionLevel::village)
    return invalid("invalid_region_code", "a cooperative belongs to a 12-digit village code",
                   "village_code");
  if (CUNHUO_TRY(pending_cooperative_of(tx, c.manager_account)))
    return conflict("cooperative_pending", "your cooperative already waits for approval");
  CUNHUO_TRY(
      tx.exec("INSERT INTO shops (name, kind, village_code, created_at, status, story, "
              "manager_account_id) VALUES (?, 'cooperative', ?, ?, 'pending', ?, ?)",
              {c.name, c.village_code, clock.now_ms(), c.story, c.manager_account}));
  return ShopId{CUNHUO_TRY(tx.last_insert_id())};
}

Result<std::optional<ShopId>> pending_cooperative_of(db::Session& s, std::int64_t manager_account) {
  auto row = CUNHUO_TRY(
      s.query_one("SELECT id FROM shops WHERE manager_account_id = ? AND status = 'pending'",
                  {manager_account}));
  if (!row) return std::optional<ShopId>();
  return std::optional<ShopId>(ShopId{row->i64(0)});
}

Result<Shop> decide_cooperative(db::Session& tx, ShopId id, bool approve, std::string_view reason) {
  if (reason.empty() || reason.size() > kMaxDecisionReasonBytes)
    return invalid("missing_field", "say why (1 to 500 bytes)", "reason");
  auto shop = CUNHUO_TRY(find_shop(tx, id));
  if (!shop || shop->kind != ShopKind::cooperative)
    return make_error(ErrorKind::not_found, "not_found", "no such cooperative");
  if (shop->status != ShopStatus::pending)
    return conflict("already_decided", "this cooperative was decided already");
  CUNHUO_TRY(tx.exec("UPDATE shops SET status = ?, decision_reason = ? WHERE id = ?",
                     {approve ? "active" : "declined", reason, id.value}));
  shop->status = approve ? ShopStatus::active : ShopStatus::declined;
  return std::move(*shop);
}

Result<MembershipRequestId> request_membership(db::Session& tx, ShopId shop_id,
                                               HouseholdId household, RequestDirection direction,
                                               const Clock& clock) {
  auto shop = CUNHUO_TRY(find_shop(tx, shop_id));
  if (!shop) return make_error(ErrorKind::not_found, "unknown_shop", "no such shop", "shop_id");
  if (shop->kind != ShopKind::cooperative)
    return conflict("not_a_cooperative", "only a cooperative takes member households");
  if (shop->status == ShopStatus::declined)
    return conflict("shop_declined", "this cooperative was not approved");
  CUNHUO_TRY(live_household(tx, household, "household_id"));
  if (CUNHUO_TRY(is_member(tx, shop_id, household)))
    return conflict("already_a_member", "the household is a member already", "household_id");
  if (CUNHUO_TRY(tx.query_one("SELECT 1 FROM membership_requests WHERE shop_id = ? AND "
                              "household_id = ? AND status = 'pending'",
                              {shop_id.value, household.value})))
    return conflict("request_pending", "a request waits for an answer already", "household_id");
  CUNHUO_TRY(tx.exec(
      "INSERT INTO membership_requests (shop_id, household_id, direction, status, created_at) "
      "VALUES (?, ?, ?, 'pending', ?)",
      {shop_id.value, household.value, to_string(direction), clock.now_ms()}));
  return MembershipRequestId{CUNHUO_TRY(tx.last_insert_id())};
}

Result<std::optional<MembershipRequest>> find_membership_request(db::Session& s,
                                                                 MembershipRequestId id) {
  auto row = CUNHUO_TRY(s.query_one(
      "SELECT id, shop_id, household_id, direction, status FROM membership_requests WHERE id = ?",
      {id.value}));
  if (!row) return std::optional<MembershipRequest>();
  return std::optional<MembershipRequest>(request_from(*row));
}

Result<std::vector<MembershipRequest>> pending_requests_of(db::Session& s, ShopId shop) {
  std::vector<MembershipRequest> out;
  for (const auto& row : CUNHUO_TRY(
           s.query("SELECT id, shop_id, household_id, direction, status FROM membership_requests "
                   "WHERE shop_id = ? AND status = 'pending' ORDER BY id LIMIT ?",
                   {shop.value, static_cast<std::int64_t>(kMaxPendingRequests)})))
    out.push_back(request_from(row));
  return out;
}

Result<MembershipRequest> answer_membership(db::Session& tx, MembershipRequestId id, bool accept,
                                            const Clock& clock) {
  auto request = CUNHUO_TRY(find_membership_request(tx, id));
  if (!request) return make_error(ErrorKind::not_found, "not_found", "no such request");
  if (request->status != RequestStatus::pending)
    return conflict("request_answered", "this request was answered already");
  request->status = accept ? RequestStatus::accepted : RequestStatus::declined;
  CUNHUO_TRY(tx.exec(
      "UPDATE membership_requests SET status = ?, answered_at = ? WHERE id = ? AND status = "
      "'pending'",
      {to_string(request->status), clock.now_ms(), id.value}));
  if (accept)
    CUNHUO_TRY(tx.exec(std::string(tx.insert_ignore()) +
                           " INTO shop_members (shop_id, household_id) VALUES (?, ?)",
                       {request->shop.value, request->household.value}));
  return std::move(*request);
}

Result<bool> is_member(db::Session& s, ShopId shop, HouseholdId household) {
  auto row =
      CUNHUO_TRY(s.query_one("SELECT 1 FROM shop_members WHERE shop_id = ? AND household_id = ?",
                             {shop.value, household.value}));
  return row.has_value();
}

Status leave_shop(db::Session& tx, ShopId shop_id, HouseholdId household) {
  auto shop = CUNHUO_TRY(find_shop(tx, shop_id));
  if (!shop || !CUNHUO_TRY(is_member(tx, shop_id, household)))
    return make_error(ErrorKind::not_found, "not_a_member", "the household is not a member");
  if (shop->kind == ShopKind::household)
    return conflict("own_household_shop", "a household does not leave its own shop");
  CUNHUO_TRY(tx.exec("DELETE FROM shop_members WHERE shop_id = ? AND household_id = ?",
                     {shop_id.value, household.value}));
  return {};
}

Result<std::vector<ShopListing>> listings_on_sale(db::Session& s, ShopId shop) {
  std::vector<ShopListing> out;
  for (const auto& r : CUNHUO_TRY(
           s.query(std::string("SELECT p.id, p.title, p.unit, p.price_fen FROM products p WHERE "
                               "p.shop_id = ? AND ") +
                       kOnSale + " ORDER BY p.id",
                   {shop.value})))
    out.push_back(ShopListing{.product_id = r.i64(0),
                              .title = r.str(1),
                              .unit = r.str(2),
                              .price = Money::fen(r.i64(3))});
  return out;
}

Result<std::vector<Shop>> list_shops(db::Session& s, const ShopQuery& q) {
  std::string sql =
      std::string("SELECT ") + kShopColumns +
      " FROM shops s WHERE s.status = 'active' AND s.village_code LIKE ? AND s.id > ?";
  std::vector<db::Value> params{
      (q.region_code.empty() ? std::string() : std::string(region_prefix(q.region_code))) + "%",
      q.after_id};
  if (q.taobao_villages) {
    sql += " AND s.village_code IN (" + taobao_villages_sql() + ")";
    params.emplace_back(kTaobaoVillageShops);
  }
  sql += " ORDER BY s.id LIMIT ?";
  params.emplace_back(q.limit);
  std::vector<Shop> out;
  for (const auto& r : CUNHUO_TRY(s.query_with(sql, params))) out.push_back(shop_from(r));
  for (auto& shop : out)
    for (const auto& m : CUNHUO_TRY(s.query(
             "SELECT household_id FROM shop_members WHERE shop_id = ? ORDER BY household_id",
             {shop.id.value})))
      shop.members.push_back(HouseholdId{m.i64(0)});
  return out;
}

Result<VillageShops> village_shops(db::Session& s, std::string_view village_code) {
  if (CUNHUO_TRY(region_level(village_code, "code")) != RegionLevel::village)
    return invalid("invalid_region_code", "a village has a 12-digit code", "code");
  VillageShops v{.village_code = std::string(village_code)};
  const std::string in_village = "FROM shops s WHERE s.status = 'active' AND s.village_code = ?";
  auto all = CUNHUO_TRY(s.query_one("SELECT COUNT(*) " + in_village, {village_code}));
  auto active = CUNHUO_TRY(s.query_one("SELECT COUNT(*) " + in_village +
                                           " AND EXISTS (SELECT 1 FROM products p WHERE "
                                           "p.shop_id = s.id AND " +
                                           kOnSale + ")",
                                       {village_code}));
  v.shops = all ? all->i64(0) : 0;
  v.active_shops = active ? active->i64(0) : 0;
  v.taobao_village = v.active_shops >= kTaobaoVillageShops;
  return v;
}

}  // namespace cunhuo::marketplace
