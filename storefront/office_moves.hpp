// The poverty-alleviation office's and the helper's decisions, as the API and the pages
// both take them: each finds its object within the caller's area (another area's is not
// found, 404), checks that this office takes this step (a township office reviews, the
// county office decides: 403), and calls the module's move, which refuses a step already
// taken (409) and a decision without its reason (400).
#pragma once

#include <cstdint>
#include <string>

#include "alleviation/exits.hpp"
#include "alleviation/monitoring.hpp"
#include "alleviation/scores.hpp"
#include "payments/settlement.hpp"
#include "core/clock.hpp"
#include "core/db/database.hpp"
#include "core/region.hpp"
#include "marketplace/certification.hpp"
#include "marketplace/integrity.hpp"
#include "storefront/auth.hpp"

namespace cunhuo::storefront {

// A decision and why: approve (or uphold), the reason, and a review's level.
struct OfficeDecision {
  bool approve = false;
  std::string reason;
  std::string level;  // an exit review's: village, then township
};

// The proposal as the office may act on it: `county` steps are the county office's, the
// others the township office's; admin takes any.
Result<alleviation::ExitProposal> proposal_for_office(db::Session& tx, const Account& a,
                                                      std::int64_t id, bool county);
// The township and county offices see their area's alerts; a helper the ones assigned to them.
bool may_see_alert(const Account& a, const alleviation::Alert& alert);
// The certification as the office at `level` may act on it (its produce from the office's area).
Result<marketplace::Certification> certification_for_office(db::Session& tx, const Account& a,
                                                            std::int64_t id, RegionLevel level);

Result<alleviation::ExitProposal> review_exit_as(db::Session& tx, const Account& a,
                                                 std::int64_t proposal, const OfficeDecision& d,
                                                 const Clock& clock);
// The county's approval starts the public notice of `notice_ms`.
Result<alleviation::ExitProposal> decide_exit_as(db::Session& tx, const Account& a,
                                                 std::int64_t proposal, const OfficeDecision& d,
                                                 std::int64_t notice_ms, const Clock& clock);
// Marks the household exited once its notice closed clean (the county office).
Result<alleviation::ExitProposal> complete_exit_as(db::Session& tx, const Account& a,
                                                   std::int64_t proposal, const OfficeDecision& d,
                                                   const Clock& clock);
// approve: the objection is upheld (the exit is rejected).
Result<alleviation::ExitProposal> resolve_objection_as(db::Session& tx, const Account& a,
                                                       std::int64_t objection,
                                                       const OfficeDecision& d, const Clock& clock);
Result<alleviation::Alert> close_alert_as(db::Session& tx, const Account& a, std::int64_t alert,
                                          std::string_view outcome, std::string_view note,
                                          const Clock& clock);
Result<alleviation::Alert> decide_status_change_as(db::Session& tx, const Account& a,
                                                   std::int64_t alert, const OfficeDecision& d,
                                                   const Clock& clock);
// The township office's review of a certification; the reason is its note.
Result<marketplace::Certification> review_certification_as(db::Session& tx, const Account& a,
                                                           std::int64_t id, const OfficeDecision& d,
                                                           const Clock& clock);

// A registry issue resolved: the issue, and the farmer accounts a merge moved to the
// household kept (whose cached sessions the caller forgets once the transaction commits).
struct ResolvedIssue {
  marketplace::RegistryIssue issue;
  std::vector<std::int64_t> moved_accounts;
};
// Resolves a registry issue as a poverty office: both of its households must lie in the
// office's area (the issue's own outside it is not found; the other's is outside_your_area).
Result<ResolvedIssue> resolve_issue_as(db::Session& tx, const Account& a, marketplace::IssueId id,
                                       const marketplace::Resolution& how, const Clock& clock);

// The settled orders behind an evaluation's platform income: the ledger's settlement lines
// of the year before it, summed per order (line_no counts each order's lines), so the
// income can be traced to each sale.
Result<std::vector<payments::SettlementLine>> income_orders(db::Session& s,
                                                            const alleviation::StoredEvaluation& e);

}  // namespace cunhuo::storefront
