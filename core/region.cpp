#include "core/region.hpp"

#include <algorithm>

namespace cunhuo {

Result<RegionLevel> region_level(std::string_view code, std::string_view field) {
  auto bad = [&] {
    return make_error(
        ErrorKind::invalid, "invalid_region_code",
        "region code must be 6, 9 or 12 digits (GB/T 2260 and its township/village extension)",
        std::string(field));
  };
  if (!std::all_of(code.begin(), code.end(), [](char c) { return c >= '0' && c <= '9'; }))
    return bad();
  if (code.size() == 12) return RegionLevel::village;
  if (code.size() == 9) return RegionLevel::township;
  if (code.size() != 6 || code.substr(0, 2) == "00") return bad();
  if (code.substr(2) == "0000") return RegionLevel::province;
  if (code.substr(4) == "00") return RegionLevel::prefecture;
  return RegionLevel::county;
}

std::string county_of(std::string_view code) {
  return std::string(code.substr(0, std::min<std::size_t>(6, code.size())));
}

std::string_view region_prefix(std::string_view area) {
  if (area.size() == 6) {
    if (area.substr(2) == "0000") return area.substr(0, 2);
    if (area.substr(4) == "00") return area.substr(0, 4);
  }
  return area;
}

bool region_within(std::string_view code, std::string_view area) {
  return code.starts_with(region_prefix(area));
}

}  // namespace cunhuo
