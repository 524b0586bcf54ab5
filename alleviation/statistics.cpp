#include "alleviation/statistics.hpp"

#include <algorithm>
#include <cassert>
#include <map>

#include "core/text.hpp"
#include "marketplace/registry.hpp"
#include "payments/settlement.hpp"

namespace cunhuo::alleviation {
namespace {

// How many digits name the parts shown under an area: counties under a province or
// prefecture, townships under a county, villages under a township, none under a village.
std::size_t part_digits(RegionLevel level) {
  switch (level) {
    case RegionLevel::province:
    case RegionLevel::prefecture: return 6;
    case RegionLevel::county: return 9;
    case RegionLevel::township: return 12;
    case RegionLevel::village: return 0;
  }
  return 0;
}

void add_status(AreaCounts& c, marketplace::PovertyStatus status, std::int64_t n) {
  using enum marketplace::PovertyStatus;
  if (status == not_registered) return;
  c.registered += n;
  if (status == registered_poor)
    c.poor += n;
  else if (status == at_risk)
    c.at_risk += n;
  else if (status == exited)
    c.exited += n;
  else if (status == returned_to_poverty)
    c.returned += n;
}

// Calls `each(id, place)` for every household of `ids` living under `prefix`.
template <class Each>
Status in_area(db::Session& s, const std::vector<std::int64_t>& ids, std::string_view prefix,
               Each each) {
  for (std::size_t at = 0; at < ids.size(); at += marketplace::kMaxPlacesPerCall) {
    const auto end = std::min(ids.size(), at + marketplace::kMaxPlacesPerCall);
    const std::vector<std::int64_t> chunk(ids.begin() + static_cast<std::ptrdiff_t>(at),
                                          ids.begin() + static_cast<std::ptrdiff_t>(end));
    for (const auto& [id, place] : CUNHUO_TRY(marketplace::household_places(s, chunk)))
      if (place.village_code.starts_with(prefix)) each(id, place);
  }
  return {};
}

Status count_households(db::Session& s, AreaStatistics& out, const std::string& prefix,
                        std::size_t digits) {
  std::map<std::string, AreaCounts> parts;
  for (const auto& c :
       CUNHUO_TRY(marketplace::status_counts(s, prefix, digits == 0 ? 12 : digits))) {
    add_status(out.total, c.status, c.households);
    if (digits != 0) add_status(parts[c.area], c.status, c.households);
  }
  const auto proposed = CUNHUO_TRY(open_proposal_households(s));
  CUNHUO_CHECK(
      in_area(s, proposed, prefix, [&](std::int64_t, const marketplace::HouseholdPlace& place) {
        ++out.total.proposed;
        if (digits != 0) ++parts[place.village_code.substr(0, digits)].proposed;
      }));
  for (auto& [code, counts] : parts) {
    counts.code = code;
    out.parts.push_back(counts);
  }
  return {};
}

LocalDate first_of_month(LocalDate d, int back) {
  int months = d.year * 12 + static_cast<int>(d.month) - 1 - back;
  return LocalDate{months / 12, static_cast<unsigned>(months % 12 + 1), 1};
}

// A money figure is shown only when every village of the area that contributes to it
// has kMinHouseholdsPerFigure households or more in it. Withholding a small village's
// figure alone is not enough: its township's total minus the other villages would give it.
bool shown_safely(const std::map<std::string, std::int64_t>& households_per_village) {
  if (households_per_village.empty()) return false;
  return std::all_of(households_per_village.begin(), households_per_village.end(),
                     [](const auto& v) { return v.second >= kMinHouseholdsPerFigure; });
}

// A month's sales of the area's households and the net income of its registered ones.
Result<MonthFigures> month_figures(db::Session& s, const std::string& prefix, LocalDate first,
                                   LocalDate next) {
  const auto sales = CUNHUO_TRY(
      payments::sales_by_household(s, shanghai_midnight_ms(first), shanghai_midnight_ms(next)));
  std::map<std::int64_t, const payments::HouseholdSales*> by_id;
  std::vector<std::int64_t> ids;
  for (const auto& h : sales) {
    by_id.emplace(h.household_id, &h);
    ids.push_back(h.household_id);
  }
  std::int64_t gross = 0, net = 0;
  std::map<std::string, std::int64_t> sellers, registered_sellers;  // per village
  MonthFigures m;
  CUNHUO_CHECK(
      in_area(s, ids, prefix, [&](std::int64_t id, const marketplace::HouseholdPlace& place) {
        const auto* h = by_id.at(id);
        ++m.selling_households;
        ++sellers[place.village_code];
        gross += h->gross.fen();
        if (place.status == marketplace::PovertyStatus::not_registered) return;
        ++registered_sellers[place.village_code];
        net += h->net.fen();
      }));
  m.month = format_date(first).substr(0, 7);
  if (shown_safely(sellers)) m.sales = Money::fen(gross);
  if (shown_safely(registered_sellers)) m.income_to_registered = Money::fen(net);
  return m;
}

std::string shown(const std::optional<Money>& m, bool for_csv) {
  if (m) return m->to_yuan();
  return for_csv ? "" : "—";
}

std::string counts_row_csv(const AreaCounts& c) {
  std::string row = c.code;
  for (auto n : {c.registered, c.poor, c.at_risk, c.proposed, c.exited, c.returned})
    row += "," + std::to_string(n);
  return row + "\n";
}

}  // namespace

std::string shown_yuan(const std::optional<Money>& m, bool for_csv) { return shown(m, for_csv); }

Result<AreaStatistics> area_statistics(db::Session& s, std::string_view region_code, int months,
                                       const Clock& clock) {
  AreaStatistics out;
  out.level = CUNHUO_TRY(region_level(region_code, "region"));
  if (months < 1 || months > kMaxStatisticsMonths)
    return make_error(ErrorKind::invalid, "out_of_range", "1 to 24 months", "months");
  out.region_code = std::string(region_code);
  out.total.code = out.region_code;
  out.generated_at_ms = clock.now_ms();
  const std::string prefix(region_prefix(region_code));
  CUNHUO_CHECK(count_households(s, out, prefix, part_digits(out.level)));
  const LocalDate today = shanghai_date(out.generated_at_ms);
  for (int back = 0; back < months; ++back)
    out.months.push_back(CUNHUO_TRY(
        month_figures(s, prefix, first_of_month(today, back), first_of_month(today, back - 1))));
  for (auto& n : CUNHUO_TRY(notices_in(s, region_code, clock))) out.notices.push_back(std::move(n));
  assert(out.total.registered >=
         out.total.poor + out.total.at_risk + out.total.exited + out.total.returned);
  return out;
}

Result<std::string> statistics_csv(const AreaStatistics& s, std::string_view table) {
  std::string csv;
  if (table == "areas") {
    csv = "area_code,registered,poor,at_risk,proposed_for_exit,exited,returned_to_poverty\n" +
          counts_row_csv(s.total);
    for (const auto& p : s.parts) csv += counts_row_csv(p);
  } else if (table == "months") {
    csv = "month,selling_households,platform_sales_yuan,income_to_registered_households_yuan\n";
    for (const auto& m : s.months)
      csv += m.month + "," + std::to_string(m.selling_households) + "," + shown(m.sales, true) +
             "," + shown(m.income_to_registered, true) + "\n";
  } else if (table == "notices") {
    csv = "village_code,household,members,proposed_status,objections_until\n";
    for (const auto& n : s.notices)
      csv += n.village_code + "," + csv_field(n.masked_name) + "," + std::to_string(n.members) +
             ",exited," + format_shanghai(n.ends_ms) + "\n";
  } else {
    return make_error(ErrorKind::invalid, "invalid_table", "areas, months or notices", "table");
  }
  return csv;
}

}  // namespace cunhuo::alleviation
