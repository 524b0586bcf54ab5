#include "alleviation/funds.hpp"

#include <algorithm>

#include <spdlog/spdlog.h>

#include "core/assert.hpp"
#include "core/privacy.hpp"
#include "core/region.hpp"
#include "marketplace/archive.hpp"
#include "payments/ledger.hpp"

namespace cunhuo::alleviation {
namespace {

constexpr db::Migration kMigrations[] = {
    {"alleviation", 4, "fund projects, allocations and disbursements",
     "CREATE TABLE IF NOT EXISTS fund_projects (\n"
     "  id {{ID}},\n"
     "  county_code VARCHAR(6) NOT NULL,\n"
     "  name VARCHAR(200) NOT NULL,\n"
     "  kind VARCHAR(24) NOT NULL,\n"
     "  benefit VARCHAR(40) NOT NULL,\n"
     "  budget_fen BIGINT NOT NULL,\n"
     "  actor VARCHAR(100) NOT NULL,\n"
     "  created_at BIGINT NOT NULL\n"
     ");\n"
     "CREATE INDEX IF NOT EXISTS fund_projects_county ON fund_projects (county_code);\n"
     "CREATE TABLE IF NOT EXISTS fund_allocations (\n"
     "  id {{ID}},\n"
     "  project_id BIGINT NOT NULL,\n"
     "  county_code VARCHAR(6) NOT NULL,\n"
     "  document_number VARCHAR(40) NOT NULL UNIQUE,\n"
     "  amount_fen BIGINT NOT NULL,\n"
     "  disbursed_fen BIGINT NOT NULL,\n"
     "  actor VARCHAR(100) NOT NULL,\n"
     "  at BIGINT NOT NULL\n"
     ");\n"
     "CREATE INDEX IF NOT EXISTS fund_allocations_project ON fund_allocations (project_id);\n"
     "CREATE INDEX IF NOT EXISTS fund_allocations_county ON fund_allocations (county_code, at);\n"
     "CREATE TABLE IF NOT EXISTS fund_disbursements (\n"
     "  id {{ID}},\n"
     "  allocation_id BIGINT NOT NULL,\n"
     "  project_id BIGINT NOT NULL,\n"
     "  county_code VARCHAR(6) NOT NULL,\n"
     "  document_number VARCHAR(40) NOT NULL UNIQUE,\n"
     "  benefit VARCHAR(40) NOT NULL,\n"
     "  village_code VARCHAR(12) NOT NULL,\n"
     "  household_id BIGINT,\n"
     "  id_number VARCHAR(18) NOT NULL,\n"
     "  household_status VARCHAR(24) NOT NULL,\n"
     "  amount_fen BIGINT NOT NULL,\n"
     "  actor VARCHAR(100) NOT NULL,\n"
     "  at BIGINT NOT NULL\n"
     ");\n"
     "CREATE INDEX IF NOT EXISTS fund_disbursements_allocation ON fund_disbursements "
     "(allocation_id);\n"
     "CREATE INDEX IF NOT EXISTS fund_disbursements_household ON fund_disbursements "
     "(household_id);\n"
     "CREATE INDEX IF NOT EXISTS fund_disbursements_person ON fund_disbursements (id_number, "
     "benefit);\n"
     "CREATE INDEX IF NOT EXISTS fund_disbursements_county ON fund_disbursements (county_code, "
     "household_status);\n"},
    // Document numbers are issued by each county's own offices: two counties may both issue
    // MQ-D-0001. The tables are rebuilt (SQLite cannot drop a column's UNIQUE in place).
    {"alleviation", 7, "fund document numbers unique per county",
     "CREATE TABLE fund_allocations_v7 (\n"
     "  id {{ID}},\n"
     "  project_id BIGINT NOT NULL,\n"
     "  county_code VARCHAR(6) NOT NULL,\n"
     "  document_number VARCHAR(40) NOT NULL,\n"
     "  amount_fen BIGINT NOT NULL,\n"
     "  disbursed_fen BIGINT NOT NULL,\n"
     "  actor VARCHAR(100) NOT NULL,\n"
     "  at BIGINT NOT NULL,\n"
     "  UNIQUE (county_code, document_number)\n"
     ");\n"
     "INSERT INTO fund_allocations_v7 (id, project_id, county_code, document_number, amount_fen, "
     "disbursed_fen, actor, at) "
     "SELECT id, project_id, county_code, document_number, amount_fen, disbursed_fen, actor, at "
     "FROM fund_allocations;\n"
     "DROP TABLE fund_allocations;\n"
     "ALTER TABLE fund_allocations_v7 RENAME TO fund_allocations;\n"
     "CREATE INDEX IF NOT EXISTS fund_allocations_project ON fund_allocations (project_id);\n"
     "CREATE INDEX IF NOT EXISTS fund_allocations_county ON fund_allocations (county_code, at);\n"
     "CREATE TABLE fund_disbursements_v7 (\n"
     "  id {{ID}},\n"
     "  allocation_id BIGINT NOT NULL,\n"
     "  project_id BIGINT NOT NULL,\n"
     "  county_code VARCHAR(6) NOT NULL,\n"
     "  document_number VARCHAR(40) NOT NULL,\n"
     "  benefit VARCHAR(40) NOT NULL,\n"
     "  village_code VARCHAR(12) NOT NULL,\n"
     "  household_id BIGINT,\n"
     "  id_number VARCHAR(18) NOT NULL,\n"
     "  household_status VARCHAR(24) NOT NULL,\n"
     "  amount_fen BIGINT NOT NULL,\n"
     "  actor VARCHAR(100) NOT NULL,\n"
     "  at BIGINT NOT NULL,\n"
     "  UNIQUE (county_code, document_number)\n"
     ");\n"
     "INSERT INTO fund_disbursements_v7 (id, allocation_id, project_id, county_code, "
     "document_number, benefit, village_code, "
     "household_id, id_number, household_status, amount_fen, actor, at) SELECT id, allocation_id, "
     "project_id, county_code, "
     "document_number, benefit, village_code, household_id, id_number, household_status, "
     "amount_fen, actor, at "
     "FROM fund_disbursements;\n"
     "DROP TABLE fund_disbursements;\n"
     "ALTER TABLE fund_disbursements_v7 RENAME TO fund_disbursements;\n"
     "CREATE INDEX IF NOT EXISTS fund_disbursements_allocation ON fund_disbursements "
     "(allocation_id);\n"
     "CREATE INDEX IF NOT EXISTS fund_disbursements_household ON fund_disbursements "
     "(household_id);\n"
     "CREATE INDEX IF NOT EXISTS fund_disbursements_person ON fund_disbursements (id_number, "
     "benefit);\n"
     "CREATE INDEX IF NOT EXISTS fund_disbursements_county ON fund_disbursements (county_code, "
     "household_status);\n"},
    // The fund flags of a township are its villages' disbursements, paged by id.
    {"alleviation", 9, "fund disbursements by village",
     "CREATE INDEX IF NOT EXISTS fund_disbursements_village ON fund_disbursements (county_code, "
     "village_code, id);\n"},
};

std::string county_account(std::string_view county) { return "fund:county:" + std::string(county); }
std::string allocation_account(std::int64_t id) { return "fund:allocation:" + std::to_string(id); }
std::string village_account(std::string_view village) {
  return "fund:village:" + std::string(village);
}
std::string household_account(std::int64_t id) { return "fund:household:" + std::to_string(id); }

Error invalid(std::string code, std::string message, std::string field) {
  return make_error(ErrorKind::invalid, std::move(code), std::move(message), std::move(field));
}

Status check_amount(Money amount) {
  if (amount.fen() <= 0 || amount.fen() > kMaxFundAmountFen)
    return invalid("out_of_range", "a positive amount up to one billion yuan", "amount_fen");
  return {};
}

Status check_document_number(std::string_view doc) {
  const bool printable =
      std::all_of(doc.begin(), doc.end(), [](char c) { return c > ' ' || c < 0; });
  if (doc.empty() || doc.size() > kMaxDocumentNumber || !printable)
    return invalid("invalid_document_number", "a document number of 1 to 40 bytes without spaces",
                   "document_number");
  return {};
}

Status check_benefit(std::string_view benefit) {
  const bool plain = std::all_of(benefit.begin(), benefit.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
  });
  if (benefit.empty() || benefit.size() > kMaxBenefitBytes || !plain)
    return invalid("invalid_benefit", "a-z, 0-9 and _ (1 to 40)", "benefit");
  return {};
}

Project project_of(const db::Row& r) {
  return Project{r.i64(0),
                 r.str(1),
                 r.str(2),
                 r.str(3),
                 r.str(4),
                 Money::fen(r.i64(5)),
                 Money::fen(r.i64(6)),
                 Money::fen(r.i64(7)),
                 r.i64(8)};
}

constexpr const char* kProjectColumns =
    "SELECT p.id, p.county_code, p.name, p.kind, p.benefit, p.budget_fen, "
    "COALESCE((SELECT SUM(a.amount_fen) FROM fund_allocations a WHERE a.project_id = p.id), 0), "
    "COALESCE((SELECT SUM(a.disbursed_fen) FROM fund_allocations a WHERE a.project_id = p.id), 0), "
    "p.created_at FROM fund_projects p ";

Allocation allocation_of(const db::Row& r) {
  return Allocation{
      r.i64(0), r.i64(1), r.str(2), r.str(3), Money::fen(r.i64(4)), Money::fen(r.i64(5)), r.i64(6)};
}

constexpr const char* kAllocationColumns =
    "SELECT id, project_id, document_number, actor, amount_fen, disbursed_fen, at FROM "
    "fund_allocations ";

Disbursement disbursement_of(const db::Row& r) {
  return Disbursement{r.i64(0),  r.i64(1), r.i64(2),     r.str(3), r.str(4),  r.str(5),
                      r.str(6),  r.str(7), r.opt_i64(8), r.str(9), r.str(10), Money::fen(r.i64(11)),
                      r.str(12), r.i64(13)};
}

constexpr const char* kDisbursementColumns =
    "SELECT d.id, d.allocation_id, d.project_id, d.document_number, a.document_number, p.name, "
    "d.benefit, d.village_code, d.household_id, "
    "d.id_number, d.household_status, d.amount_fen, d.actor, d.at FROM fund_disbursements d "
    "JOIN fund_allocations a ON a.id = d.allocation_id JOIN fund_projects p ON p.id = "
    "d.project_id ";

Status move(db::Session& tx, std::string key, std::string debit, std::string credit, Money amount,
            std::string reference, std::string memo, const Clock& clock) {
  const payments::Transfer t{std::move(key),
                             std::move(debit),
                             std::move(credit),
                             amount,
                             payments::TransferKind::posted,
                             "",
                             std::move(reference),
                             std::move(memo)};
  CUNHUO_TRY(payments::transfer(tx, std::span(&t, 1), clock));
  return {};
}

// Where a disbursement goes: the village, or a member of a household (the head by default).
struct Recipient {
  std::string village_code, id_number, status = "village";
  std::optional<std::int64_t> household_id;
};

Result<Recipient> recipient_of(db::Session& tx, const NewDisbursement& d, std::string_view county) {
  Recipient r;
  if (!d.household_id) {
    if (!d.id_number.empty())
      return invalid("unexpected_field", "a village disbursement names no person", "id_number");
    if (CUNHUO_TRY(region_level(d.village_code, "village_code")) != RegionLevel::village)
      return invalid("invalid_region", "a 12-digit village code", "village_code");
    r.village_code = d.village_code;
  } else {
    auto record = CUNHUO_TRY(
        marketplace::find_household_record(tx, marketplace::HouseholdId{*d.household_id}));
    if (!record)
      return make_error(ErrorKind::not_found, "unknown_household", "no such household",
                        "household_id");
    const auto& members = record->card.members;
    const std::string wanted = d.id_number.empty() ? record->household.head_id_number : d.id_number;
    const bool member = wanted == record->household.head_id_number ||
                        std::any_of(members.begin(), members.end(),
                                    [&](const auto& m) { return m.id_number == wanted; });
    if (!member)
      return invalid("not_a_member", "the ID number is not a member of this household",
                     "id_number");
    r = Recipient{record->household.village_code, wanted,
                  std::string(marketplace::to_string(record->household.status)), d.household_id};
  }
  if (!region_within(r.village_code, county))
    return invalid("outside_county", "the recipient is outside the project's county",
                   "household_id");
  return r;
}

// The same request again: same allocation, amount and recipient (the member, when named).
bool same_disbursement(const Disbursement& earlier, std::int64_t allocation,
                       const NewDisbursement& d) {
  const bool same_recipient = d.household_id
                                  ? earlier.household_id == d.household_id &&
                                        (d.id_number.empty() || d.id_number == earlier.id_number)
                                  : !earlier.household_id && earlier.village_code == d.village_code;
  return earlier.allocation_id == allocation && earlier.amount == d.amount && same_recipient;
}

Result<std::optional<Disbursement>> disbursement_by_document(db::Session& s,
                                                             std::string_view county,
                                                             std::string_view doc) {
  auto row = CUNHUO_TRY(s.query_one(
      std::string(kDisbursementColumns) + "WHERE d.county_code = ? AND d.document_number = ?",
      {county, doc}));
  if (!row) return std::optional<Disbursement>();
  return std::optional<Disbursement>(disbursement_of(*row));
}

}  // namespace

std::span<const db::Migration> fund_migrations() { return kMigrations; }

const std::vector<std::string>& project_kinds() {
  static const std::vector<std::string> kinds{"industry", "infrastructure", "consumption_subsidy",
                                              "education", "medical"};
  return kinds;
}

Result<Project> create_project(db::Session& tx, const NewProject& p, std::string_view actor,
                               const Clock& clock) {
  if (CUNHUO_TRY(region_level(p.county_code, "county_code")) != RegionLevel::county)
    return invalid("invalid_region", "a 6-digit county code", "county_code");
  if (p.name.empty() || p.name.size() > kMaxProjectNameBytes)
    return invalid("invalid_length", "a name of 1 to 200 bytes", "name");
  const auto& kinds = project_kinds();
  if (std::find(kinds.begin(), kinds.end(), p.kind) == kinds.end())
    return invalid("invalid_kind",
                   "industry, infrastructure, consumption_subsidy, education or medical", "kind");
  const std::string benefit = p.benefit.empty() ? p.kind : p.benefit;
  CUNHUO_CHECK(check_benefit(benefit));
  if (p.budget.fen() <= 0 || p.budget.fen() > kMaxFundAmountFen)
    return invalid("out_of_range", "a positive budget up to one billion yuan", "budget_fen");
  CUNHUO_TRY(
      tx.exec("INSERT INTO fund_projects (county_code, name, kind, benefit, budget_fen, actor, "
              "created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
              {p.county_code, p.name, p.kind, benefit, p.budget.fen(), actor, clock.now_ms()}));
  const std::int64_t id = CUNHUO_TRY(tx.last_insert_id());
  return std::move(*CUNHUO_TRY(find_project(tx, id)));
}

Result<std::optional<Project>> find_project(db::Session& s, std::int64_t id) {
  auto row = CUNHUO_TRY(s.query_one(std::string(kProjectColumns) + "WHERE p.id = ?", {id}));
  if (!row) return std::optional<Project>();
  return std::optional<Project>(project_of(*row));
}

Result<std::vector<Project>> projects_in(db::Session& s, std::string_view county_code) {
  std::vector<Project> out;
  for (const auto& r : CUNHUO_TRY(s.query(
           std::string(kProjectColumns) + "WHERE p.county_code = ? ORDER BY p.id LIMIT 1000",
           {county_code})))
    out.push_back(project_of(r));
  return out;
}

Result<Allocation> allocate(db::Session& tx, std::int64_t project_id, std::string_view doc,
                            Money amount, std::string_view actor, const Clock& clock) {
  CUNHUO_CHECK(check_document_number(doc));
  CUNHUO_CHECK(check_amount(amount));
  auto project = CUNHUO_TRY(find_project(tx, project_id));
  if (!project)
    return make_error(ErrorKind::not_found, "not_found", "no such project", "project_id");
  if (auto earlier = CUNHUO_TRY(tx.query_one(
          std::string(kAllocationColumns) + "WHERE county_code = ? AND document_number = ?",
          {project->county_code, doc}))) {
    auto a = allocation_of(*earlier);
    if (a.project_id == project_id && a.amount == amount) return a;
    return make_error(ErrorKind::conflict, "document_number_used",
                      "this document number was used for another allocation", "document_number");
  }
  const auto now = clock.now_ms();
  CUNHUO_TRY(
      tx.exec("INSERT INTO fund_allocations (project_id, county_code, document_number, amount_fen, "
              "disbursed_fen, actor, at) "
              "VALUES (?, ?, ?, ?, 0, ?, ?)",
              {project_id, project->county_code, doc, amount.fen(), actor, now}));
  const std::int64_t id = CUNHUO_TRY(tx.last_insert_id());
  const payments::AccountSpec accounts[] = {{county_account(project->county_code), true},
                                            {allocation_account(id), false}};
  CUNHUO_CHECK(payments::open_accounts(tx, accounts, clock));
  CUNHUO_CHECK(move(tx, "fund-allocation:" + project->county_code + ":" + std::string(doc),
                    county_account(project->county_code), allocation_account(id), amount,
                    "fund_project:" + std::to_string(project_id), std::string(doc), clock));
  spdlog::info("fund allocation {} ({}) of {} yuan to project {}", id, doc, amount.to_yuan(),
               project_id);
  return std::move(*CUNHUO_TRY(find_allocation(tx, id)));
}

Result<std::optional<Allocation>> find_allocation(db::Session& s, std::int64_t id) {
  auto row = CUNHUO_TRY(s.query_one(std::string(kAllocationColumns) + "WHERE id = ?", {id}));
  if (!row) return std::optional<Allocation>();
  return std::optional<Allocation>(allocation_of(*row));
}

Result<std::vector<Allocation>> allocations_of(db::Session& s, std::int64_t project_id) {
  std::vector<Allocation> out;
  for (const auto& r : CUNHUO_TRY(
           s.query(std::string(kAllocationColumns) + "WHERE project_id = ? ORDER BY id LIMIT 1000",
                   {project_id})))
    out.push_back(allocation_of(r));
  return out;
}

Result<Disbursement> disburse(db::Session& tx, std::int64_t allocation_id, const NewDisbursement& d,
                              std::string_view actor, const Clock& clock) {
  CUNHUO_CHECK(check_document_number(d.document_number));
  CUNHUO_CHECK(check_amount(d.amount));
  auto allocation = CUNHUO_TRY(find_allocation(tx, allocation_id));
  if (!allocation)
    return make_error(ErrorKind::not_found, "not_found", "no such allocation", "allocation_id");
  const auto project = CUNHUO_TRY(find_project(tx, allocation->project_id));
  if (!project)
    return make_error(ErrorKind::internal, "orphan_allocation",
                      "allocation " + std::to_string(allocation_id) + " has no project");
  // A retry finds what was done, even if the card changed since.
  if (auto earlier =
          CUNHUO_TRY(disbursement_by_document(tx, project->county_code, d.document_number))) {
    if (same_disbursement(*earlier, allocation_id, d)) return std::move(*earlier);
    return make_error(ErrorKind::conflict, "document_number_used",
                      "this document number was used for another disbursement", "document_number");
  }
  const Recipient r = CUNHUO_TRY(recipient_of(tx, d, project->county_code));
  // One conditional statement, as for stock: the allocation never goes below zero.
  auto taken =
      CUNHUO_TRY(tx.exec("UPDATE fund_allocations SET disbursed_fen = disbursed_fen + ? WHERE id = "
                         "? AND amount_fen - disbursed_fen >= ?",
                         {d.amount.fen(), allocation_id, d.amount.fen()}));
  if (taken.affected_rows != 1)
    return invalid("above_remaining",
                   "the allocation has " + allocation->remaining().to_yuan() + " yuan left",
                   "amount_fen");
  const auto now = clock.now_ms();
  CUNHUO_TRY(tx.exec(
      "INSERT INTO fund_disbursements (allocation_id, project_id, county_code, document_number, "
      "benefit, village_code, household_id, "
      "id_number, household_status, amount_fen, actor, at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, "
      "?, ?)",
      {allocation_id, project->id, project->county_code, d.document_number, project->benefit,
       r.village_code, r.household_id, r.id_number, r.status, d.amount.fen(), actor, now}));
  const std::string to =
      r.household_id ? household_account(*r.household_id) : village_account(r.village_code);
  const payments::AccountSpec account{to, false};
  CUNHUO_CHECK(payments::open_accounts(tx, std::span(&account, 1), clock));
  CUNHUO_CHECK(move(tx, "fund-disbursement:" + project->county_code + ":" + d.document_number,
                    allocation_account(allocation_id), to, d.amount,
                    "fund_allocation:" + std::to_string(allocation_id), d.document_number, clock));
  spdlog::info("fund disbursement {} of {} yuan from allocation {} to {}", d.document_number,
               d.amount.to_yuan(), allocation_id,
               r.household_id ? "household " + std::to_string(*r.household_id)
                              : "village " + r.village_code);
  return std::move(
      *CUNHUO_TRY(disbursement_by_document(tx, project->county_code, d.document_number)));
}

Result<std::vector<Disbursement>> disbursements_of(db::Session& s, std::int64_t allocation_id) {
  std::vector<Disbursement> out;
  for (const auto& r : CUNHUO_TRY(s.query(std::string(kDisbursementColumns) +
                                              "WHERE d.allocation_id = ? ORDER BY d.id LIMIT 10000",
                                          {allocation_id})))
    out.push_back(disbursement_of(r));
  return out;
}

Result<std::vector<Disbursement>> household_funds(db::Session& s, std::int64_t household_id) {
  std::vector<Disbursement> out;
  for (const auto& r : CUNHUO_TRY(s.query(
           std::string(kDisbursementColumns) + "WHERE d.household_id = ? ORDER BY d.id LIMIT 1000",
           {household_id})))
    out.push_back(disbursement_of(r));
  return out;
}

namespace {

// One kind of flag: the rows it flags (`from_where`, ending in a WHERE), the key they are
// paged by, and how a row reads as a flag.
struct FlagSource {
  FlagPart part;
  std::string columns, from_where, key;
  std::vector<db::Value> params;
  FundFlag (*flag)(const db::Row&);
};

FundFlag recipient_flag(const db::Row& r) {
  const bool exited = r.str(4) == "exited";
  return FundFlag{.kind = exited ? "exited_recipient" : "unregistered_recipient",
                  .project_id = r.i64(1),
                  .allocation_id = r.i64(2),
                  .disbursement_id = r.i64(0),
                  .household_id = r.opt_i64(3),
                  .detail = r.str(5) + ": " + Money::fen(r.i64(6)).to_yuan() +
                            " yuan to a household " +
                            (exited ? "already exited" : "not registered as poor")};
}

FundFlag duplicate_flag(const db::Row& r) {
  return FundFlag{.kind = "duplicate_benefit",
                  .project_id = r.i64(1),
                  .allocation_id = r.i64(2),
                  .disbursement_id = r.i64(0),
                  .household_id = r.opt_i64(3),
                  .detail = r.str(6) + ": ID " + mask_id_number(r.str(4)) + " received " +
                            r.str(5) + " " + std::to_string(r.i64(7)) + " times"};
}

FundFlag over_budget_flag(const db::Row& r) {
  const bool disbursed = r.i64(4) > r.i64(2);
  const Money spent = Money::fen(disbursed ? r.i64(4) : r.i64(3));
  return FundFlag{.kind = "over_budget",
                  .project_id = r.i64(0),
                  .detail = r.str(1) + ": " + spent.to_yuan() + " yuan " +
                            (disbursed ? "disbursed" : "allocated") + " against a budget of " +
                            Money::fen(r.i64(2)).to_yuan()};
}

FundFlag idle_flag(const db::Row& r) {
  return FundFlag{.kind = "idle_allocation",
                  .project_id = r.i64(1),
                  .allocation_id = r.i64(0),
                  .detail = r.str(2) + ": " + Money::fen(r.i64(3)).to_yuan() +
                            " yuan not disbursed since " + format_shanghai(r.i64(4))};
}

// The kinds an area's list holds, in order. Disbursements are narrowed to the area's
// villages below a county; the project kinds belong to the county alone.
std::vector<FlagSource> flag_sources(std::string_view area, std::int64_t idle_ms,
                                     const Clock& clock) {
  const std::string county = county_of(area);
  const bool whole_county = area.size() <= kCountyCodeDigits;
  const std::string villages = std::string(region_prefix(area)) + "%";
  std::vector<FlagSource> out;
  out.push_back({.part = FlagPart::recipients,
                 .columns = "d.id, d.project_id, d.allocation_id, d.household_id, "
                            "d.household_status, d.document_number, d.amount_fen",
                 .from_where = " FROM fund_disbursements d WHERE d.county_code = ? AND "
                               "d.village_code LIKE ? AND d.household_status IN "
                               "('not_registered', 'exited')",
                 .key = "d.id",
                 .params = {county, villages},
                 .flag = recipient_flag});
  // A person who received one benefit more than once, here or in another county.
  out.push_back({.part = FlagPart::duplicates,
                 .columns = "d.id, d.project_id, d.allocation_id, d.household_id, d.id_number, "
                            "d.benefit, d.document_number, (SELECT COUNT(*) FROM "
                            "fund_disbursements e WHERE e.id_number = d.id_number AND e.benefit "
                            "= d.benefit)",
                 .from_where = " FROM fund_disbursements d WHERE d.county_code = ? AND "
                               "d.village_code LIKE ? AND d.id_number <> '' AND EXISTS (SELECT 1 "
                               "FROM fund_disbursements e WHERE e.id_number = d.id_number AND "
                               "e.benefit = d.benefit AND e.id <> d.id)",
                 .key = "d.id",
                 .params = {county, villages},
                 .flag = duplicate_flag});
  if (!whole_county) return out;
  out.push_back({.part = FlagPart::over_budget,
                 .columns = "t.id, t.name, t.budget, t.allocated, t.disbursed",
                 .from_where = " FROM (SELECT p.id AS id, p.name AS name, p.budget_fen AS budget, "
                               "COALESCE((SELECT SUM(a.amount_fen) FROM fund_allocations a WHERE "
                               "a.project_id = p.id), 0) AS allocated, COALESCE((SELECT "
                               "SUM(a.disbursed_fen) FROM fund_allocations a WHERE a.project_id "
                               "= p.id), 0) AS disbursed FROM fund_projects p WHERE "
                               "p.county_code = ?) t WHERE (t.disbursed > t.budget OR "
                               "t.allocated > t.budget)",
                 .key = "t.id",
                 .params = {county},
                 .flag = over_budget_flag});
  out.push_back({.part = FlagPart::idle,
                 .columns = "id, project_id, document_number, amount_fen - disbursed_fen, at",
                 .from_where = " FROM fund_allocations WHERE county_code = ? AND at < ? AND "
                               "disbursed_fen < amount_fen",
                 .key = "id",
                 .params = {county, clock.now_ms() - idle_ms},
                 .flag = idle_flag});
  return out;
}

}  // namespace

Result<FundFlagPage> fund_flags_page(db::Session& s, const FundFlagQuery& q, const Clock& clock) {
  CUNHUO_ASSERT(q.limit >= 1);
  const FlagPosition from = q.after.value_or(FlagPosition{});
  FundFlagPage page;
  std::vector<FlagPosition> positions;
  for (auto& source : flag_sources(q.area, q.idle_ms, clock)) {
    const auto part = static_cast<std::int64_t>(source.part);
    if (part < from.part) continue;
    // One more than the page holds: is there a next?
    const auto wanted =
        static_cast<std::int64_t>(q.limit) + 1 - static_cast<std::int64_t>(page.flags.size());
    source.params.emplace_back(part == from.part ? from.id : 0);
    source.params.emplace_back(wanted);
    for (const auto& r :
         CUNHUO_TRY(s.query_with("SELECT " + source.columns + source.from_where + " AND " +
                                     source.key + " > ? ORDER BY " + source.key + " LIMIT ?",
                                 source.params))) {
      page.flags.push_back(source.flag(r));
      positions.push_back(FlagPosition{part, r.i64(0)});
    }
    if (page.flags.size() > static_cast<std::size_t>(q.limit)) break;
  }
  if (page.flags.size() > static_cast<std::size_t>(q.limit)) {
    page.flags.resize(static_cast<std::size_t>(q.limit));
    page.next = positions[static_cast<std::size_t>(q.limit) - 1];
  }
  return page;
}

Result<std::int64_t> count_fund_flags(db::Session& s, std::string_view area, std::int64_t idle_ms,
                                      const Clock& clock) {
  std::int64_t count = 0;
  for (const auto& source : flag_sources(area, idle_ms, clock))
    count +=
        CUNHUO_TRY(s.query_with("SELECT COUNT(*)" + source.from_where, source.params)).at(0).i64(0);
  return count;
}

}  // namespace cunhuo::alleviation
