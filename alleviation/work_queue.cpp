#include "alleviation/work_queue.hpp"

#include "core/region.hpp"
#include "marketplace/registry.hpp"

namespace cunhuo::alleviation {
namespace {

// Keeps the cases whose household lies within `region_code`, counting them.
Result<WaitingCases> within(db::Session& s, std::vector<WaitingCase> cases,
                            std::string_view region_code, int limit) {
  // Their places are read at once: at most kMaxPlacesPerCall cases are looked at.
  if (cases.size() > marketplace::kMaxPlacesPerCall) cases.resize(marketplace::kMaxPlacesPerCall);
  std::vector<std::int64_t> ids;
  for (const auto& c : cases) ids.push_back(c.household_id);
  const auto places = CUNHUO_TRY(marketplace::household_places(s, ids));
  WaitingCases out;
  for (auto& c : cases) {
    auto place = places.find(c.household_id);
    if (place == places.end() || !region_within(place->second.village_code, region_code)) continue;
    ++out.count;
    if (static_cast<int>(out.items.size()) < limit) out.items.push_back(std::move(c));
  }
  return out;
}

WaitingCase case_from(const db::Row& r) {
  return WaitingCase{
      .id = r.i64(0), .household_id = r.i64(1), .what = r.str(2), .since_ms = r.i64(3)};
}

}  // namespace

Result<WaitingCases> proposals_at(db::Session& s, std::initializer_list<std::string_view> statuses,
                                  std::string_view region_code, int limit) {
  std::vector<WaitingCase> cases;
  for (auto status : statuses)
    for (const auto& r : CUNHUO_TRY(s.query(
             "SELECT id, household_id, status, updated_at FROM exit_proposals WHERE status = ? "
             "ORDER BY id LIMIT ?",
             {status, kMaxWaitingScanned})))
      cases.push_back(case_from(r));
  return within(s, std::move(cases), region_code, limit);
}

Result<WaitingCases> open_objections(db::Session& s, std::string_view region_code, int limit) {
  std::vector<WaitingCase> cases;
  for (const auto& r : CUNHUO_TRY(s.query(
           "SELECT o.id, p.household_id, p.status, o.lodged_at FROM exit_objections o JOIN "
           "exit_proposals p ON p.id = o.proposal_id WHERE o.status = 'open' ORDER BY o.id LIMIT ?",
           {kMaxWaitingScanned})))
    cases.push_back(case_from(r));
  return within(s, std::move(cases), region_code, limit);
}

Result<WaitingCases> open_alerts(db::Session& s, std::string_view region_code,
                                 std::optional<std::int64_t> helper_account, int limit) {
  constexpr const char* kColumns =
      "SELECT id, household_id, rule, raised_at FROM monitoring_alerts";
  std::vector<WaitingCase> cases;
  const auto rows =
      helper_account
          ? CUNHUO_TRY(s.query(std::string(kColumns) +
                                   " WHERE helper_account = ? AND status = 'open' ORDER BY id "
                                   "LIMIT ?",
                               {*helper_account, kMaxWaitingScanned}))
          : CUNHUO_TRY(
                s.query(std::string(kColumns) +
                            " WHERE village_code LIKE ? AND status = 'open' ORDER BY id "
                            "LIMIT ?",
                        {std::string(region_prefix(region_code)) + "%", kMaxWaitingScanned}));
  WaitingCases out;
  for (const auto& r : rows) {
    ++out.count;
    if (static_cast<int>(out.items.size()) < limit) out.items.push_back(case_from(r));
  }
  return out;
}

}  // namespace cunhuo::alleviation
