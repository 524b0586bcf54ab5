#include "alleviation/work_queue.hpp"

#include "core/assert.hpp"
#include "core/region.hpp"
#include "marketplace/registry.hpp"

namespace cunhuo::alleviation {
namespace {

// A proposal's village is copied from its household when proposed (rows from before are
// filled at start-up), so that an area's count is a range on an index, as alerts' are.
constexpr db::Migration kMigrations[] = {
    {"alleviation", 8, "the village of each exit proposal; queue counts by area",
     "ALTER TABLE exit_proposals ADD COLUMN village_code VARCHAR(12) NOT NULL DEFAULT '';\n"
     "CREATE INDEX IF NOT EXISTS exit_proposals_area ON exit_proposals (status, village_code, "
     "id);\n"
     "CREATE INDEX IF NOT EXISTS exit_proposals_village ON exit_proposals (village_code, id);\n"
     "CREATE INDEX IF NOT EXISTS exit_objections_status ON exit_objections (status, "
     "proposal_id);\n"
     "CREATE INDEX IF NOT EXISTS monitoring_alerts_open ON monitoring_alerts (status, "
     "village_code, id);\n"
     "CREATE INDEX IF NOT EXISTS monitoring_alerts_helper ON monitoring_alerts (helper_account, "
     "status, id);\n"},
};

WaitingCase case_from(const db::Row& r) {
  return WaitingCase{
      .id = r.i64(0), .household_id = r.i64(1), .what = r.str(2), .since_ms = r.i64(3)};
}

// Counts the rows `from_where` selects and reads the first `limit` by `order`.
Result<WaitingCases> waiting(db::Session& s, const std::string& columns,
                             const std::string& from_where, const std::string& order,
                             std::vector<db::Value> params, int limit) {
  WaitingCases out;
  out.count = CUNHUO_TRY(s.query_with("SELECT COUNT(*)" + from_where, params)).at(0).i64(0);
  params.emplace_back(static_cast<std::int64_t>(limit));
  for (const auto& r : CUNHUO_TRY(s.query_with(
           "SELECT " + columns + from_where + " ORDER BY " + order + " LIMIT ?", params)))
    out.items.push_back(case_from(r));
  return out;
}

std::string prefix_of(std::string_view region_code) {
  return std::string(region_prefix(region_code)) + "%";
}

}  // namespace

std::span<const db::Migration> work_queue_migrations() { return kMigrations; }

Result<WaitingCases> proposals_at(db::Session& s, std::initializer_list<std::string_view> statuses,
                                  std::string_view region_code, int limit) {
  std::vector<db::Value> params(statuses.begin(), statuses.end());
  params.emplace_back(prefix_of(region_code));
  return waiting(s, "id, household_id, status, updated_at",
                 " FROM exit_proposals WHERE status IN (" + db::placeholders(statuses.size()) +
                     ") AND village_code LIKE ?",
                 "id", std::move(params), limit);
}

Result<WaitingCases> open_objections(db::Session& s, std::string_view region_code, int limit) {
  return waiting(s, "o.id, p.household_id, p.status, o.lodged_at",
                 " FROM exit_objections o JOIN exit_proposals p ON p.id = o.proposal_id WHERE "
                 "o.status = 'open' AND p.village_code LIKE ?",
                 "o.id", {prefix_of(region_code)}, limit);
}

Result<WaitingCases> open_alerts(db::Session& s, std::string_view region_code,
                                 std::optional<std::int64_t> helper_account, int limit) {
  constexpr const char* kColumns = "id, household_id, rule, raised_at";
  if (helper_account)
    return waiting(s, kColumns,
                   " FROM monitoring_alerts WHERE helper_account = ? AND status = 'open'", "id",
                   {*helper_account}, limit);
  return waiting(s, kColumns,
                 " FROM monitoring_alerts WHERE status = 'open' AND village_code LIKE ?", "id",
                 {prefix_of(region_code)}, limit);
}

Result<std::optional<std::int64_t>> fill_proposal_villages(db::Session& tx, std::int64_t after_id,
                                                           int limit) {
  CUNHUO_ASSERT(limit <= static_cast<int>(marketplace::kMaxPlacesPerCall));
  std::vector<std::pair<std::int64_t, std::int64_t>> proposals;  // id, household
  std::vector<std::int64_t> households;
  for (const auto& r : CUNHUO_TRY(tx.query("SELECT id, household_id FROM exit_proposals WHERE "
                                           "village_code = '' AND id > ? ORDER BY id LIMIT ?",
                                           {after_id, limit}))) {
    proposals.emplace_back(r.i64(0), r.i64(1));
    households.push_back(r.i64(1));
  }
  if (proposals.empty()) return std::optional<std::int64_t>();
  const auto places = CUNHUO_TRY(marketplace::household_places(tx, households));
  for (const auto& [id, household] : proposals)
    if (auto place = places.find(household); place != places.end())
      CUNHUO_TRY(tx.exec("UPDATE exit_proposals SET village_code = ? WHERE id = ?",
                         {place->second.village_code, id}));
  return std::optional<std::int64_t>(proposals.back().first);
}

}  // namespace cunhuo::alleviation
