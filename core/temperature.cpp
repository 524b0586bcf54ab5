#include "core/temperature.hpp"

#include "core/enum_names.hpp"

namespace cunhuo {
namespace {

constexpr EnumNames<TemperatureClass, 3> kTemperatureNames = {{
    {TemperatureClass::ambient, "ambient"},
    {TemperatureClass::chilled, "chilled"},
    {TemperatureClass::frozen, "frozen"},
}};

}  // namespace

std::string_view to_string(TemperatureClass t) { return name_of(kTemperatureNames, t); }

Result<TemperatureClass> parse_temperature_class(std::string_view text) {
  if (auto v = value_of(kTemperatureNames, text)) return *v;
  return make_error(ErrorKind::invalid, "invalid_temperature_class",
                    "temperature class must be ambient, chilled or frozen", "temperature_class");
}

}  // namespace cunhuo
