#include "marketplace/proxy.hpp"

#include "core/enum_names.hpp"

namespace cunhuo::marketplace {
namespace {

constexpr db::Migration kMigrations[] = {
    {"marketplace", 14, "orders and listings made by proxy at a station",
     "CREATE TABLE IF NOT EXISTS proxy_actions (\n"
     "  id {{ID}},\n"
     "  kind VARCHAR(12) NOT NULL,\n"
     "  object_id BIGINT NOT NULL,\n"
     "  operator_account BIGINT NOT NULL,\n"
     "  household_id BIGINT NOT NULL,\n"
     "  villager_account BIGINT,\n"
     "  at BIGINT NOT NULL\n"
     ");\n"
     "CREATE INDEX IF NOT EXISTS proxy_actions_household ON proxy_actions (household_id, id);\n"
     "CREATE INDEX IF NOT EXISTS proxy_actions_object ON proxy_actions (kind, object_id);\n"},
};

constexpr EnumNames<ProxyKind, 2> kKindNames = {{
    {ProxyKind::order, "order"},
    {ProxyKind::listing, "listing"},
}};

Result<ProxyKind> parse_kind(std::string_view text) {
  if (auto v = value_of(kKindNames, text)) return *v;
  return make_error(ErrorKind::internal, "unknown_proxy_kind", "an unknown proxy action kind");
}

}  // namespace

std::string_view to_string(ProxyKind kind) { return name_of(kKindNames, kind); }

std::span<const db::Migration> proxy_migrations() { return kMigrations; }

Status record_proxy_action(db::Session& tx, const ProxyAction& a, const Clock& clock) {
  const std::int64_t now = clock.now_ms();
  CUNHUO_TRY(
      tx.exec("INSERT INTO proxy_actions (kind, object_id, operator_account, household_id, "
              "villager_account, at) VALUES (?, ?, ?, ?, ?, ?)",
              {to_string(a.kind), a.object_id, a.operator_account, a.household.value,
               a.villager_account, now}));
  // The household's own trail says it too: what was done in its name, and by whom.
  const std::string field = "proxy_" + std::string(to_string(a.kind));
  CUNHUO_TRY(tx.exec(
      "INSERT INTO household_audit (household_id, actor, field, old_value, new_value, reason, at) "
      "VALUES (?, ?, ?, '', ?, ?, ?)",
      {a.household.value, "account:" + std::to_string(a.operator_account), field,
       std::to_string(a.object_id), "confirmed by the household's code", now}));
  return {};
}

Result<std::vector<ProxyAction>> proxy_actions_of(db::Session& s, HouseholdId household) {
  std::vector<ProxyAction> out;
  for (const auto& r : CUNHUO_TRY(
           s.query("SELECT id, kind, object_id, operator_account, household_id, villager_account, "
                   "at FROM proxy_actions WHERE household_id = ? ORDER BY id",
                   {household.value})))
    out.push_back(ProxyAction{.id = r.i64(0),
                              .kind = CUNHUO_TRY(parse_kind(r.str(1))),
                              .object_id = r.i64(2),
                              .operator_account = r.i64(3),
                              .household = HouseholdId{r.i64(4)},
                              .villager_account = r.opt_i64(5),
                              .at_ms = r.i64(6)});
  return out;
}

Result<std::optional<ShopId>> household_shop(db::Session& s, HouseholdId household) {
  auto row =
      CUNHUO_TRY(s.query_one("SELECT s.id FROM shops s JOIN shop_members m ON m.shop_id = s.id "
                             "WHERE s.kind = 'household' AND m.household_id = ? "
                             "ORDER BY s.id LIMIT 1",
                             {household.value}));
  if (!row) return std::optional<ShopId>();
  return std::optional<ShopId>(ShopId{row->i64(0)});
}

}  // namespace cunhuo::marketplace
