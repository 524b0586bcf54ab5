#include "alleviation/scores.hpp"

#include <algorithm>
#include <cassert>
#include <set>
#include <span>

#include <spdlog/spdlog.h>

#include "alleviation/exits.hpp"
#include "core/assert.hpp"
#include "core/json.hpp"
#include "core/region.hpp"
#include "marketplace/archive.hpp"
#include "payments/settlement.hpp"

namespace cunhuo::alleviation {
namespace {

constexpr db::Migration kMigrations[] = {
    {"alleviation", 1, "evaluation models and exit scores",
     "CREATE TABLE IF NOT EXISTS evaluation_models (\n"
     "  version INTEGER NOT NULL PRIMARY KEY,\n"
     "  definition TEXT NOT NULL,\n"
     "  created_at BIGINT NOT NULL\n"
     ");\n"
     "CREATE TABLE IF NOT EXISTS evaluations (\n"
     "  id {{ID}},\n"
     "  household_id BIGINT NOT NULL,\n"
     "  model_version INTEGER NOT NULL,\n"
     "  score INTEGER NOT NULL,\n"
     "  band VARCHAR(24) NOT NULL,\n"
     "  exit_eligible INTEGER NOT NULL,\n"
     "  failed_veto VARCHAR(24),\n"
     "  met_mask INTEGER NOT NULL,\n"
     "  per_capita_fen BIGINT NOT NULL,\n"
     "  members INTEGER NOT NULL,\n"
     "  card_income_fen BIGINT NOT NULL,\n"
     "  platform_net_fen BIGINT NOT NULL,\n"
     "  housing_safe INTEGER NOT NULL,\n"
     "  water_safe INTEGER NOT NULL,\n"
     "  out_of_school INTEGER NOT NULL,\n"
     "  uninsured INTEGER NOT NULL,\n"
     "  stable_source INTEGER NOT NULL,\n"
     "  created_at BIGINT NOT NULL\n"
     ");\n"
     "CREATE INDEX IF NOT EXISTS evaluations_household ON evaluations (household_id, id);\n"},
    // Each county's office sets its own model; versions stay one sequence so an evaluation
    // names its model by version alone. Rows from before carry no county: no county uses them.
    {"alleviation", 5, "evaluation models per county, with who set them",
     "ALTER TABLE evaluation_models ADD COLUMN county_code VARCHAR(6) NOT NULL DEFAULT '';\n"
     "ALTER TABLE evaluation_models ADD COLUMN actor VARCHAR(100) NOT NULL DEFAULT '';\n"
     "CREATE INDEX IF NOT EXISTS evaluation_models_county ON evaluation_models (county_code, "
     "version);\n"},
};

constexpr std::int64_t kYearMs = kIncomeWindowMs;
static_assert(kRescorePage <= static_cast<int>(kMaxProposalsPerBatch),
              "a page of proposals fits one batch");
constexpr std::size_t kMaxIdsPerQuery = 500;

HouseholdFacts facts_of(const marketplace::HouseholdFacts& h, Money platform_net) {
  HouseholdFacts f;
  f.members = h.members;
  f.registry_income = h.card_income;
  f.platform_net = platform_net;
  f.housing_safe = h.housing_safe;
  f.water_safe = h.water_safe;
  f.school_age_out_of_school = h.school_age_out_of_school;
  f.members_uninsured = h.uninsured;
  f.stable_income_source = h.wages_or_business || platform_net.fen() > 0;
  return f;
}

int met_mask(const Evaluation& e) {
  int mask = 0;
  for (std::size_t i = 0; i < e.indicators.size(); ++i)
    if (e.indicators[i].met) mask |= 1 << i;
  return mask;
}

constexpr std::size_t kEvaluationColumns = 17;
constexpr std::size_t kEvaluationsPerStatement = 100;

// Results to store, as statement parameters, a row of kEvaluationColumns each.
struct EvaluationRows {
  std::vector<db::Value> values;
  std::size_t count() const { return values.size() / kEvaluationColumns; }
  void add(std::int64_t household, const HouseholdFacts& f, const Evaluation& e, std::int64_t now) {
    values.insert(
        values.end(),
        {household, e.model_version, e.score, to_string(e.band), e.exit_eligible ? 1 : 0,
         e.failed_veto ? db::Value(to_string(*e.failed_veto)) : db::Value(), met_mask(e),
         e.per_capita_income.fen(), f.members, f.registry_income.fen(), f.platform_net.fen(),
         f.housing_safe ? 1 : 0, f.water_safe ? 1 : 0, f.school_age_out_of_school,
         f.members_uninsured, f.stable_income_source ? 1 : 0, now});
    assert(values.size() % kEvaluationColumns == 0);
  }
};

// Appends every result, a hundred rows a statement: a page of a county's re-scoring
// costs fifty statements, not five thousand.
Status store(db::Session& tx, const EvaluationRows& rows) {
  const std::string head =
      "INSERT INTO evaluations (household_id, model_version, score, band, exit_eligible, "
      "failed_veto, met_mask, per_capita_fen, "
      "members, card_income_fen, platform_net_fen, housing_safe, water_safe, out_of_school, "
      "uninsured, stable_source, created_at) VALUES ";
  const std::string row = "(" + db::placeholders(kEvaluationColumns) + ")";
  const std::string full = head + db::row_list(row, kEvaluationsPerStatement);
  for (std::size_t at = 0; at < rows.count(); at += kEvaluationsPerStatement) {
    const std::size_t n = std::min(kEvaluationsPerStatement, rows.count() - at);
    const std::span<const db::Value> part(rows.values.data() + at * kEvaluationColumns,
                                          n * kEvaluationColumns);
    CUNHUO_TRY(
        tx.exec_with(n == kEvaluationsPerStatement ? full : head + db::row_list(row, n), part));
  }
  return {};
}

// The newest result of each household, for the proposals that cite it.
Result<std::vector<Eligible>> newest_evaluations(db::Session& tx,
                                                 const std::vector<db::Value>& households) {
  std::vector<Eligible> out;
  for (std::size_t at = 0; at < households.size(); at += kMaxIdsPerQuery) {
    const std::size_t n = std::min(kMaxIdsPerQuery, households.size() - at);
    for (const auto& r : CUNHUO_TRY(tx.query_with(
             "SELECT household_id, MAX(id) FROM evaluations WHERE household_id IN (" +
                 db::placeholders(n) + ") GROUP BY household_id ORDER BY household_id",
             std::span<const db::Value>(households.data() + at, n))))
      out.push_back(Eligible{r.i64(0), r.i64(1)});
  }
  return out;
}

// One page: facts and incomes read, scored, stored in one transaction.
Result<std::int64_t> rescore_page(db::Session& tx, CountyModels& models, std::string_view region,
                                  std::int64_t after, const Clock& clock, std::int64_t now,
                                  int& count) {
  const int year = shanghai_date(now).year;
  const auto page = CUNHUO_TRY(marketplace::household_facts(tx, region, after, kRescorePage, year));
  count = static_cast<int>(page.size());
  if (page.empty()) return after;
  const auto income = CUNHUO_TRY(
      payments::household_net_income(tx, after, page.back().id.value, now - kYearMs, now));
  // Households already under an exit proposal are not proposed twice.
  std::set<std::int64_t> open;
  for (const auto& r : CUNHUO_TRY(tx.query(
           "SELECT household_id FROM exit_proposals WHERE household_id > ? AND household_id <= ? "
           "AND status NOT IN ('exited', 'rejected')",
           {after, page.back().id.value})))
    open.insert(r.i64(0));
  EvaluationRows rows;
  std::vector<db::Value> eligible;
  for (const auto& h : page) {
    auto it = income.find(h.id.value);
    const HouseholdFacts f = facts_of(h, it == income.end() ? Money() : it->second);
    const Evaluation e = evaluate(*CUNHUO_TRY(models.of(tx, h.village_code)), f);
    rows.add(h.id.value, f, e, now);
    const bool may_propose = h.status == marketplace::PovertyStatus::registered_poor ||
                             h.status == marketplace::PovertyStatus::returned_to_poverty ||
                             h.status == marketplace::PovertyStatus::at_risk;
    if (e.exit_eligible && may_propose && !open.contains(h.id.value))
      eligible.emplace_back(h.id.value);
  }
  CUNHUO_CHECK(store(tx, rows));
  CUNHUO_CHECK(propose_exits(tx, CUNHUO_TRY(newest_evaluations(tx, eligible)), clock));
  return page.back().id.value;
}

}  // namespace

std::span<const db::Migration> score_migrations() { return kMigrations; }

std::string model_json(const EvaluationModel& m) {
  JsonWriter w;
  w.begin_object()
      .field("version", m.version)
      .field("name", m.name)
      .field("exit_threshold", m.exit_threshold);
  w.field("lower_band", m.lower_band)
      .field("poverty_line_fen", m.poverty_line_per_person_year.fen())
      .field("sample_values", m.sample_values);
  w.key("indicators").begin_array();
  for (const auto& r : m.indicators)
    w.begin_object()
        .field("indicator", to_string(r.indicator))
        .field("weight", r.weight)
        .field("veto", r.veto)
        .end_object();
  w.end_array().end_object();
  return w.take();
}

Result<EvaluationModel> model_from_json(std::string_view text) {
  const Json doc = CUNHUO_TRY(Json::parse(text));
  auto body = CUNHUO_TRY(FieldReader::root(doc));
  CUNHUO_CHECK(body.only({"version", "name", "exit_threshold", "lower_band", "poverty_line_fen",
                          "sample_values", "indicators"}));
  EvaluationModel m;
  const auto version = CUNHUO_TRY(body.optional_integer("version", 1, kMaxModelVersion));
  m.version = static_cast<int>(version.value_or(0));
  m.name = CUNHUO_TRY(body.string("name", kMaxModelNameBytes));
  const auto threshold = CUNHUO_TRY(body.optional_integer("exit_threshold", 0, kMaxPoints));
  m.exit_threshold = static_cast<int>(threshold.value_or(80));
  m.lower_band =
      static_cast<int>(CUNHUO_TRY(body.optional_integer("lower_band", 0, kMaxPoints)).value_or(60));
  m.poverty_line_per_person_year =
      Money::fen(CUNHUO_TRY(body.integer("poverty_line_fen", 1, kMaxPovertyLineFen)));
  m.sample_values = CUNHUO_TRY(body.optional_boolean("sample_values")).value_or(false);
  for (const auto& item : CUNHUO_TRY(body.objects("indicators", kMaxModelIndicators))) {
    CUNHUO_CHECK(item.only({"indicator", "weight", "veto"}));
    const std::string name = CUNHUO_TRY(item.string("indicator", kMaxIndicatorNameBytes));
    m.indicators.push_back(
        IndicatorRule{CUNHUO_TRY(parse_indicator(name)),
                      static_cast<int>(CUNHUO_TRY(item.integer("weight", -1000, 1000))),
                      CUNHUO_TRY(item.optional_boolean("veto")).value_or(false)});
  }
  CUNHUO_CHECK(validate(m));
  return m;
}

Result<std::optional<EvaluationModel>> find_model(db::Session& s, int version) {
  if (version == 1) {
    auto row =
        CUNHUO_TRY(s.query_one("SELECT definition FROM evaluation_models WHERE version = 1"));
    if (!row) return std::optional<EvaluationModel>(default_model());  // the default needs no row
  }
  auto row = CUNHUO_TRY(
      s.query_one("SELECT definition FROM evaluation_models WHERE version = ?", {version}));
  if (!row) return std::optional<EvaluationModel>();
  return std::optional<EvaluationModel>(CUNHUO_TRY(model_from_json(row->str(0))));
}

Result<EvaluationModel> current_model(db::Session& s, std::string_view county_code) {
  auto row =
      CUNHUO_TRY(s.query_one("SELECT definition FROM evaluation_models WHERE county_code = ? "
                             "ORDER BY version DESC LIMIT 1",
                             {std::string(county_code)}));
  if (!row) return default_model();
  return model_from_json(row->str(0));
}

Result<EvaluationModel> add_model(db::Session& tx, EvaluationModel model,
                                  std::string_view county_code, std::string_view actor,
                                  const Clock& clock) {
  CUNHUO_ASSERT(county_code.size() == 6);
  CUNHUO_CHECK(validate(model));
  auto last = CUNHUO_TRY(tx.query_one("SELECT MAX(version) FROM evaluation_models"));
  model.version =
      std::max<int>(1, static_cast<int>(last && !last->is_null(0) ? last->i64(0) : 1)) + 1;
  CUNHUO_TRY(
      tx.exec("INSERT INTO evaluation_models (version, definition, created_at, county_code, actor) "
              "VALUES (?, ?, ?, ?, ?)",
              {model.version, model_json(model), clock.now_ms(), std::string(county_code),
               std::string(actor)}));
  spdlog::info("evaluation model {} set for county {} by {}", model.version, county_code, actor);
  return model;
}

Result<std::vector<ModelChange>> model_history(db::Session& s, std::string_view county_code) {
  std::vector<ModelChange> out;
  for (const auto& r :
       CUNHUO_TRY(s.query("SELECT version, actor, created_at FROM evaluation_models "
                          "WHERE county_code = ? ORDER BY version DESC",
                          {std::string(county_code)})))
    out.push_back(
        ModelChange{.version = static_cast<int>(r.i64(0)), .actor = r.str(1), .at_ms = r.i64(2)});
  return out;
}

Result<const EvaluationModel*> CountyModels::of(db::Session& s, std::string_view village_code) {
  const std::string county = county_of(village_code);
  auto it = by_county_.find(county);
  if (it == by_county_.end())
    it = by_county_.emplace(county, CUNHUO_TRY(current_model(s, county))).first;
  return &it->second;
}

Result<std::optional<StoredEvaluation>> rescore_household(db::Session& tx,
                                                          std::int64_t household_id,
                                                          const Clock& clock) {
  const auto now = clock.now_ms();
  const auto page = CUNHUO_TRY(
      marketplace::household_facts(tx, "", household_id - 1, 1, shanghai_date(now).year));
  if (page.empty() || page.front().id.value != household_id)
    return std::optional<StoredEvaluation>();
  const auto model = CUNHUO_TRY(current_model(tx, county_of(page.front().village_code)));
  const auto income = CUNHUO_TRY(
      payments::household_net_income(tx, household_id - 1, household_id, now - kYearMs, now));
  const HouseholdFacts f =
      facts_of(page.front(), income.empty() ? Money() : income.begin()->second);
  const Evaluation e = evaluate(model, f);
  EvaluationRows row;
  row.add(household_id, f, e, now);
  CUNHUO_CHECK(store(tx, row));
  const std::int64_t id = CUNHUO_TRY(tx.last_insert_id());
  if (e.exit_eligible) CUNHUO_TRY(propose_exit(tx, household_id, id, clock));
  return std::optional<StoredEvaluation>(StoredEvaluation{id, household_id, now, f, e});
}

Result<std::int64_t> rescore_all(db::Database& db, std::string_view region_code,
                                 const Clock& clock) {
  CountyModels models;  // read once per county for the whole run, so every page scores alike
  const auto now = clock.now_ms();
  std::int64_t after = 0, total = 0;
  for (;;) {
    int count = 0;
    after = CUNHUO_TRY(db.write([&](db::Session& tx) {
      return rescore_page(tx, models, region_code, after, clock, now, count);
    }));
    total += count;
    if (count < kRescorePage) return total;
  }
}

Result<std::map<std::int64_t, Standing>> latest_standings(
    db::Session& s, const std::vector<std::int64_t>& household_ids) {
  CUNHUO_ASSERT(household_ids.size() <= kMaxStandingsPerCall);
  std::map<std::int64_t, Standing> out;
  if (household_ids.empty()) return out;
  std::vector<db::Value> params(household_ids.begin(), household_ids.end());
  for (const auto& r : CUNHUO_TRY(
           s.query_with("SELECT e.household_id, e.score, e.band FROM evaluations e WHERE e.id IN "
                        "(SELECT MAX(id) FROM evaluations WHERE household_id IN (" +
                            db::placeholders(household_ids.size()) + ") GROUP BY household_id)",
                        params))) {
    auto band = CUNHUO_TRY(parse_band(r.str(2)));
    out[r.i64(0)] = Standing{.score = static_cast<int>(r.i64(1)), .band = band};
  }
  return out;
}

Result<std::vector<StoredEvaluation>> evaluations_of(db::Session& s, std::int64_t household_id,
                                                     int limit) {
  std::vector<StoredEvaluation> out;
  for (const auto& r :
       CUNHUO_TRY(s.query("SELECT id, model_version, created_at, members, card_income_fen, "
                          "platform_net_fen, housing_safe, water_safe, "
                          "out_of_school, uninsured, stable_source FROM evaluations WHERE "
                          "household_id = ? ORDER BY id DESC LIMIT ?",
                          {household_id, limit}))) {
    StoredEvaluation e;
    e.id = r.i64(0);
    e.household_id = household_id;
    e.created_at_ms = r.i64(2);
    e.inputs = HouseholdFacts{static_cast<int>(r.i64(3)),
                              Money::fen(r.i64(4)),
                              Money::fen(r.i64(5)),
                              r.i64(6) != 0,
                              r.i64(7) != 0,
                              static_cast<int>(r.i64(8)),
                              static_cast<int>(r.i64(9)),
                              r.i64(10) != 0};
    // The stored inputs under the stored model version give back the result exactly.
    auto model = CUNHUO_TRY(find_model(s, static_cast<int>(r.i64(1))));
    if (!model)
      return make_error(ErrorKind::internal, "missing_model",
                        "evaluation " + std::to_string(e.id) + " names an unknown model");
    e.result = evaluate(*model, e.inputs);
    out.push_back(std::move(e));
  }
  return out;
}

}  // namespace cunhuo::alleviation
