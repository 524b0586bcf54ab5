#include "alleviation/monitoring.hpp"

#include <spdlog/spdlog.h>

#include "alleviation/scores.hpp"
#include "core/assert.hpp"
#include "core/json.hpp"
#include "core/outbox/outbox.hpp"
#include "core/outbox/payload.hpp"
#include "core/region.hpp"
#include "marketplace/archive.hpp"
#include "payments/settlement.hpp"

namespace cunhuo::alleviation {
namespace {

constexpr db::Migration kMigrations[] = {
    {"alleviation", 3, "monitoring rules, expenses and alerts",
     "CREATE TABLE IF NOT EXISTS monitoring_rules (\n"
     "  id {{ID}},\n"
     "  definition TEXT NOT NULL,\n"
     "  actor VARCHAR(100) NOT NULL,\n"
     "  created_at BIGINT NOT NULL\n"
     ");\n"
     "CREATE TABLE IF NOT EXISTS household_expenses (\n"
     "  id {{ID}},\n"
     "  household_id BIGINT NOT NULL,\n"
     "  kind VARCHAR(12) NOT NULL,\n"
     "  amount_fen BIGINT NOT NULL,\n"
     "  note VARCHAR(500) NOT NULL,\n"
     "  actor VARCHAR(100) NOT NULL,\n"
     "  at BIGINT NOT NULL\n"
     ");\n"
     "CREATE INDEX IF NOT EXISTS household_expenses_household ON household_expenses (household_id, "
     "at);\n"
     "CREATE TABLE IF NOT EXISTS monitoring_alerts (\n"
     "  id {{ID}},\n"
     "  household_id BIGINT NOT NULL,\n"
     "  village_code VARCHAR(12) NOT NULL,\n"
     "  helper_account BIGINT,\n"
     "  rule VARCHAR(24) NOT NULL,\n"
     "  figures VARCHAR(500) NOT NULL,\n"
     "  status VARCHAR(8) NOT NULL,\n"
     "  outcome VARCHAR(20) NOT NULL,\n"
     "  raised_at BIGINT NOT NULL\n"
     ");\n"
     "CREATE INDEX IF NOT EXISTS monitoring_alerts_household ON monitoring_alerts (household_id, "
     "rule, status);\n"
     "CREATE INDEX IF NOT EXISTS monitoring_alerts_village ON monitoring_alerts (village_code, "
     "status);\n"
     "CREATE TABLE IF NOT EXISTS monitoring_alert_history (\n"
     "  id {{ID}},\n"
     "  alert_id BIGINT NOT NULL,\n"
     "  actor VARCHAR(100) NOT NULL,\n"
     "  entry VARCHAR(600) NOT NULL,\n"
     "  at BIGINT NOT NULL\n"
     ");\n"
     "CREATE INDEX IF NOT EXISTS monitoring_alert_history_alert ON monitoring_alert_history "
     "(alert_id, id);\n"},
    // Each county's office sets its own rules; rows from before carry no county.
    {"alleviation", 6, "monitoring rules per county",
     "ALTER TABLE monitoring_rules ADD COLUMN county_code VARCHAR(6) NOT NULL DEFAULT '';\n"
     "CREATE INDEX IF NOT EXISTS monitoring_rules_county ON monitoring_rules (county_code, id);\n"},
    // One row per household and rule that raising an alert writes first (a unique key): two
    // passes raising the same alert at once (a claim taken over while the first still runs,
    // or two Galera nodes) meet on it, and the second then sees the first's alert.
    {"alleviation", 10, "one alert raised at a time per household and rule",
     "CREATE TABLE IF NOT EXISTS monitoring_alert_turns (\n"
     "  household_id BIGINT NOT NULL,\n"
     "  rule VARCHAR(24) NOT NULL,\n"
     "  turns BIGINT NOT NULL,\n"
     "  PRIMARY KEY (household_id, rule)\n"
     ");\n"},
};

constexpr std::int64_t kDayMs = 86'400'000;

Result<Money> platform_income(db::Session& tx, std::int64_t h, std::int64_t from, std::int64_t to) {
  auto m = CUNHUO_TRY(payments::household_net_income(tx, h - 1, h, from, to));
  return m.empty() ? Money() : m.begin()->second;
}

Status history(db::Session& tx, std::int64_t alert, std::string_view actor,
               const std::string& entry, std::int64_t now) {
  CUNHUO_TRY(tx.exec(
      "INSERT INTO monitoring_alert_history (alert_id, actor, entry, at) VALUES (?, ?, ?, ?)",
      {alert, actor, entry.substr(0, 600), now}));
  return {};
}

// One open alert per household and rule: a condition that goes on does not repeat.
Result<std::optional<std::int64_t>> raise(db::Session& tx, const marketplace::HouseholdFacts& h,
                                          const char* rule, const std::string& figures,
                                          const Clock& clock) {
  const std::int64_t now = clock.now_ms();
  // Open, or raised lately and worked to a close: the daily pass does not raise it again
  // while the same condition holds, or a helper's "false alarm" would come back each day.
  const std::string recent =
      "SELECT id FROM monitoring_alerts WHERE household_id = ? AND rule = ? AND (status IN "
      "('open', 'proposed') OR raised_at >= ?)";
  if (CUNHUO_TRY(tx.query_one(recent, {h.id.value, rule, now - kRealertAfterMs})))
    return std::optional<std::int64_t>();
  // About to raise it: take the household's turn for this rule, then look again with a
  // locking read, which sees an alert another pass committed since this one's snapshot.
  CUNHUO_TRY(
      tx.exec(std::string(tx.insert_ignore()) +
                  " INTO monitoring_alert_turns (household_id, rule, turns) VALUES (?, ?, 0)",
              {h.id.value, rule}));
  CUNHUO_TRY(tx.exec(
      "UPDATE monitoring_alert_turns SET turns = turns + 1 WHERE household_id = ? AND rule = ?",
      {h.id.value, rule}));
  const std::string latest = tx.dialect() == db::Dialect::mysql ? " FOR UPDATE" : "";
  if (CUNHUO_TRY(tx.query_one(recent + latest, {h.id.value, rule, now - kRealertAfterMs})))
    return std::optional<std::int64_t>();
  CUNHUO_TRY(
      tx.exec("INSERT INTO monitoring_alerts (household_id, village_code, helper_account, rule, "
              "figures, status, outcome, raised_at) "
              "VALUES (?, ?, ?, ?, ?, 'open', '', ?)",
              {h.id.value, h.village_code, h.helper_account, rule, figures, now}));
  const std::int64_t id = CUNHUO_TRY(tx.last_insert_id());
  CUNHUO_CHECK(history(tx, id, "system", "raised: " + figures, now));
  const AlertRaised raised{.alert_id = id, .household_id = h.id.value, .rule = rule};
  CUNHUO_TRY(outbox::publish(tx, kAlertRaised, raised.encode(), clock));
  spdlog::info("monitoring alert {} for household {}: {}", id, h.id.value, rule);
  return std::optional<std::int64_t>(id);
}

}  // namespace

std::span<const db::Migration> monitoring_migrations() { return kMigrations; }

Result<MonitoringRules> current_rules(db::Session& s, std::string_view county_code) {
  auto row =
      CUNHUO_TRY(s.query_one("SELECT definition FROM monitoring_rules WHERE county_code = ? "
                             "ORDER BY id DESC LIMIT 1",
                             {std::string(county_code)}));
  if (!row) return MonitoringRules{};
  const Json doc = CUNHUO_TRY(Json::parse(row->str(0)));
  MonitoringRules r;
  r.income_projection_bps = static_cast<int>(doc.find("income_projection_bps")->as_integer());
  r.income_drop_bps = static_cast<int>(doc.find("income_drop_bps")->as_integer());
  r.large_expense = Money::fen(doc.find("large_expense_fen")->as_integer());
  r.no_sales_days = static_cast<int>(doc.find("no_sales_days")->as_integer());
  return r;
}

Status set_rules(db::Session& tx, const MonitoringRules& r, std::string_view county_code,
                 std::string_view actor, const Clock& clock) {
  CUNHUO_ASSERT(county_code.size() == 6);
  if (r.income_projection_bps < kMinIncomeProjectionBps ||
      r.income_projection_bps > kMaxIncomeProjectionBps)
    return make_error(ErrorKind::invalid, "out_of_range", "1 to 5 times the line, in basis points",
                      "income_projection_bps");
  if (r.income_drop_bps < kMinIncomeDropBps || r.income_drop_bps > kMaxIncomeDropBps)
    return make_error(ErrorKind::invalid, "out_of_range", "1 % to 100 %", "income_drop_bps");
  if (r.large_expense.fen() <= 0)
    return make_error(ErrorKind::invalid, "out_of_range", "a positive amount", "large_expense_fen");
  if (r.no_sales_days < kMinNoSalesDays || r.no_sales_days > kMaxNoSalesDays)
    return make_error(ErrorKind::invalid, "out_of_range", "7 to 365 days", "no_sales_days");
  JsonWriter w;
  w.begin_object()
      .field("income_projection_bps", r.income_projection_bps)
      .field("income_drop_bps", r.income_drop_bps);
  w.field("large_expense_fen", r.large_expense.fen())
      .field("no_sales_days", r.no_sales_days)
      .end_object();
  CUNHUO_TRY(
      tx.exec("INSERT INTO monitoring_rules (definition, actor, created_at, county_code) VALUES "
              "(?, ?, ?, ?)",
              {w.take(), actor, clock.now_ms(), std::string(county_code)}));
  spdlog::info("monitoring rules set for county {} by {}", county_code, actor);
  return {};
}

Status record_expense(db::Session& tx, std::int64_t household_id, std::string_view kind,
                      Money amount, std::string_view note, std::string_view actor,
                      const Clock& clock) {
  if (kind != "medical" && kind != "disaster")
    return make_error(ErrorKind::invalid, "invalid_kind", "medical or disaster", "kind");
  if (amount.fen() <= 0 || amount.fen() > kMaxExpenseFen)
    return make_error(ErrorKind::invalid, "out_of_range", "a positive amount", "amount_fen");
  if (note.size() > kMaxNoteBytes)
    return make_error(ErrorKind::invalid, "invalid_length", "a note is up to 500 bytes", "note");
  CUNHUO_TRY(
      tx.exec("INSERT INTO household_expenses (household_id, kind, amount_fen, note, actor, at) "
              "VALUES (?, ?, ?, ?, ?, ?)",
              {household_id, kind, amount.fen(), note, actor, clock.now_ms()}));
  return {};
}

Result<std::vector<std::int64_t>> monitor_household(db::Session& tx, std::int64_t household_id,
                                                    const Clock& clock) {
  std::vector<std::int64_t> opened;
  const auto now = clock.now_ms();
  auto page = CUNHUO_TRY(
      marketplace::household_facts(tx, "", household_id - 1, 1, shanghai_date(now).year));
  if (page.empty() || page.front().id.value != household_id) return opened;
  const auto& h = page.front();
  if (h.status != marketplace::PovertyStatus::exited &&
      h.status != marketplace::PovertyStatus::at_risk)
    return opened;
  const auto rules = CUNHUO_TRY(current_rules(tx, county_of(h.village_code)));
  const auto model = CUNHUO_TRY(current_model(tx, county_of(h.village_code)));
  auto add = [&](std::optional<std::int64_t> id) {
    if (id) opened.push_back(*id);
  };
  // Income of the last three months, projected over the year, per person.
  const Money recent = CUNHUO_TRY(platform_income(tx, household_id, now - 90 * kDayMs, now));
  const Money projected =
      Money::fen((h.card_income.fen() + recent.fen() * 4) / std::max(1, h.members));
  const Money floor =
      Money::fen(model.poverty_line_per_person_year.fen() * rules.income_projection_bps / 10000);
  if (projected < floor)
    add(CUNHUO_TRY(raise(
        tx, h, "income_projection",
        "projected per-capita income " + projected.to_yuan() + " yuan, below " + floor.to_yuan(),
        clock)));
  // Platform income against the same three months a year ago.
  const Money year_ago =
      CUNHUO_TRY(platform_income(tx, household_id, now - 455 * kDayMs, now - 365 * kDayMs));
  if (year_ago.fen() > 0 && recent.fen() * 10000 < year_ago.fen() * (10000 - rules.income_drop_bps))
    add(CUNHUO_TRY(raise(tx, h, "income_drop",
                         "platform income " + recent.to_yuan() + " yuan in three months against " +
                             year_ago.to_yuan() + " a year ago",
                         clock)));
  // A large expense in the last three months.
  auto expense =
      CUNHUO_TRY(tx.query_one("SELECT COALESCE(SUM(amount_fen), 0) FROM household_expenses WHERE "
                              "household_id = ? AND at >= ?",
                              {household_id, now - 90 * kDayMs}));
  if (expense->i64(0) >= rules.large_expense.fen())
    add(CUNHUO_TRY(raise(tx, h, "large_expense",
                         "medical or disaster expenses of " +
                             Money::fen(expense->i64(0)).to_yuan() + " yuan in three months",
                         clock)));
  // A household that sold on the platform last year and has sold nothing lately.
  const Money last_year = CUNHUO_TRY(platform_income(tx, household_id, now - 365 * kDayMs, now));
  const Money lately =
      CUNHUO_TRY(platform_income(tx, household_id, now - rules.no_sales_days * kDayMs, now));
  if (last_year.fen() * 3 > h.card_income.fen() + last_year.fen() && lately.fen() == 0)
    add(CUNHUO_TRY(raise(tx, h, "no_sales",
                         "no platform sales in " + std::to_string(rules.no_sales_days) + " days; " +
                             last_year.to_yuan() + " yuan in the year",
                         clock)));
  return opened;
}

Result<std::int64_t> monitor_all(db::Database& db, std::string_view region_code,
                                 const Clock& clock) {
  struct Page {
    std::int64_t last = 0, households = 0, opened = 0;
  };
  std::int64_t opened = 0;
  for (Page page;;) {
    // A retried transaction starts its page again, so the counts live inside it.
    page = CUNHUO_TRY(db.write([&, after = page.last](db::Session& tx) -> Result<Page> {
      Page p{after, 0, 0};
      const int year = shanghai_date(clock.now_ms()).year;
      for (const auto& h :
           CUNHUO_TRY(marketplace::household_facts(tx, region_code, after, kMonitorPage, year))) {
        p.last = h.id.value;
        ++p.households;
        if (h.status != marketplace::PovertyStatus::exited &&
            h.status != marketplace::PovertyStatus::at_risk)
          continue;
        p.opened +=
            static_cast<std::int64_t>(CUNHUO_TRY(monitor_household(tx, h.id.value, clock)).size());
      }
      return p;
    }));
    opened += page.opened;
    if (page.households < kMonitorPage) break;
  }
  return opened;
}

Result<std::set<std::int64_t>> households_at_risk(db::Session& s,
                                                  const std::vector<std::int64_t>& household_ids) {
  CUNHUO_ASSERT(household_ids.size() <= kMaxRiskPerCall);
  std::set<std::int64_t> out;
  if (household_ids.empty()) return out;
  std::vector<db::Value> params(household_ids.begin(), household_ids.end());
  for (const auto& r : CUNHUO_TRY(s.query_with(
           "SELECT DISTINCT household_id FROM monitoring_alerts WHERE status = 'open' AND "
           "household_id IN (" +
               db::placeholders(household_ids.size()) + ")",
           params)))
    out.insert(r.i64(0));
  return out;
}

Result<std::optional<Alert>> find_alert(db::Session& s, std::int64_t id) {
  auto r =
      CUNHUO_TRY(s.query_one("SELECT id, household_id, rule, figures, status, outcome, "
                             "helper_account, village_code, raised_at "
                             "FROM monitoring_alerts WHERE id = ?",
                             {id}));
  if (!r) return std::optional<Alert>();
  Alert a{r->i64(0), r->i64(1),     r->str(2), r->str(3), r->str(4),
          r->str(5), r->opt_i64(6), r->str(7), r->i64(8), {}};
  for (const auto& h : CUNHUO_TRY(s.query(
           "SELECT at, actor, entry FROM monitoring_alert_history WHERE alert_id = ? ORDER BY id",
           {id})))
    a.history.push_back(format_shanghai(h.i64(0)) + " " + h.str(1) + " " + h.str(2));
  return std::optional<Alert>(std::move(a));
}

Result<std::vector<Alert>> alerts_for(db::Session& s, std::string_view region_code,
                                      std::optional<std::int64_t> helper_account,
                                      std::string_view status,
                                      std::optional<std::int64_t> before_id, std::int64_t limit) {
  CUNHUO_ASSERT(limit >= 1 && limit <= kMaxAlertsPerCall + 1);
  std::vector<Alert> out;
  const std::int64_t before = before_id.value_or(INT64_MAX);
  const auto rows =
      helper_account
          ? CUNHUO_TRY(s.query("SELECT id FROM monitoring_alerts WHERE helper_account = ? AND "
                               "status = ? AND id < ? ORDER BY id DESC LIMIT ?",
                               {*helper_account, status, before, limit}))
          : CUNHUO_TRY(s.query("SELECT id FROM monitoring_alerts WHERE village_code LIKE ? AND "
                               "status = ? AND id < ? ORDER BY id DESC LIMIT ?",
                               {std::string(region_code) + "%", status, before, limit}));
  for (const auto& r : rows) out.push_back(std::move(*CUNHUO_TRY(find_alert(s, r.i64(0)))));
  return out;
}

namespace {

Status mark_returned(db::Session& tx, const Alert& a, std::string_view actor, std::string_view note,
                     const Clock& clock) {
  return marketplace::set_household_status(
      tx, marketplace::HouseholdId{a.household_id}, marketplace::PovertyStatus::returned_to_poverty,
      actor, "monitoring alert " + std::to_string(a.id) + ": " + std::string(note), clock);
}

}  // namespace

Result<Alert> close_alert(db::Session& tx, std::int64_t id, std::string_view outcome,
                          std::string_view note, std::string_view actor, AlertCloser closer,
                          const Clock& clock) {
  if (outcome != "help_given" && outcome != "status_changed" && outcome != "false_alarm")
    return make_error(ErrorKind::invalid, "invalid_outcome",
                      "help_given, status_changed or false_alarm", "outcome");
  if (note.empty() || note.size() > kMaxNoteBytes)
    return make_error(ErrorKind::invalid, "missing_field", "say what was done (1 to 500 bytes)",
                      "note");
  auto a = CUNHUO_TRY(find_alert(tx, id));
  if (!a) return make_error(ErrorKind::not_found, "not_found", "no such alert", "id");
  if (a->status != "open")
    return make_error(ErrorKind::conflict, "already_closed", "this alert was closed", "id");
  const auto now = clock.now_ms();
  // A helper sees the household; the office decides its official status.
  if (outcome == "status_changed" && closer == AlertCloser::helper) {
    CUNHUO_TRY(
        tx.exec("UPDATE monitoring_alerts SET status = 'proposed', outcome = ? WHERE id = ? AND "
                "status = 'open'",
                {outcome, id}));
    CUNHUO_CHECK(
        history(tx, id, actor, "proposed: returned to poverty — " + std::string(note), now));
    return std::move(*CUNHUO_TRY(find_alert(tx, id)));
  }
  CUNHUO_TRY(tx.exec("UPDATE monitoring_alerts SET status = 'closed', outcome = ? WHERE id = ?",
                     {outcome, id}));
  CUNHUO_CHECK(
      history(tx, id, actor, "closed: " + std::string(outcome) + " — " + std::string(note), now));
  if (outcome == "status_changed") CUNHUO_CHECK(mark_returned(tx, *a, actor, note, clock));
  return std::move(*CUNHUO_TRY(find_alert(tx, id)));
}

Result<Alert> decide_status_change(db::Session& tx, std::int64_t id, bool approve,
                                   std::string_view reason, std::string_view actor,
                                   const Clock& clock) {
  if (reason.empty() || reason.size() > kMaxNoteBytes)
    return make_error(ErrorKind::invalid, "missing_field", "give the reason (1 to 500 bytes)",
                      "reason");
  auto a = CUNHUO_TRY(find_alert(tx, id));
  if (!a) return make_error(ErrorKind::not_found, "not_found", "no such alert", "id");
  if (a->status != "proposed")
    return make_error(ErrorKind::conflict, "nothing_proposed",
                      "no status change is proposed on this alert", "id");
  const auto now = clock.now_ms();
  // Conditional: of two decisions at once, one moves the alert and the other finds it moved.
  auto moved = CUNHUO_TRY(tx.exec(
      "UPDATE monitoring_alerts SET status = ?, outcome = ? WHERE id = ? AND status = 'proposed'",
      {approve ? "closed" : "open", approve ? "status_changed" : "", id}));
  if (moved.affected_rows != 1)
    return make_error(ErrorKind::conflict, "nothing_proposed",
                      "no status change is proposed on this alert", "id");
  CUNHUO_CHECK(
      history(tx, id, actor,
              std::string(approve ? "status change approved — " : "status change refused — ") +
                  std::string(reason),
              now));
  if (approve) CUNHUO_CHECK(mark_returned(tx, *a, actor, reason, clock));
  return std::move(*CUNHUO_TRY(find_alert(tx, id)));
}

std::string AlertRaised::encode() const {
  JsonWriter w;
  w.begin_object().field("alert_id", alert_id).field("household_id", household_id);
  w.field("rule", rule).end_object();
  return w.take();
}

Result<AlertRaised> AlertRaised::decode(std::string_view payload) {
  const auto p = CUNHUO_TRY(outbox::PayloadReader::parse("AlertRaised", payload));
  return AlertRaised{.alert_id = CUNHUO_TRY(p.integer("alert_id")),
                     .household_id = CUNHUO_TRY(p.integer("household_id")),
                     .rule = CUNHUO_TRY(p.string("rule"))};
}

}  // namespace cunhuo::alleviation
