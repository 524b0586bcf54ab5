// Poverty-alleviation funds traced to the recipient. The county's fund is allocated to
// projects (industry, infrastructure, consumption subsidy, education, medical) and
// each allocation is disbursed to villages or to a person of a household. Every step is
// a ledger transfer keyed by its document number, so a retry finds its transfer and
// every fen can be followed from the allocation to the recipient and back:
//   fund:county:<code> → fund:allocation:<id> → fund:village:<code> | fund:household:<id>
// Some things are refused (an unknown household, more than the allocation has left);
// others are allowed but flagged for the office, because people decide them: money to a
// household not registered or already exited, one person receiving one benefit twice
// (by ID number), disbursements beyond the project's budget, allocations left idle.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "core/clock.hpp"
#include "core/db/database.hpp"
#include "core/db/migrations.hpp"
#include "core/money.hpp"

namespace cunhuo::alleviation {

inline constexpr std::size_t kMaxDocumentNumber = 40;
inline constexpr std::int64_t kMaxFundAmountFen = 100'000'000'000;  // one billion yuan
inline constexpr std::size_t kMaxProjectNameBytes = 200;
inline constexpr std::size_t kMaxProjectKindBytes = 24;  // the longest of project_kinds() fits
inline constexpr std::size_t kMaxBenefitBytes = 40;
inline constexpr std::size_t kMaxIdNumberBytes = 18;  // a resident ID number

const std::vector<std::string>&
project_kinds();  // industry, infrastructure, consumption_subsidy, education, medical

struct NewProject {
  std::string county_code, name, kind;
  std::string benefit;  // what one person may receive once, e.g. "education_subsidy_2026"; default:
                        // the kind
  Money budget;
};

struct Project {
  std::int64_t id = 0;
  std::string county_code, name, kind, benefit;
  Money budget, allocated, disbursed;
  std::int64_t created_at_ms = 0;
};

struct Allocation {
  std::int64_t id = 0, project_id = 0;
  std::string document_number, actor;
  Money amount, disbursed;
  std::int64_t at_ms = 0;
  // Never negative: a disbursement is taken only while the allocation has it left.
  Money remaining() const { return Money::fen(amount.fen() - disbursed.fen()); }
};

// A disbursement goes to a village (household_id empty) or to one member of a household.
struct NewDisbursement {
  std::string document_number;
  Money amount;
  std::string village_code;  // for a village; taken from the household otherwise
  std::optional<std::int64_t> household_id;
  std::string id_number;  // the member who receives; the head's when empty
};

struct Disbursement {
  std::int64_t id = 0, allocation_id = 0, project_id = 0;
  std::string document_number, allocation_document, project_name, benefit;
  std::string village_code;
  std::optional<std::int64_t> household_id;
  std::string id_number;         // stored whole; shown masked
  std::string household_status;  // at the time of the disbursement
  Money amount;
  std::string actor;
  std::int64_t at_ms = 0;
};

struct FundFlag {
  std::string kind;  // unregistered_recipient, exited_recipient, duplicate_benefit, over_budget,
                     // idle_allocation
  std::int64_t project_id = 0;
  std::optional<std::int64_t> allocation_id, disbursement_id, household_id;
  std::string detail;
};

std::span<const db::Migration> fund_migrations();

Result<Project> create_project(db::Session& tx, const NewProject& project, std::string_view actor,
                               const Clock& clock);
Result<std::optional<Project>> find_project(db::Session& s, std::int64_t id);
Result<std::vector<Project>> projects_in(db::Session& s, std::string_view county_code);

// Moves money from the county's fund to the project. The same document number with the
// same project and amount finds the earlier allocation; with others it is refused.
Result<Allocation> allocate(db::Session& tx, std::int64_t project_id,
                            std::string_view document_number, Money amount, std::string_view actor,
                            const Clock& clock);
Result<std::optional<Allocation>> find_allocation(db::Session& s, std::int64_t id);
Result<std::vector<Allocation>> allocations_of(db::Session& s, std::int64_t project_id);

Result<Disbursement> disburse(db::Session& tx, std::int64_t allocation_id,
                              const NewDisbursement& disbursement, std::string_view actor,
                              const Clock& clock);
Result<std::vector<Disbursement>> disbursements_of(db::Session& s, std::int64_t allocation_id);
// What a household received, each traced back to its allocation and project.
Result<std::vector<Disbursement>> household_funds(db::Session& s, std::int64_t household_id);

// The flags of an area's funds now, a page at a time. A county's are every kind; a
// township's or a village's are those of disbursements to its villages (a project and its
// allocations are the county's). The list gives the kinds in the order of FlagPart and,
// within a kind, flags by the id of the row flagged; allocations idle for longer than
// `idle_ms` are flagged.
enum class FlagPart { recipients = 0, duplicates = 1, over_budget = 2, idle = 3 };
inline constexpr int kFlagParts = 4;
struct FlagPosition {  // the last flag a page gave
  std::int64_t part = 0, id = 0;
};
struct FundFlagQuery {
  std::string area;  // a county, township or village code
  std::int64_t idle_ms = 0;
  std::optional<FlagPosition> after;
  int limit = 20;
};
struct FundFlagPage {
  std::vector<FundFlag> flags;
  std::optional<FlagPosition> next;  // none on the last page
};
Result<FundFlagPage> fund_flags_page(db::Session& s, const FundFlagQuery& query,
                                     const Clock& clock);
// How many flags the area's list holds in all, counted by the same conditions.
Result<std::int64_t> count_fund_flags(db::Session& s, std::string_view area, std::int64_t idle_ms,
                                      const Clock& clock);

}  // namespace cunhuo::alleviation
