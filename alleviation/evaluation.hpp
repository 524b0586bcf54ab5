// Exit evaluation, the Gansu practice (../shared/papers/smart-tpa-gansu.md): six weighted
// indicators; a household may exit only at a weighted score of 80 or more, and per-capita
// income and safe housing are one-vote vetoes (either unmet keeps it from exiting
// whatever else it scores). Bands follow Guizhou: below 60 impoverished, 60 to 80 likely
// impoverished, 80 and above lifted out. Models are versioned: a new version never
// changes a result computed under an old one.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/money.hpp"
#include "core/result.hpp"

namespace cunhuo::alleviation {

enum class Indicator {
  income,
  housing,
  drinking_water,
  compulsory_education,
  medical_insurance,
  stable_income_source
};
std::string_view to_string(Indicator indicator);
Result<Indicator> parse_indicator(std::string_view text);

enum class Band { impoverished, likely_impoverished, lifted_out };
std::string_view to_string(Band band);
Result<Band> parse_band(std::string_view text);  // invalid_band

// A score, a weight and a threshold are points out of this.
inline constexpr int kMaxPoints = 100;

struct IndicatorRule {
  Indicator indicator = Indicator::income;
  int weight = 0;     // points out of 100
  bool veto = false;  // unmet: no exit whatever the score
};

struct EvaluationModel {
  int version = 1;
  std::string name;
  std::vector<IndicatorRule> indicators;
  int exit_threshold = 80;
  int lower_band = 60;                 // below: impoverished
  Money poverty_line_per_person_year;  // per-capita disposable income line
  bool sample_values = true;           // weights and line are illustrations, not policy
};

// The default: Gansu's six indicators with sample weights and a sample line.
EvaluationModel default_model();
// Weights add up to 100, each indicator once, thresholds in order.
Status validate(const EvaluationModel& model);

// What the evaluation reads about one household for one period.
struct HouseholdFacts {
  int members = 1;
  Money registry_income;  // the card's yearly income: wages, own business, property, transfers
  Money platform_net;     // net settled platform income over the last twelve months
  bool housing_safe = false;
  bool water_safe = false;
  int school_age_out_of_school = 0;  // members aged 6 to 15 not in school
  int members_uninsured = 0;
  bool stable_income_source = false;  // wages, a business or platform sales
};

struct IndicatorResult {
  Indicator indicator = Indicator::income;
  int weight = 0;
  bool veto = false, met = false;
  int points = 0;      // weight when met, 0 otherwise
  std::string inputs;  // what was compared, for "why"
};

struct Evaluation {
  int model_version = 0;
  int score = 0;  // the sum of the points
  Band band = Band::impoverished;
  std::optional<Indicator> failed_veto;
  bool exit_eligible = false;  // score at the threshold and no veto failed
  Money per_capita_income;
  std::vector<IndicatorResult> indicators;
};

Evaluation evaluate(const EvaluationModel& model, const HouseholdFacts& facts);

}  // namespace cunhuo::alleviation
