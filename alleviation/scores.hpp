// Exit scores kept: the evaluation model's versions, and one appended result per
// re-scoring with the model version, the points per indicator, the veto that failed,
// the band and a snapshot of its inputs. Nothing is overwritten. Per-capita income
// combines the registry card's yearly income with the household's net settled platform
// income over the last twelve months (from the ledger's settlement lines).
#pragma once

#include <cstdint>
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

// The newest model (the default, version 1, until the office adds one).
Result<EvaluationModel> current_model(db::Session& s);
Result<std::optional<EvaluationModel>> find_model(db::Session& s, int version);
// Stores `model` as the next version; returns it with its version.
Result<EvaluationModel> add_model(db::Session& tx, EvaluationModel model, const Clock& clock);
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
Result<std::optional<StoredEvaluation>> rescore_household(db::Session& tx, std::int64_t household_id, const Clock& clock);
// Scores every household with a card in `region_code` ("" for the whole store), a page
// at a time; returns how many.
Result<std::int64_t> rescore_all(db::Database& db, std::string_view region_code, const Clock& clock);
Result<std::vector<StoredEvaluation>> evaluations_of(db::Session& s, std::int64_t household_id, int limit);

}  // namespace cunhuo::alleviation
