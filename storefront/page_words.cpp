#include "storefront/page_words.hpp"

#include <cstdio>

#include "core/clock.hpp"

namespace cunhuo::storefront {

std::string yuan(Money m) { return "¥" + m.to_yuan(); }

std::string page_time(std::int64_t epoch_ms) {
  // "2026-11-25T08:41:26+08:00" -> "2026-11-25 08:41"
  const std::string iso = format_shanghai(epoch_ms);
  return iso.substr(0, 10) + " " + iso.substr(11, 5);
}

std::string unit_text(std::string_view unit, web::Lang lang) {
  return std::string(web::text("unit_" + std::string(unit), lang));
}

std::string temperature_text(TemperatureClass t, web::Lang lang) {
  return std::string(web::text("temperature_" + std::string(to_string(t)), lang));
}

std::string place_text(std::string_view code, const marketplace::PlaceNames& names,
                       web::Lang lang) {
  const auto it = names.find(std::string(code));
  if (it == names.end()) return std::string(code);
  if (lang == web::Lang::zh) return it->second + "（" + std::string(code) + "）";
  return it->second + " (" + std::string(code) + ")";
}

Result<std::string> place_text(db::Session& s, std::string_view code, web::Lang lang) {
  const auto names = CUNHUO_TRY(marketplace::place_names(s, {std::string(code)}));
  return place_text(code, names, lang);
}

std::string month_label(std::int64_t epoch_ms) {
  const LocalDate today = shanghai_date(epoch_ms);
  char label[16];
  std::snprintf(label, sizeof label, "%04d-%02u", today.year, today.month);
  return label;
}

}  // namespace cunhuo::storefront
