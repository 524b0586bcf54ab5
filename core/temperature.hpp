// Temperature classes: how cold goods must be kept. Shared vocabulary: the marketplace
// lists each product's class, logistics plans, carries and watches a parcel at its class.
// One table gives the names in the API and the store. The values are declared in order
// of how much cold they need, so of two classes the colder is the greater.
#pragma once

#include <string_view>

#include "core/result.hpp"

namespace cunhuo {

enum class TemperatureClass { ambient, chilled, frozen };

std::string_view to_string(TemperatureClass t);
// A 400 invalid_temperature_class naming the field "temperature_class" for any other text.
Result<TemperatureClass> parse_temperature_class(std::string_view text);

}  // namespace cunhuo
