// Open statistics for the public pages and CSV downloads, by county, township or
// village: households registered, poor, at risk, proposed for exit, exited, returned;
// platform sales and the net income reaching registered households, by month; exit
// notices under way with their objection deadline. Only counts and sums leave here:
// names are masked, and a month's money figure is withheld unless every village that
// makes it up has kMinHouseholdsPerFigure households in it, so no one household's income
// can be read off a row, nor worked out by subtracting one area's row from another's.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "alleviation/exits.hpp"
#include "core/clock.hpp"
#include "core/db/database.hpp"
#include "core/money.hpp"
#include "core/region.hpp"

namespace cunhuo::alleviation {

inline constexpr int kMinHouseholdsPerFigure = 3;
inline constexpr int kMaxStatisticsMonths = 24;

struct AreaCounts {
  std::string code;
  std::int64_t registered =
      0;  // every household ever registered as poor (建档立卡), whatever its status now
  std::int64_t poor = 0, at_risk = 0, proposed = 0, exited = 0, returned = 0;
};

struct MonthFigures {
  std::string month;  // "2026-11", Shanghai time
  std::int64_t selling_households = 0;
  std::optional<Money> sales, income_to_registered;  // empty: too few households to show
};

struct AreaStatistics {
  std::string region_code;
  RegionLevel level = RegionLevel::county;
  AreaCounts total;
  std::vector<AreaCounts> parts;     // the townships of a county, the villages of a township, ...
  std::vector<MonthFigures> months;  // newest first
  std::vector<Notice> notices;
  std::int64_t generated_at_ms = 0;
};

// `months` back from this month (1 to kMaxStatisticsMonths).
Result<AreaStatistics> area_statistics(db::Session& s, std::string_view region_code, int months,
                                       const Clock& clock);

// A money figure as yuan for a page or a CSV file, or its mark when it is withheld.
std::string shown_yuan(const std::optional<Money>& m, bool for_csv);

// table: "areas", "months" or "notices".
Result<std::string> statistics_csv(const AreaStatistics& stats, std::string_view table);

}  // namespace cunhuo::alleviation
