#include "marketplace/integrity.hpp"

#include <array>
#include <chrono>
#include <set>

#include "core/assert.hpp"
#include "core/enum_names.hpp"
#include "core/privacy.hpp"
#include "core/region.hpp"
#include "marketplace/archive.hpp"
#include "marketplace/id_numbers.hpp"

namespace cunhuo::marketplace {
namespace {

// id_number_holders is the unique index across every card: one row per number, naming the
// household whose card holds it. It starts from the numbers already stored (the lowest
// household id keeps a number two cards share; the scan raises the other as suspect).
constexpr db::Migration kMigrations[] = {
    {"marketplace", 11, "registry integrity: ID numbers held once, issues, merged households",
     "CREATE TABLE IF NOT EXISTS id_number_holders (\n"
     "  id_number VARCHAR(18) NOT NULL PRIMARY KEY,\n"
     "  household_id BIGINT NOT NULL\n"
     ");\n"
     "CREATE INDEX IF NOT EXISTS id_number_holders_household ON id_number_holders "
     "(household_id);\n"
     "INSERT INTO id_number_holders (id_number, household_id) SELECT id_number, "
     "MIN(household_id) FROM (SELECT head_id_number AS id_number, id AS household_id FROM "
     "households UNION SELECT id_number, household_id FROM household_members) t GROUP BY "
     "id_number;\n"
     "ALTER TABLE households ADD COLUMN merged_into BIGINT;\n"
     "CREATE INDEX IF NOT EXISTS households_phone ON households (phone);\n"
     "CREATE TABLE IF NOT EXISTS registry_issues (\n"
     "  id {{ID}},\n"
     "  kind VARCHAR(20) NOT NULL,\n"
     "  household_id BIGINT NOT NULL,\n"
     "  other_household_id BIGINT NOT NULL,\n"
     "  village_code VARCHAR(12) NOT NULL,\n"
     "  detail VARCHAR(100) NOT NULL,\n"
     "  resolved INTEGER NOT NULL,\n"
     "  action VARCHAR(10) NOT NULL,\n"
     "  reason VARCHAR(500) NOT NULL,\n"
     "  resolved_by VARCHAR(100) NOT NULL,\n"
     "  created_at BIGINT NOT NULL,\n"
     "  resolved_at BIGINT\n"
     ");\n"
     "CREATE UNIQUE INDEX IF NOT EXISTS registry_issues_once ON registry_issues (kind, "
     "household_id, other_household_id, detail);\n"
     "CREATE INDEX IF NOT EXISTS registry_issues_village ON registry_issues (village_code, "
     "id);\n"},
    // One row per area: its last scan, where it stands, and when it started. A scan reads
    // the area's households by (village_code, id), a range of households_village_id.
    {"marketplace", 24, "registry scans by area, in batches",
     "CREATE TABLE IF NOT EXISTS registry_scans (\n"
     "  region_code VARCHAR(12) NOT NULL PRIMARY KEY,\n"
     "  status VARCHAR(8) NOT NULL,\n"
     "  after_village VARCHAR(12) NOT NULL,\n"
     "  after_household BIGINT NOT NULL,\n"
     "  households BIGINT NOT NULL,\n"
     "  raised BIGINT NOT NULL,\n"
     "  started_at BIGINT NOT NULL,\n"
     "  updated_at BIGINT NOT NULL\n"
     ");\n"
     "CREATE INDEX IF NOT EXISTS households_village_id ON households (village_code, id);\n"},
};

constexpr std::array<std::pair<IssueKind, std::string_view>, 2> kKindNames = {{
    {IssueKind::duplicate_phone, "duplicate_phone"},
    {IssueKind::suspect, "suspect"},
}};

constexpr const char* kIssueColumns =
    "id, kind, household_id, other_household_id, village_code, detail, resolved, action, "
    "reason, created_at";

Error invalid(std::string code, std::string message, std::string field) {
  return make_error(ErrorKind::invalid, std::move(code), std::move(message), std::move(field));
}

RegistryIssue issue_from(const db::Row& r) {
  auto kind = value_of(kKindNames, r.str(1));
  CUNHUO_ASSERT(kind.has_value());  // the store holds only known kinds
  return RegistryIssue{.id = IssueId{r.i64(0)},
                       .kind = *kind,
                       .household = HouseholdId{r.i64(2)},
                       .other = r.i64(3) > 0 ? std::optional(HouseholdId{r.i64(3)}) : std::nullopt,
                       .village_code = r.str(4),
                       .detail = r.str(5),
                       .resolved = r.i64(6) != 0,
                       .action = r.str(7),
                       .reason = r.str(8),
                       .created_at_ms = r.i64(9)};
}

Result<std::int64_t> raise(db::Session& tx, IssueKind kind, std::int64_t household,
                           std::int64_t other, std::string_view village, std::string_view detail,
                           std::int64_t now) {
  auto r = CUNHUO_TRY(tx.exec(
      std::string(tx.insert_ignore()) +
          " INTO registry_issues (kind, household_id, other_household_id, village_code, detail, "
          "resolved, action, reason, resolved_by, created_at) VALUES (?, ?, ?, ?, ?, 0, '', '', "
          "'', ?)",
      {to_string(kind), household, other, village, detail, now}));
  return r.affected_rows;
}

BirthDate today(const Clock& clock) {
  const auto date = shanghai_date(clock.now_ms());
  return BirthDate{date.year, static_cast<int>(date.month), static_cast<int>(date.day)};
}

// What is suspect about one ID number on a card ("" when nothing).
std::string suspicion(const std::string& id_number, const std::string& where, bool head,
                      const BirthDate& on) {
  if (!check_id_number(id_number, where).ok()) return "invalid_id_number:" + where;
  auto birth = id_number_birth_date(id_number);
  if (head && birth && age_on(*birth, on) < kMinHeadAge) return "head_under_16";
  return "";
}

// The households of one batch, as `IN (?, ...)` and its values.
struct Batch {
  std::string in;
  std::vector<db::Value> ids;
};

Result<std::int64_t> scan_phones(db::Session& tx, const Batch& b, std::int64_t now) {
  std::int64_t raised = 0;
  for (const auto& r : CUNHUO_TRY(tx.query_with(
           "SELECT a.id, b.id, a.village_code FROM households a JOIN households b ON "
           "b.phone = a.phone AND b.id < a.id WHERE a.id " +
               b.in + " AND a.merged_into IS NULL AND b.merged_into IS NULL ORDER BY a.id",
           b.ids)))
    raised += CUNHUO_TRY(
        raise(tx, IssueKind::duplicate_phone, r.i64(0), r.i64(1), r.str(2), "phone", now));
  return raised;
}

Result<std::int64_t> scan_cards(db::Session& tx, const Batch& b, const BirthDate& on,
                                std::int64_t now) {
  std::int64_t raised = 0;
  for (const auto& r : CUNHUO_TRY(
           tx.query_with("SELECT id, village_code, head_id_number FROM households WHERE id " +
                             b.in + " AND merged_into IS NULL ORDER BY id",
                         b.ids))) {
    const auto detail = suspicion(r.str(2), "head_id_number", true, on);
    if (!detail.empty())
      raised += CUNHUO_TRY(raise(tx, IssueKind::suspect, r.i64(0), 0, r.str(1), detail, now));
  }
  for (const auto& r : CUNHUO_TRY(tx.query_with(
           "SELECT h.id, h.village_code, m.position, m.id_number, d.household_id FROM "
           "household_members m JOIN households h ON h.id = m.household_id LEFT JOIN "
           "id_number_holders d ON d.id_number = m.id_number WHERE h.id " +
               b.in + " AND h.merged_into IS NULL ORDER BY h.id, m.position",
           b.ids))) {
    const std::string where = "members[" + std::to_string(r.i64(2)) + "].id_number";
    std::string detail = suspicion(r.str(3), where, false, on);
    if (detail.empty() && r.opt_i64(4) && *r.opt_i64(4) != r.i64(0))
      detail = "id_number_on_two_cards:" + where;
    if (!detail.empty())
      raised += CUNHUO_TRY(raise(tx, IssueKind::suspect, r.i64(0), 0, r.str(1), detail, now));
  }
  return raised;
}

constexpr const char* kScanColumns =
    "SELECT region_code, status, after_village, after_household, households, raised, "
    "started_at, updated_at FROM registry_scans WHERE region_code = ?";

Result<std::optional<RegistryScan>> find_scan(db::Session& s, std::string_view region_code) {
  auto r = CUNHUO_TRY(s.query_one(kScanColumns, {region_code}));
  if (!r) return std::optional<RegistryScan>();
  return std::optional<RegistryScan>(RegistryScan{.region_code = r->str(0),
                                                  .running = r->str(1) == "running",
                                                  .after_village = r->str(2),
                                                  .after_household = r->i64(3),
                                                  .households = r->i64(4),
                                                  .raised = r->i64(5),
                                                  .started_at_ms = r->i64(6),
                                                  .updated_at_ms = r->i64(7)});
}

Error scan_refused(std::string_view code, std::string message) {
  return make_error(ErrorKind::conflict, std::string(code), std::move(message));
}

// Why the area's last scan stops a new one now, if it does; a stale running scan does not
// (it is resumed).
std::optional<Error> refusal(const RegistryScan& last, std::int64_t now) {
  if (last.running && now - last.updated_at_ms < kRegistryScanStaleMs)
    return scan_refused(kScanRunning, "a scan of this area is under way");
  if (!last.running && now - last.started_at_ms < kMinRegistryScanIntervalMs)
    return scan_refused(kScanTooSoon,
                        "this area was scanned at " + format_shanghai(last.started_at_ms) +
                            "; scan again from " +
                            format_shanghai(last.started_at_ms + kMinRegistryScanIntervalMs));
  return std::nullopt;
}

Error not_found() { return make_error(ErrorKind::not_found, "not_found", "no such issue"); }

Status merge(db::Session& tx, const RegistryIssue& issue, const Resolution& how,
             std::string_view actor, const Clock& clock) {
  if (!issue.other)
    return make_error(ErrorKind::conflict, "nothing_to_merge",
                      "this issue names one household: correct it instead", "action");
  if (!how.into) return invalid("missing_field", "name the household to keep", "into_household_id");
  if (*how.into != issue.household && *how.into != *issue.other)
    return invalid("invalid_choice", "keep one of the issue's two households", "into_household_id");
  const HouseholdId keep = *how.into;
  const HouseholdId gone = keep == issue.household ? *issue.other : issue.household;
  auto kept = CUNHUO_TRY(find_household_record(tx, keep));
  auto merged = CUNHUO_TRY(find_household_record(tx, gone));
  CUNHUO_ASSERT(kept && merged);  // households are never deleted
  if (kept->card.members.empty() || merged->card.members.empty())
    return make_error(ErrorKind::conflict, "card_missing",
                      "both households need an archive card to be merged", "into_household_id");
  ArchiveCard card = kept->card;
  std::set<std::string> on_card;
  for (const auto& m : card.members) on_card.insert(m.id_number);
  for (auto m : merged->card.members) {
    if (!on_card.insert(m.id_number).second) continue;  // the same person registered twice
    if (m.relationship == "head") m.relationship = "other";
    card.members.push_back(std::move(m));
  }
  CUNHUO_CHECK(release_id_numbers(tx, gone));
  CUNHUO_TRY(update_household_record(tx, keep, card, std::nullopt, actor, how.reason, clock));
  return mark_merged(tx, gone, keep, actor, how.reason, clock);
}

Status correct_id_number(db::Session& tx, HouseholdId id, const Resolution& how,
                         std::string_view actor, const Clock& clock) {
  auto record = CUNHUO_TRY(find_household_record(tx, id));
  CUNHUO_ASSERT(record.has_value());
  auto& members = record->card.members;
  if (!members.empty()) {
    if (how.member_index < 0 || static_cast<std::size_t>(how.member_index) >= members.size())
      return invalid("out_of_range", "no member at this index on the card", "member_index");
    members[static_cast<std::size_t>(how.member_index)].id_number = how.value;
    CUNHUO_TRY(
        update_household_record(tx, id, record->card, std::nullopt, actor, how.reason, clock));
    return {};
  }
  if (how.member_index != 0)
    return invalid("out_of_range", "a household without a card has only its head", "member_index");
  CUNHUO_CHECK(check_id_number(how.value, "value"));
  CUNHUO_CHECK(claim_id_numbers(tx, id, {{how.value, "value"}}));
  CUNHUO_TRY(tx.exec("UPDATE households SET head_id_number = ?, updated_at = ? WHERE id = ?",
                     {how.value, clock.now_ms(), id.value}));
  return record_audit(tx, id, actor, "head_id_number", record->household.head_id_number, how.value,
                      how.reason, clock);
}

Status correct(db::Session& tx, const RegistryIssue& issue, const Resolution& how,
               std::string_view actor, const Clock& clock) {
  const HouseholdId id = how.household.value_or(issue.household);
  if (id != issue.household && (!issue.other || id != *issue.other))
    return invalid("invalid_choice", "correct one of the issue's households", "household_id");
  if (how.field == "id_number") return correct_id_number(tx, id, how, actor, clock);
  if (how.field != "phone") return invalid("invalid_choice", "correct phone or id_number", "field");
  if (!is_mobile_number(how.value))
    return invalid("invalid_phone", "phone must be an 11-digit mobile number", "value");
  auto h = CUNHUO_TRY(find_household(tx, id));
  CUNHUO_ASSERT(h.has_value());
  CUNHUO_TRY(tx.exec("UPDATE households SET phone = ?, updated_at = ? WHERE id = ?",
                     {how.value, clock.now_ms(), id.value}));
  CUNHUO_CHECK(record_audit(tx, id, actor, "phone", h->phone, how.value, how.reason, clock));
  return flag_shared_phone(tx, id, h->village_code, how.value, clock);  // corrected onto another
}

}  // namespace

std::span<const db::Migration> integrity_migrations() { return kMigrations; }

std::string_view to_string(IssueKind kind) { return name_of(kKindNames, kind); }

Result<IssueKind> parse_issue_kind(std::string_view text) {
  if (auto v = value_of(kKindNames, text)) return *v;
  return invalid("invalid_kind", "kind is duplicate_phone or suspect", "kind");
}

Status check_id_numbers_free(db::Session& s, std::optional<HouseholdId> self,
                             const std::vector<IdNumberAt>& numbers) {
  std::set<std::string> seen;
  for (const auto& n : numbers) {
    if (!seen.insert(n.id_number).second)
      return invalid("duplicate_id_number", "this ID number stands twice on the card", n.field);
    auto holder = CUNHUO_TRY(s.query_one(
        "SELECT household_id FROM id_number_holders WHERE id_number = ?", {n.id_number}));
    if (holder && (!self || holder->i64(0) != self->value))
      return make_error(ErrorKind::conflict, "id_number_taken",
                        "this ID number already stands on another card", n.field);
  }
  return {};
}

Status claim_id_numbers(db::Session& tx, HouseholdId household,
                        const std::vector<IdNumberAt>& numbers) {
  CUNHUO_CHECK(check_id_numbers_free(tx, household, numbers));
  CUNHUO_CHECK(release_id_numbers(tx, household));
  for (const auto& n : numbers)
    CUNHUO_TRY(tx.exec("INSERT INTO id_number_holders (id_number, household_id) VALUES (?, ?)",
                       {n.id_number, household.value}));
  return {};
}

Status release_id_numbers(db::Session& tx, HouseholdId household) {
  CUNHUO_TRY(tx.exec("DELETE FROM id_number_holders WHERE household_id = ?", {household.value}));
  return {};
}

Status flag_shared_phone(db::Session& tx, HouseholdId household, std::string_view village_code,
                         std::string_view phone, const Clock& clock) {
  auto other = CUNHUO_TRY(tx.query_one(
      "SELECT id FROM households WHERE phone = ? AND id <> ? AND merged_into IS NULL ORDER BY id "
      "LIMIT 1",
      {phone, household.value}));
  if (other)
    CUNHUO_TRY(raise(tx, IssueKind::duplicate_phone, household.value, other->i64(0), village_code,
                     "phone", clock.now_ms()));
  return {};
}

Result<RegistryScan> start_registry_scan(db::Session& tx, std::string_view region_code,
                                         const Clock& clock) {
  CUNHUO_TRY(region_level(region_code));
  const auto now = clock.now_ms();
  auto fresh = CUNHUO_TRY(tx.exec(std::string(tx.insert_ignore()) +
                                      " INTO registry_scans (region_code, status, after_village, "
                                      "after_household, households, raised, started_at, "
                                      "updated_at) VALUES (?, 'running', '', 0, 0, 0, ?, ?)",
                                  {region_code, now, now}));
  if (fresh.affected_rows == 1) return std::move(*CUNHUO_TRY(find_scan(tx, region_code)));
  auto last = CUNHUO_TRY(find_scan(tx, region_code));
  CUNHUO_ASSERT(last.has_value());  // the row was there to be ignored
  if (auto refused = refusal(*last, now)) return *refused;
  // Taken only if no other start took it since it was read (MariaDB reads a snapshot).
  const bool resume = last->running;
  auto taken = CUNHUO_TRY(
      resume ? tx.exec("UPDATE registry_scans SET updated_at = ? WHERE region_code = ? AND "
                       "status = 'running' AND updated_at = ?",
                       {now, region_code, last->updated_at_ms})
             : tx.exec("UPDATE registry_scans SET status = 'running', after_village = '', "
                       "after_household = 0, households = 0, raised = 0, started_at = ?, "
                       "updated_at = ? WHERE region_code = ? AND status = 'done' AND "
                       "started_at = ?",
                       {now, now, region_code, last->started_at_ms}));
  if (taken.affected_rows != 1)
    return scan_refused(kScanRunning, "a scan of this area was started meanwhile");
  return std::move(*CUNHUO_TRY(find_scan(tx, region_code)));
}

Result<RegistryScan> continue_registry_scan(db::Session& tx, std::string_view region_code,
                                            std::int64_t batch, const Clock& clock) {
  CUNHUO_ASSERT(batch >= 1);
  auto scan = CUNHUO_TRY(find_scan(tx, region_code));
  if (!scan || !scan->running) return scan_refused(kScanNotRunning, "no scan of this area runs");
  Batch b;
  for (const auto& r : CUNHUO_TRY(tx.query(
           "SELECT village_code, id FROM households WHERE village_code LIKE ? AND (village_code "
           "> ? OR (village_code = ? AND id > ?)) ORDER BY village_code, id LIMIT ?",
           {std::string(region_prefix(region_code)) + "%", scan->after_village, scan->after_village,
            scan->after_household, batch}))) {
    b.ids.emplace_back(r.i64(1));
    scan->after_village = r.str(0);
    scan->after_household = r.i64(1);
  }
  const auto now = clock.now_ms();
  if (!b.ids.empty()) {
    b.in = "IN (" + db::placeholders(b.ids.size()) + ")";
    scan->raised += CUNHUO_TRY(scan_phones(tx, b, now));
    scan->raised += CUNHUO_TRY(scan_cards(tx, b, today(clock), now));
    scan->households += static_cast<std::int64_t>(b.ids.size());
  }
  scan->running = static_cast<std::int64_t>(b.ids.size()) == batch;
  scan->updated_at_ms = now;
  CUNHUO_TRY(
      tx.exec("UPDATE registry_scans SET status = ?, after_village = ?, after_household = "
              "?, households = ?, raised = ?, updated_at = ? WHERE region_code = ?",
              {scan->running ? "running" : "done", scan->after_village, scan->after_household,
               scan->households, scan->raised, now, region_code}));
  return std::move(*scan);
}

Result<RegistryScan> scan_registry(db::Database& db, std::string_view region_code,
                                   std::int64_t batch, const Clock& clock) {
  auto scan = CUNHUO_TRY(
      db.write([&](db::Session& tx) { return start_registry_scan(tx, region_code, clock); }));
  while (scan.running)
    scan = CUNHUO_TRY(db.write(
        [&](db::Session& tx) { return continue_registry_scan(tx, region_code, batch, clock); }));
  return scan;
}

Result<std::vector<RegistryIssue>> list_issues(db::Session& s, const IssueQuery& q) {
  std::string sql = std::string("SELECT ") + kIssueColumns +
                    " FROM registry_issues WHERE village_code LIKE ? AND id > ?";
  std::vector<db::Value> params{std::string(region_prefix(q.region_code)) + "%", q.after_id};
  if (q.kind) {
    sql += " AND kind = ?";
    params.emplace_back(std::string(to_string(*q.kind)));
  }
  sql += " ORDER BY id LIMIT ?";
  params.emplace_back(q.limit);
  std::vector<RegistryIssue> out;
  for (const auto& r : CUNHUO_TRY(s.query_with(sql, params))) out.push_back(issue_from(r));
  return out;
}

Result<std::optional<RegistryIssue>> find_issue(db::Session& s, IssueId id) {
  auto row = CUNHUO_TRY(s.query_one(
      std::string("SELECT ") + kIssueColumns + " FROM registry_issues WHERE id = ?", {id.value}));
  if (!row) return std::optional<RegistryIssue>();
  return std::optional<RegistryIssue>(issue_from(*row));
}

Result<RegistryIssue> resolve_issue(db::Session& tx, IssueId id, const Resolution& how,
                                    std::string_view actor, const Clock& clock) {
  if (how.reason.empty() || how.reason.size() > kMaxResolutionReasonBytes)
    return invalid("missing_field", "say why (1 to 500 bytes)", "reason");
  auto issue = CUNHUO_TRY(find_issue(tx, id));
  if (!issue) return not_found();
  if (issue->resolved)
    return make_error(ErrorKind::conflict, "issue_resolved", "this issue is resolved already");
  if (how.action == ResolutionAction::merge)
    CUNHUO_CHECK(merge(tx, *issue, how, actor, clock));
  else
    CUNHUO_CHECK(correct(tx, *issue, how, actor, clock));
  const std::string action = how.action == ResolutionAction::merge ? "merge" : "correct";
  CUNHUO_TRY(
      tx.exec("UPDATE registry_issues SET resolved = 1, action = ?, reason = ?, resolved_by = ?, "
              "resolved_at = ? WHERE id = ?",
              {action, how.reason, actor, clock.now_ms(), id.value}));
  auto done = CUNHUO_TRY(find_issue(tx, id));
  return std::move(*done);
}

}  // namespace cunhuo::marketplace
