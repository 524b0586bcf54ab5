// Dynamic monitoring against return to poverty. For exited and at-risk households the
// office's rules raise alerts: per-capita income of the last three months, projected
// over a year, below a multiple of the line; platform income down against the same
// months last year; a large medical or disaster expense recorded; no platform sales for
// a household whose income depends on them. An alert names the household, the rule and
// the figures, goes to the assigned helper and the township, and is worked to a close
// (help given, status changed, false alarm) with its history kept. Closing with
// "status changed" re-enrols the household as returned to poverty.
#pragma once

#include <cstdint>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <vector>

#include "core/clock.hpp"
#include "core/db/database.hpp"
#include "core/db/migrations.hpp"
#include "core/money.hpp"

namespace cunhuo::alleviation {

struct MonitoringRules {
  int income_projection_bps = 15000;  // alert below 1.5 times the line
  int income_drop_bps = 3000;         // alert when platform income falls by more than 30 %
  Money large_expense = Money::fen(2'000'000);  // a 20,000-yuan medical or disaster expense
  int no_sales_days = 60;                       // ... for a household that sells on the platform
};

struct Alert {
  std::int64_t id = 0, household_id = 0;
  std::string rule, figures, status, outcome;  // status: open, closed
  std::optional<std::int64_t> helper_account;
  std::string village_code;
  std::int64_t raised_at_ms = 0;
  std::vector<std::string> history;  // "2026-11-25T10:00:00+08:00 account:7 closed: help given — …"
};

// What a county's rules may say.
inline constexpr int kMinIncomeProjectionBps = 10'000, kMaxIncomeProjectionBps = 50'000;
inline constexpr int kMinIncomeDropBps = 100, kMaxIncomeDropBps = 10'000;
inline constexpr int kMinNoSalesDays = 7, kMaxNoSalesDays = 365;
// The largest expense one record takes: 100 million yuan.
inline constexpr std::int64_t kMaxExpenseFen = 10'000'000'000;
// A note or reason kept with an expense or in an alert's history.
inline constexpr std::size_t kMaxNoteBytes = 500;

std::span<const db::Migration> monitoring_migrations();

// A county's rules (6-digit code; the defaults until its office sets them), and setting
// them, logged with who did.
Result<MonitoringRules> current_rules(db::Session& s, std::string_view county_code);
Status set_rules(db::Session& tx, const MonitoringRules& rules, std::string_view county_code,
                 std::string_view actor, const Clock& clock);

// A large expense on the household (medical, disaster); monitoring looks at it next.
Status record_expense(db::Session& tx, std::int64_t household_id, std::string_view kind,
                      Money amount, std::string_view note, std::string_view actor,
                      const Clock& clock);
// Checks one household against the rules; returns the alerts it opened.
Result<std::vector<std::int64_t>> monitor_household(db::Session& tx, std::int64_t household_id,
                                                    const Clock& clock);

inline constexpr int kMonitorPage = 500;
// A rule raised for a household is not raised for it again within this time.
inline constexpr std::int64_t kRealertAfterMs = 30LL * 24 * 3600 * 1000;
// The daily pass: every exited and at-risk household of `region_code` ("" for all),
// a page per transaction; returns how many alerts it opened.
Result<std::int64_t> monitor_all(db::Database& db, std::string_view region_code,
                                 const Clock& clock);

// Published when an alert opens, in the same transaction, for its helper's inbox.
inline constexpr const char* kAlertRaised = "alert.raised";
struct AlertRaised {
  std::int64_t alert_id = 0, household_id = 0;
  std::string rule;

  std::string encode() const;  // {"alert_id", "household_id", "rule"}
  static Result<AlertRaised> decode(std::string_view payload);
  bool operator==(const AlertRaised&) const = default;
};

// Newest first, at most `limit`, those older than `before_id` when it is given.
inline constexpr std::int64_t kMaxAlertsPerCall = 200;
Result<std::vector<Alert>> alerts_for(db::Session& s, std::string_view region_code,
                                      std::optional<std::int64_t> helper_account,
                                      std::string_view status,
                                      std::optional<std::int64_t> before_id = std::nullopt,
                                      std::int64_t limit = kMaxAlertsPerCall);
// Which of `household_ids` have an alert still open: they are at risk.
inline constexpr std::size_t kMaxRiskPerCall = 1000;
Result<std::set<std::int64_t>> households_at_risk(db::Session& s,
                                                  const std::vector<std::int64_t>& household_ids);
Result<std::optional<Alert>> find_alert(db::Session& s, std::int64_t id);
// Who closes an alert: the household's helper, or the office (or an admin).
enum class AlertCloser { helper, office };
// outcome: help_given, status_changed, false_alarm. The office's status_changed re-enrols the
// household as returned to poverty; a helper's only proposes it (status "proposed") and the
// office decides.
Result<Alert> close_alert(db::Session& tx, std::int64_t id, std::string_view outcome,
                          std::string_view note, std::string_view actor, AlertCloser closer,
                          const Clock& clock);
// The office approves (the household returns to poverty, the alert closes) or refuses (the
// alert opens again) a helper's proposed status change; with a reason, kept in its history.
Result<Alert> decide_status_change(db::Session& tx, std::int64_t id, bool approve,
                                   std::string_view reason, std::string_view actor,
                                   const Clock& clock);

}  // namespace cunhuo::alleviation
