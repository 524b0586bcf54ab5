// Places are administrative division codes: 6 digits for province, prefecture and
// county (GB/T 2260, e.g. 620621 Minqin County), 9 for a township and 12 for a village
// (the statistical division codes extend the county code).
#pragma once

#include <string>
#include <string_view>

#include "core/result.hpp"

namespace cunhuo {

enum class RegionLevel { province, prefecture, county, township, village };

inline constexpr std::size_t kCountyCodeDigits = 6;
inline constexpr std::size_t kTownshipCodeDigits = 9;
inline constexpr std::size_t kVillageCodeDigits = 12;

// Validates a code and says its level; `field` names the input for the error.
Result<RegionLevel> region_level(std::string_view code, std::string_view field = "region_code");
// The 6-digit county code a township or village code belongs to.
std::string county_of(std::string_view code);
// Whether `code` lies within `area` (a shorter code whose digits it starts with,
// ignoring the area's trailing zero pairs: 620000 contains 620621001).
bool region_within(std::string_view code, std::string_view area);
// The digits every code within `area` starts with: 620000 → "62", 620600 → "6206".
std::string_view region_prefix(std::string_view area);

}  // namespace cunhuo
