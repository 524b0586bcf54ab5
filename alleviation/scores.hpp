// Exit scores kept: the evaluation model's versions, and one appended result per
// re-scoring with the model version, the points per indicator, the veto that failed,
// the band and a snapshot of its inputs. Nothing is overwritten. Per-capita income
// combines the registry card's yearly income with the household's net settled platform
// income over the last twelve months (from the ledger's settlement lines).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "alleviation/evaluation.hpp"
#include "core/clock.hpp"
#include "core/db/database.hpp"
#include "core/db/migrations.hpp"

namespace cunhuo::alleviation {

std::span<const db::Migration> score_migrations();

// The newest model of a county (6-digit code): the default, version 1, until its office
// adds one. Each county's office sets its own; no office changes another county's.
Result<EvaluationModel> current_model(db::Session& s, std::string_view county_code);
Result<std::optional<EvaluationModel>> find_model(db::Session& s, int version);
// Stores `model` as the county's next version, with who set it; returns it with its version.
Result<EvaluationModel> add_model(db::Session& tx, EvaluationModel model,
                                  std::string_view county_code, std::string_view actor,
                                  const Clock& clock);
// Who set each of a county's models and when, newest first: the audit of its changes.
struct ModelChange {
  int version = 0;
  std::string actor;
  std::int64_t at_ms = 0;
};
Result<std::vector<ModelChange>> model_history(db::Session& s, std::string_view county_code);

// The model in force for each county, read once per county (a bulk run may span a province).
class CountyModels {
 public:
  Result<const EvaluationModel*> of(db::Session& s, std::string_view village_code);

 private:
  std::map<std::string, EvaluationModel, std::less<>> by_county_;
};
// What a model's JSON may hold.
inline constexpr std::int64_t kMaxModelVersion = 1'000'000;
inline constexpr std::size_t kMaxModelNameBytes = 200;
inline constexpr std::int64_t kMaxPovertyLineFen = 100'000'000;  // a million yuan a person
inline constexpr std::size_t kMaxModelIndicators = 20;
inline constexpr std::size_t kMaxIndicatorNameBytes = 40;
std::string model_json(const EvaluationModel& model);
Result<EvaluationModel> model_from_json(std::string_view text);

struct StoredEvaluation {
  std::int64_t id = 0, household_id = 0, created_at_ms = 0;
  HouseholdFacts inputs;
  Evaluation result;
};

inline constexpr int kRescorePage = 5000;
// Platform income counts the net settled in the year before the evaluation.
inline constexpr std::int64_t kIncomeWindowMs = 365LL * 86'400'000;

// Scores one household now (after its card changed or income settled).
Result<std::optional<StoredEvaluation>> rescore_household(db::Session& tx,
                                                          std::int64_t household_id,
                                                          const Clock& clock);
// Scores every household with a card in `region_code` ("" for the whole store), a page
// at a time; returns how many.
Result<std::int64_t> rescore_all(db::Database& db, std::string_view region_code,
                                 const Clock& clock);
// The newest score and band of each of `household_ids` that was ever scored.
struct Standing {
  int score = 0;
  Band band = Band::impoverished;
};
inline constexpr std::size_t kMaxStandingsPerCall = 1000;
Result<std::map<std::int64_t, Standing>> latest_standings(
    db::Session& s, const std::vector<std::int64_t>& household_ids);

Result<std::vector<StoredEvaluation>> evaluations_of(db::Session& s, std::int64_t household_id,
                                                     int limit);

}  // namespace cunhuo::alleviation
