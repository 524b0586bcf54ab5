#include "storefront/office_moves.hpp"

#include "core/assert.hpp"
#include "core/region.hpp"
#include "marketplace/catalog.hpp"
#include "marketplace/registry.hpp"
#include "storefront/route_support.hpp"

namespace cunhuo::storefront {

namespace al = cunhuo::alleviation;
namespace mk = cunhuo::marketplace;

Result<al::ExitProposal> proposal_for_office(db::Session& tx, const Account& a, std::int64_t id,
                                             bool county) {
  auto p = CUNHUO_TRY(al::find_proposal(tx, id));
  if (!p) return no_such("exit proposal");
  auto h = CUNHUO_TRY(mk::find_household(tx, mk::HouseholdId{p->household_id}));
  if (a.role == Role::admin) return std::move(*p);
  if (a.role != Role::poverty_office || !h || !region_within(h->village_code, a.region_code))
    return no_such("exit proposal");
  if (county != (a.region_code.size() == kCountyCodeDigits))
    return make_error(
        ErrorKind::forbidden, "forbidden",
        county ? "the county office decides this" : "the township office reviews this");
  return std::move(*p);
}

bool may_see_alert(const Account& a, const al::Alert& alert) {
  if (a.role == Role::admin) return true;
  if (a.role == Role::poverty_office && region_within(alert.village_code, a.region_code))
    return true;
  return a.role == Role::helper && alert.helper_account == a.id;
}

Result<mk::Certification> certification_for_office(db::Session& tx, const Account& a,
                                                   std::int64_t id, RegionLevel level) {
  auto c = CUNHUO_TRY(mk::find_certification(tx, mk::CertificationId{id}));
  if (!c) return no_such("certification");
  auto product = CUNHUO_TRY(mk::find_product(tx, c->product));
  if (!product || !region_within(product->origin_code, a.region_code))
    return no_such("certification");
  auto office_level = region_level(a.region_code);
  if (!office_level.ok() || *office_level != level)
    return make_error(ErrorKind::forbidden, "wrong_office",
                      level == RegionLevel::township ? "the township office reviews"
                                                     : "the county office decides");
  return std::move(*c);
}

Result<al::ExitProposal> review_exit_as(db::Session& tx, const Account& a, std::int64_t proposal,
                                        const OfficeDecision& d, const Clock& clock) {
  CUNHUO_TRY(proposal_for_office(tx, a, proposal, false));
  return al::review_proposal(tx, proposal, d.level, d.approve, actor_of(a), d.reason, clock);
}

Result<al::ExitProposal> decide_exit_as(db::Session& tx, const Account& a, std::int64_t proposal,
                                        const OfficeDecision& d, std::int64_t notice_ms,
                                        const Clock& clock) {
  CUNHUO_TRY(proposal_for_office(tx, a, proposal, true));
  return al::decide_proposal(tx, proposal, d.approve, notice_ms, actor_of(a), d.reason, clock);
}

Result<al::ExitProposal> complete_exit_as(db::Session& tx, const Account& a, std::int64_t proposal,
                                          const OfficeDecision& d, const Clock& clock) {
  CUNHUO_TRY(proposal_for_office(tx, a, proposal, true));
  return al::complete_exit(tx, proposal, actor_of(a), d.reason, clock);
}

Result<al::ExitProposal> resolve_objection_as(db::Session& tx, const Account& a,
                                              std::int64_t objection, const OfficeDecision& d,
                                              const Clock& clock) {
  auto o =
      CUNHUO_TRY(tx.query_one("SELECT proposal_id FROM exit_objections WHERE id = ?", {objection}));
  if (!o) return no_such("objection");
  CUNHUO_TRY(proposal_for_office(tx, a, o->i64(0), true));
  return al::resolve_objection(tx, objection, d.approve, actor_of(a), d.reason, clock);
}

Result<al::Alert> close_alert_as(db::Session& tx, const Account& a, std::int64_t alert,
                                 std::string_view outcome, std::string_view note,
                                 const Clock& clock) {
  auto found = CUNHUO_TRY(al::find_alert(tx, alert));
  if (!found || !may_see_alert(a, *found)) return no_such("alert");
  const auto closer = a.role == Role::helper ? al::AlertCloser::helper : al::AlertCloser::office;
  return al::close_alert(tx, alert, outcome, note, actor_of(a), closer, clock);
}

Result<al::Alert> decide_status_change_as(db::Session& tx, const Account& a, std::int64_t alert,
                                          const OfficeDecision& d, const Clock& clock) {
  auto found = CUNHUO_TRY(al::find_alert(tx, alert));
  if (!found || !may_see_alert(a, *found)) return no_such("alert");
  return al::decide_status_change(tx, alert, d.approve, d.reason, actor_of(a), clock);
}

Result<mk::Certification> review_certification_as(db::Session& tx, const Account& a,
                                                  std::int64_t id, const OfficeDecision& d,
                                                  const Clock& clock) {
  auto c = CUNHUO_TRY(certification_for_office(tx, a, id, RegionLevel::township));
  return mk::review_certification(tx, c.id, d.approve, d.reason, actor_of(a), clock);
}

namespace {

// A merged household's farmer accounts now act for the household kept.
Result<std::vector<std::int64_t>> move_farmers_of_merged(db::Session& tx,
                                                         const mk::RegistryIssue& issue,
                                                         mk::HouseholdId kept) {
  CUNHUO_ASSERT(issue.other.has_value());  // a merge needs two households
  const mk::HouseholdId gone = issue.household == kept ? *issue.other : issue.household;
  auto into = CUNHUO_TRY(mk::find_household(tx, kept));
  CUNHUO_ASSERT(into.has_value());  // resolve_issue merged into it
  return Auth::move_farmers(tx, gone.value, kept.value, into->village_code);
}

}  // namespace

Result<ResolvedIssue> resolve_issue_as(db::Session& tx, const Account& a, mk::IssueId id,
                                       const mk::Resolution& how, const Clock& clock) {
  if (a.role != Role::poverty_office)
    return make_error(ErrorKind::forbidden, "forbidden", "the office of the area resolves this");
  auto issue = CUNHUO_TRY(mk::find_issue(tx, id));
  if (!issue || !region_within(issue->village_code, a.region_code)) return no_such("issue");
  if (issue->other) {
    auto other = CUNHUO_TRY(mk::find_household(tx, *issue->other));
    if (!other || !region_within(other->village_code, a.region_code))
      return make_error(ErrorKind::forbidden, "outside_your_area",
                        "the other household is outside your area: its county resolves this");
  }
  ResolvedIssue out{.issue = CUNHUO_TRY(mk::resolve_issue(tx, id, how, actor_of(a), clock)),
                    .moved_accounts = {}};
  if (how.action == mk::ResolutionAction::merge)
    out.moved_accounts = CUNHUO_TRY(move_farmers_of_merged(tx, *issue, *how.into));
  return out;
}

Result<std::vector<payments::SettlementLine>> income_orders(db::Session& s,
                                                            const al::StoredEvaluation& e) {
  const auto lines = CUNHUO_TRY(payments::settlement_lines(
      s, e.household_id, e.created_at_ms - al::kIncomeWindowMs, e.created_at_ms));
  std::vector<payments::SettlementLine> orders;  // one per order, in settlement order
  for (const auto& l : lines) {
    if (orders.empty() || orders.back().order_id != l.order_id) {
      orders.push_back(l);
      orders.back().line_no = 1;
      continue;
    }
    orders.back().net = CUNHUO_TRY(orders.back().net.plus(l.net));
    orders.back().gross = CUNHUO_TRY(orders.back().gross.plus(l.gross));
    ++orders.back().line_no;
  }
  return orders;
}

}  // namespace cunhuo::storefront
