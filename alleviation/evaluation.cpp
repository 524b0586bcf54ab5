#include "alleviation/evaluation.hpp"

#include <array>
#include <cassert>
#include <set>

#include "core/enum_names.hpp"

namespace cunhuo::alleviation {
namespace {

constexpr std::array<std::pair<Indicator, std::string_view>, 6> kIndicatorNames = {{
    {Indicator::income, "income"},
    {Indicator::housing, "housing"},
    {Indicator::drinking_water, "drinking_water"},
    {Indicator::compulsory_education, "compulsory_education"},
    {Indicator::medical_insurance, "medical_insurance"},
    {Indicator::stable_income_source, "stable_income_source"},
}};

constexpr std::array<std::pair<Band, std::string_view>, 3> kBandNames = {{
    {Band::impoverished, "impoverished"},
    {Band::likely_impoverished, "likely_impoverished"},
    {Band::lifted_out, "lifted_out"},
}};

IndicatorResult judge(const IndicatorRule& rule, const HouseholdFacts& f, Money per_capita,
                      Money line) {
  IndicatorResult r{rule.indicator, rule.weight, rule.veto, false, 0, ""};
  switch (rule.indicator) {
    case Indicator::income:
      r.met = per_capita >= line;
      r.inputs = "per capita " + per_capita.to_yuan() + " yuan against the line " + line.to_yuan();
      break;
    case Indicator::housing:
      r.met = f.housing_safe;
      r.inputs = f.housing_safe ? "housing safe" : "housing unsafe";
      break;
    case Indicator::drinking_water:
      r.met = f.water_safe;
      r.inputs = f.water_safe ? "drinking water safe" : "drinking water unsafe";
      break;
    case Indicator::compulsory_education:
      r.met = f.school_age_out_of_school == 0;
      r.inputs = std::to_string(f.school_age_out_of_school) + " school-age members out of school";
      break;
    case Indicator::medical_insurance:
      r.met = f.members_uninsured == 0;
      r.inputs = std::to_string(f.members_uninsured) + " members without basic medical insurance";
      break;
    case Indicator::stable_income_source:
      r.met = f.stable_income_source;
      r.inputs = f.stable_income_source ? "a stable income source" : "no stable income source";
      break;
  }
  r.points = r.met ? rule.weight : 0;
  return r;
}

}  // namespace

std::string_view to_string(Indicator indicator) { return name_of(kIndicatorNames, indicator); }
std::string_view to_string(Band band) { return name_of(kBandNames, band); }

Result<Band> parse_band(std::string_view text) {
  if (auto b = value_of(kBandNames, text)) return *b;
  return make_error(ErrorKind::invalid, "invalid_band",
                    "impoverished, likely_impoverished or lifted_out", "band");
}

Result<Indicator> parse_indicator(std::string_view text) {
  if (auto v = value_of(kIndicatorNames, text)) return *v;
  return make_error(ErrorKind::invalid, "unknown_indicator",
                    "no indicator named '" + std::string(text) + "'", "indicator");
}

EvaluationModel default_model() {
  EvaluationModel m;
  m.version = 1;
  m.name = "Gansu six indicators (sample weights)";
  m.indicators = {{Indicator::income, 30, true},
                  {Indicator::housing, 20, true},
                  {Indicator::drinking_water, 15, false},
                  {Indicator::compulsory_education, 15, false},
                  {Indicator::medical_insurance, 10, false},
                  {Indicator::stable_income_source, 10, false}};
  m.poverty_line_per_person_year = Money::fen(4'000'00);  // sample: 4,000 yuan a person a year
  return m;
}

Status validate(const EvaluationModel& m) {
  if (m.indicators.empty())
    return make_error(ErrorKind::invalid, "missing_field", "a model has indicators", "indicators");
  int sum = 0;
  std::set<Indicator> seen;
  for (std::size_t i = 0; i < m.indicators.size(); ++i) {
    const auto& r = m.indicators[i];
    if (r.weight < 0 || r.weight > kMaxPoints)
      return make_error(ErrorKind::invalid, "out_of_range", "a weight is 0 to 100",
                        "indicators[" + std::to_string(i) + "].weight");
    if (!seen.insert(r.indicator).second)
      return make_error(ErrorKind::invalid, "duplicate_indicator", "an indicator appears twice",
                        "indicators[" + std::to_string(i) + "].indicator");
    sum += r.weight;
  }
  if (sum != 100)
    return make_error(ErrorKind::invalid, "weights_not_100",
                      "weights add up to " + std::to_string(sum) + ", not 100", "indicators");
  if (m.lower_band < 0 || m.lower_band > m.exit_threshold || m.exit_threshold > kMaxPoints)
    return make_error(ErrorKind::invalid, "out_of_range",
                      "0 <= lower band <= exit threshold <= 100", "exit_threshold");
  if (m.poverty_line_per_person_year.fen() <= 0)
    return make_error(ErrorKind::invalid, "out_of_range", "the poverty line is a positive amount",
                      "poverty_line_fen");
  return {};
}

Evaluation evaluate(const EvaluationModel& m, const HouseholdFacts& f) {
  assert(validate(m).ok() && "only a valid model evaluates");
  Evaluation e;
  e.model_version = m.version;
  const std::int64_t members = std::max(1, f.members);
  e.per_capita_income = Money::fen((f.registry_income.fen() + f.platform_net.fen()) / members);
  for (const auto& rule : m.indicators) {
    auto r = judge(rule, f, e.per_capita_income, m.poverty_line_per_person_year);
    e.score += r.points;
    if (r.veto && !r.met && !e.failed_veto) e.failed_veto = r.indicator;
    e.indicators.push_back(std::move(r));
  }
  assert(e.score >= 0 && e.score <= 100);
  e.band = e.score >= m.exit_threshold ? Band::lifted_out
           : e.score >= m.lower_band   ? Band::likely_impoverished
                                       : Band::impoverished;
  // A failed veto keeps the household from "lifted out" whatever it scores.
  if (e.failed_veto && e.band == Band::lifted_out) e.band = Band::likely_impoverished;
  e.exit_eligible = e.score >= m.exit_threshold && !e.failed_veto;
  return e;
}

}  // namespace cunhuo::alleviation
