// How the pages say things: money in yuan from fen, times in Asia/Shanghai, and the
// catalog's codes (units, temperature classes) in the reader's language.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/money.hpp"
#include "core/temperature.hpp"
#include "storefront/web/templates.hpp"

namespace cunhuo::storefront {

std::string yuan(Money m);  // "¥39.80"
std::string page_time(std::int64_t epoch_ms);
std::string month_label(std::int64_t epoch_ms);  // "2026-12": the month then, Asia/Shanghai //
                                                 // "2026-12-07 14:00", Asia/Shanghai
std::string unit_text(std::string_view unit, web::Lang lang);  // "box" -> "箱"
std::string temperature_text(TemperatureClass t, web::Lang lang);

}  // namespace cunhuo::storefront
