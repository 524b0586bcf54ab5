// Exit evaluation as a property: for random households, each veto alone blocks exit,
// the score is the weighted sum of the indicator scores, and evaluating the same facts
// twice gives the same result.
#include <catch2/catch.hpp>

#include <random>

#include "alleviation/evaluation.hpp"

using namespace cunhuo;
using namespace cunhuo::alleviation;

namespace {

HouseholdFacts random_facts(std::mt19937_64& rng) {
  HouseholdFacts f;
  f.members = 1 + static_cast<int>(rng() % 7);
  f.registry_income = Money::fen(static_cast<std::int64_t>(rng() % 4'000'000));
  f.platform_net = Money::fen(static_cast<std::int64_t>(rng() % 2'000'000));
  f.housing_safe = rng() % 4 != 0;
  f.water_safe = rng() % 4 != 0;
  f.school_age_out_of_school = rng() % 5 == 0 ? 1 : 0;
  f.members_uninsured = rng() % 5 == 0 ? static_cast<int>(rng() % 3) : 0;
  f.stable_income_source = rng() % 3 != 0;
  return f;
}

HouseholdFacts all_met() {
  HouseholdFacts f;
  f.members = 3;
  f.registry_income = Money::fen(3 * 9'000'00);
  f.housing_safe = f.water_safe = f.stable_income_source = true;
  return f;
}

}  // namespace

TEST_CASE("the default model is valid and follows Gansu: six indicators, exit at 80, income and housing vetoes", "[unit][alleviation]") {
  const auto m = default_model();
  REQUIRE(validate(m).ok());
  CHECK(m.indicators.size() == 6);
  CHECK(m.exit_threshold == 80);
  CHECK(m.sample_values);
  int vetoes = 0;
  for (const auto& r : m.indicators) vetoes += r.veto ? 1 : 0;
  CHECK(vetoes == 2);
}

TEST_CASE("a model whose weights do not add up to 100, or names an indicator twice, is refused", "[unit][alleviation]") {
  auto m = default_model();
  m.indicators[0].weight = 31;
  CHECK(validate(m).error().code == "weights_not_100");
  m = default_model();
  m.indicators[1].indicator = Indicator::income;
  CHECK(validate(m).error().code == "duplicate_indicator");
  CHECK(parse_indicator("happiness").error().code == "unknown_indicator");
}

TEST_CASE("random households: the score is the weighted sum, vetoes block exit, the same facts give the same result", "[unit][alleviation][property]") {
  const auto m = default_model();
  std::mt19937_64 rng(std::random_device{}());
  for (int i = 0; i < 20000; ++i) {
    const auto f = random_facts(rng);
    const auto e = evaluate(m, f);
    int sum = 0;
    for (const auto& r : e.indicators) {
      CHECK(r.points == (r.met ? r.weight : 0));
      sum += r.points;
    }
    REQUIRE(e.score == sum);
    if (e.failed_veto) REQUIRE_FALSE(e.exit_eligible);
    REQUIRE(e.exit_eligible == (e.score >= 80 && !e.failed_veto));
    const auto again = evaluate(m, f);
    REQUIRE(again.score == e.score);
    REQUIRE(again.band == e.band);
    REQUIRE(again.failed_veto == e.failed_veto);
  }
}

TEST_CASE("each veto alone keeps an otherwise perfect household from exiting", "[unit][alleviation][property]") {
  const auto m = default_model();
  REQUIRE(evaluate(m, all_met()).exit_eligible);
  CHECK(evaluate(m, all_met()).score == 100);
  auto poor = all_met();
  poor.registry_income = Money::fen(3 * 3'000'00);
  const auto by_income = evaluate(m, poor);
  CHECK(by_income.score == 70);
  CHECK(by_income.failed_veto == Indicator::income);
  CHECK_FALSE(by_income.exit_eligible);
  auto unsafe = all_met();
  unsafe.housing_safe = false;
  const auto by_housing = evaluate(m, unsafe);
  CHECK(by_housing.score == 80);  // at the threshold, and still no exit
  CHECK(by_housing.failed_veto == Indicator::housing);
  CHECK(by_housing.band == Band::likely_impoverished);
  CHECK_FALSE(by_housing.exit_eligible);
}

TEST_CASE("platform income counts toward per-capita income", "[unit][alleviation]") {
  const auto m = default_model();
  auto f = all_met();
  f.registry_income = Money::fen(3 * 3'500'00);
  CHECK_FALSE(evaluate(m, f).exit_eligible);
  f.platform_net = Money::fen(3 * 600'00);  // 600 yuan a person from sales
  const auto e = evaluate(m, f);
  CHECK(e.per_capita_income == Money::fen(4'100'00));
  CHECK(e.exit_eligible);
}
