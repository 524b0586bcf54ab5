// How the pages say things: money in yuan from fen, times in Asia/Shanghai, places by name
// beside their codes, and the catalog's codes (units, temperature classes) in the reader's
// language.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/db/database.hpp"
#include "core/money.hpp"
#include "core/temperature.hpp"
#include "marketplace/places.hpp"
#include "storefront/web/templates.hpp"

namespace cunhuo::storefront {

std::string yuan(Money m);  // "¥39.80"
std::string page_time(std::int64_t epoch_ms);
std::string month_label(std::int64_t epoch_ms);  // "2026-12": the month then, Asia/Shanghai //
                                                 // "2026-12-07 14:00", Asia/Shanghai
std::string unit_text(std::string_view unit, web::Lang lang);  // "box" -> "箱"
std::string temperature_text(TemperatureClass t, web::Lang lang);
// "致力村（620621104201）" ("致力村 (620621104201)" in English) where the store names the
// place, else the code alone.
std::string place_text(std::string_view code, const marketplace::PlaceNames& names, web::Lang lang);
// The same for one code, its name read from the store.
Result<std::string> place_text(db::Session& s, std::string_view code, web::Lang lang);

// The options of a select: each value with its label (a unit's in the reader's words).
template <std::size_t N>
web::ViewList choices(const std::string_view (&all)[N], const std::string& chosen, web::Lang lang,
                      bool units) {
  web::ViewList out;
  for (auto c : all) {
    web::View v;
    v.set("value", std::string(c));
    v.set("label", units ? unit_text(c, lang) : std::string(c));
    v.set("selected", std::string(c) == chosen);
    out.push_back(v);
  }
  return out;
}

}  // namespace cunhuo::storefront
