// Temperature classes: one table of names, parsed at the edges, ranked by how much cold
// each needs, and the cold-chain rules logistics applies per class.
#include <catch2/catch.hpp>

#include "core/temperature.hpp"
#include "logistics/planner.hpp"
#include "logistics/shipments.hpp"
#include "logistics/telemetry.hpp"

using namespace cunhuo;
using cunhuo::logistics::colder_class;

namespace {
constexpr auto kAmbient = TemperatureClass::ambient;
constexpr auto kChilled = TemperatureClass::chilled;
constexpr auto kFrozen = TemperatureClass::frozen;
}  // namespace

TEST_CASE("every temperature class reads back from its name", "[unit][temperature]") {
  for (auto t : {kAmbient, kChilled, kFrozen}) {
    auto back = parse_temperature_class(to_string(t));
    REQUIRE(back.ok());
    CHECK(*back == t);
  }
}

TEST_CASE("a name outside the table is a 400 invalid_temperature_class", "[unit][temperature]") {
  for (const char* text : {"warm", "Chilled", "frozen ", ""}) {
    INFO('"' << text << '"');
    auto parsed = parse_temperature_class(text);
    REQUIRE_FALSE(parsed.ok());
    CHECK(parsed.error().kind == ErrorKind::invalid);
    CHECK(parsed.error().code == "invalid_temperature_class");
    CHECK(parsed.error().field == "temperature_class");
  }
}

TEST_CASE("of two temperature classes a parcel travels at the colder", "[unit][temperature]") {
  struct Pair {
    TemperatureClass a, b, colder;
  };
  const Pair table[] = {
      {kAmbient, kAmbient, kAmbient}, {kAmbient, kChilled, kChilled},
      {kChilled, kAmbient, kChilled}, {kChilled, kFrozen, kFrozen},
      {kFrozen, kChilled, kFrozen},   {kAmbient, kFrozen, kFrozen},
  };
  for (const auto& row : table) CHECK(colder_class(row.a, row.b) == row.colder);
}

TEST_CASE("a parcel may go unrefrigerated without limit only when ambient", "[unit][temperature]") {
  const logistics::ColdChainRules rules{.chilled_unrefrigerated_min = 120,
                                        .frozen_unrefrigerated_min = 30};
  CHECK(rules.budget_for(kAmbient) == logistics::kUnlimited);
  CHECK(rules.budget_for(kChilled) == 120);
  CHECK(rules.budget_for(kFrozen) == 30);
}

TEST_CASE("each temperature class is watched against its own range", "[unit][temperature]") {
  const logistics::ExcursionRules rules;
  CHECK(&rules.of(kAmbient) == &rules.ambient);
  CHECK(&rules.of(kChilled) == &rules.chilled);
  CHECK(&rules.of(kFrozen) == &rules.frozen);
}
