#include "storefront/office_pages.hpp"

#include <functional>
#include <string>
#include <vector>

#include "alleviation/funds.hpp"
#include "alleviation/work_queue.hpp"
#include "core/privacy.hpp"
#include "core/region.hpp"
#include "marketplace/archive.hpp"
#include "marketplace/integrity.hpp"
#include "marketplace/work_queue.hpp"
#include "storefront/office_moves.hpp"
#include "storefront/office_views.hpp"
#include "storefront/page_forms.hpp"
#include "storefront/page_words.hpp"
#include "storefront/route_support.hpp"

namespace cunhuo::storefront {
namespace {

namespace al = cunhuo::alleviation;
namespace mk = cunhuo::marketplace;
using web::Page, web::PageCall, web::View, web::ViewList, web::Lang;

constexpr std::string_view kOfficePath = "/office";

std::string area_of(const Account& a) { return a.role == Role::admin ? "" : a.region_code; }
bool county_office(const Account& a) {
  return a.role == Role::admin || a.region_code.size() == kCountyCodeDigits;
}
bool township_office(const Account& a) {
  return a.role == Role::admin || a.region_code.size() == kTownshipCodeDigits;
}
std::string num(std::int64_t v) { return std::to_string(v); }

// The decision a refused form asked for, shown again with its reason and why.
struct Failed {
  std::string action;                    // the form's path
  std::string reason, outcome, message;  // as typed and chosen, and why it was refused
};

// One item of a queue, with the form that decides it (none when `action` is empty).
struct Item {
  std::string title, detail;
  std::int64_t household_id = 0, since_ms = 0;
  std::string action, level;
  const char* yes = nullptr;  // the buttons' text keys; no buttons: the alert's outcomes
  const char* no = nullptr;
};

View item_view(const Item& item, Lang lang, const Failed* failed) {
  View v;
  v.set("title", item.title);
  v.set("detail", item.detail);
  if (item.household_id > 0) v.set("household", num(item.household_id));
  v.set("since", page_time(item.since_ms));
  if (item.action.empty()) return v;
  View form;
  form.set("action", item.action);
  form.set("level", item.level);
  form.set("has_level", !item.level.empty());
  if (item.yes) {
    form.set("yes", text_of(item.yes, lang));
    if (item.no) form.set("no", text_of(item.no, lang));
  } else {
    const bool refused = failed && failed->action == item.action;
    form.set("outcomes", alert_outcomes(lang, refused ? failed->outcome : ""));
    form.set("has_outcomes", true);
  }
  if (failed && failed->action == item.action) {
    form.set("kept_reason", failed->reason);
    form.set("form_error", failed->message);
  }
  v.set("form", form);
  return v;
}

View queue_view(const char* title, std::int64_t count, const std::vector<Item>& items, Lang lang,
                const Failed* failed) {
  View q;
  q.set("title", std::string(web::text(title, lang)));
  q.set("count", num(count));
  ViewList list;
  for (const auto& i : items) list.push_back(item_view(i, lang, failed));
  q.set("items", list);
  q.set("empty", items.empty());
  return q;
}

std::vector<Item> case_items(const al::WaitingCases& w, const std::string& title,
                             const std::string& action_base, const std::string& action_tail) {
  std::vector<Item> out;
  for (const auto& c : w.items)
    out.push_back({.title = title + num(c.id),
                   .detail = c.what,
                   .household_id = c.household_id,
                   .since_ms = c.since_ms,
                   .action = action_base.empty() ? "" : action_base + num(c.id) + action_tail});
  return out;
}

// ---- the queues --------------------------------------------------------------------

Result<View> certifications_queue(db::Session& s, const Account& a, Lang lang,
                                  const Failed* failed) {
  const auto step = township_office(a) && a.role != Role::admin
                        ? mk::CertificationStatus::applied
                        : mk::CertificationStatus::township_reviewed;
  const auto w = CUNHUO_TRY(mk::certifications_in(s, step, area_of(a), kOfficeQueueItems));
  std::vector<Item> items;
  for (const auto& c : w.items) {
    Item i{.title = text_of("office_certification", lang) + num(c.id),
           .detail = text_of("office_product", lang) + " #" + num(c.subject),
           .since_ms = c.since_ms};
    if (step == mk::CertificationStatus::applied) {
      i.action = "/office/certifications/" + num(c.id) + "/review";
      i.yes = "office_approve";
      i.no = "office_send_back";
    }
    items.push_back(i);
  }
  return queue_view("office_q_certifications", w.count, items, lang, failed);
}

// The township office reviews (village, then township); the county office decides.
Result<ViewList> proposal_queues(db::Session& s, const Account& a, Lang lang,
                                 const Failed* failed) {
  ViewList out;
  const std::string area = area_of(a);
  const std::string title = text_of("office_proposal", lang);
  struct Stage {
    std::string_view status;
    const char* queue;
    bool ours;
    std::string tail, level;
  };
  const Stage stages[] = {
      {"proposed", "office_q_proposed", township_office(a), "/review", "village"},
      {"village_reviewed", "office_q_village_reviewed", township_office(a), "/review", "township"},
      {"township_reviewed", "office_q_township_reviewed", county_office(a), "/decision", ""},
  };
  for (const auto& st : stages) {
    const auto w = CUNHUO_TRY(al::proposals_at(s, {st.status}, area, kOfficeQueueItems));
    auto items = case_items(w, title, st.ours ? "/office/proposals/" : "", st.tail);
    for (auto& i : items) {
      i.detail = word("exit_" + i.detail, i.detail, lang);
      i.level = st.level;
      i.yes = "office_approve";
      i.no = "office_reject";
    }
    out.push_back(queue_view(st.queue, w.count, items, lang, failed));
  }
  return out;
}

// Notices under way, each with its objections; the county office resolves them and, once
// the notice closed clean, marks the exit.
Result<View> notices_queue(db::Session& s, const Account& a, Lang lang, const Failed* failed) {
  const auto w = CUNHUO_TRY(al::proposals_at(s, {"in_notice"}, area_of(a), kOfficeQueueItems));
  const auto open = CUNHUO_TRY(al::open_objections(s, area_of(a), 1));
  ViewList notices;
  for (const auto& c : w.items) {
    auto p = CUNHUO_TRY(al::find_proposal(s, c.id));
    if (!p) continue;
    View n;
    n.set("title", text_of("office_proposal", lang) + num(p->id));
    n.set("household", num(p->household_id));
    n.set("ends", p->notice_ends_ms ? page_time(*p->notice_ends_ms) : std::string());
    ViewList objections;
    for (const auto& o : p->objections) {
      Item i{.title = text_of("office_objection", lang) + num(o.id),
             .detail =
                 o.text +
                 (o.status == "open" ? "" : " — " + word("objection_" + o.status, o.status, lang)),
             .since_ms = o.lodged_at_ms};
      if (o.status == "open" && county_office(a)) {
        i.action = "/office/objections/" + num(o.id) + "/resolution";
        i.yes = "office_uphold";
        i.no = "office_dismiss";
      }
      objections.push_back(item_view(i, lang, failed));
    }
    n.set("objections", objections);
    if (county_office(a)) {
      Item done{.title = "", .action = "/office/proposals/" + num(p->id) + "/exit"};
      done.yes = "office_mark_exited";
      done.no = nullptr;
      View form = item_view(done, lang, failed);
      n.set("exit", form);
    }
    notices.push_back(n);
  }
  View q;
  q.set("title", std::string(web::text("office_q_notices", lang)));
  q.set("count", num(w.count));
  q.set("open_objections", num(open.count));
  q.set("notices", notices);
  q.set("empty", notices.empty());
  return q;
}

Result<ViewList> alert_queues(db::Session& s, const Account& a, Lang lang, const Failed* failed) {
  ViewList out;
  const auto open = CUNHUO_TRY(al::open_alerts(s, area_of(a), std::nullopt, kOfficeQueueItems));
  auto items = case_items(open, text_of("office_alert", lang), "/office/alerts/", "/close");
  for (auto& i : items) i.detail = word("rule_" + i.detail, i.detail, lang);
  out.push_back(queue_view("office_q_alerts", open.count, items, lang, failed));
  // A helper's proposed return to poverty waits for the office.
  const auto proposed = CUNHUO_TRY(
      al::alerts_for(s, area_of(a), std::nullopt, "proposed", std::nullopt, kOfficeQueueItems));
  std::vector<Item> asks;
  for (auto it = proposed.rbegin(); it != proposed.rend(); ++it)
    asks.push_back({.title = text_of("office_alert", lang) + num(it->id),
                    .detail = word("rule_" + it->rule, it->rule, lang),
                    .household_id = it->household_id,
                    .since_ms = it->raised_at_ms,
                    .action = "/office/alerts/" + num(it->id) + "/status-decision",
                    .yes = "office_approve",
                    .no = "office_reject"});
  out.push_back(queue_view("office_q_status_changes", static_cast<std::int64_t>(asks.size()), asks,
                           lang, failed));
  return out;
}

Result<View> fund_flags_queue(db::Session& s, const OfficePageContext& ctx, const Account& a,
                              Lang lang) {
  const std::string area = a.role == Role::admin ? county_of(a.region_code) : a.region_code;
  const al::FundFlagQuery q{
      .area = area, .idle_ms = ctx.fund_idle_ms, .after = std::nullopt, .limit = kOfficeQueueItems};
  const auto count = CUNHUO_TRY(al::count_fund_flags(s, area, ctx.fund_idle_ms, ctx.clock));
  const auto page = CUNHUO_TRY(al::fund_flags_page(s, q, ctx.clock));
  std::vector<Item> items;
  for (const auto& f : page.flags)
    items.push_back({.title = word("flag_" + f.kind, f.kind, lang),
                     .detail = f.detail,
                     .household_id = f.household_id.value_or(0),
                     .since_ms = ctx.clock.now_ms()});
  return queue_view("office_q_fund_flags", count, items, lang, nullptr);
}

// Cards sharing a phone: the registry scan raises them; resolving them is the API's.
Result<View> duplicates_queue(db::Session& s, const Account& a, Lang lang, const Failed* failed) {
  const auto issues = CUNHUO_TRY(mk::list_issues(s, {.region_code = area_of(a),
                                                     .kind = mk::IssueKind::duplicate_phone,
                                                     .after_id = 0,
                                                     .limit = 200}));
  std::vector<Item> items;
  std::int64_t count = 0;
  for (const auto& i : issues) {
    if (i.resolved) continue;
    ++count;
    if (static_cast<int>(items.size()) == kOfficeQueueItems) continue;
    items.push_back({.title = text_of("office_duplicate", lang) + num(i.id.value),
                     .detail = i.other
                                   ? text_of("office_household", lang) + " #" + num(i.other->value)
                                   : i.detail,
                     .household_id = i.household.value,
                     .since_ms = i.created_at_ms});
    // The office merges this card into the one that held the phone first (the API also
    // corrects a field instead).
    if (i.other && a.role == Role::poverty_office) {
      items.back().action = "/office/duplicates/" + num(i.id.value) + "/merge";
      items.back().yes = "office_merge";
    }
  }
  return queue_view("office_q_duplicates", count, items, lang, failed);
}

Result<Page> office_home(const OfficePageContext& ctx, const PageCall& call, const Failed* failed) {
  const Account& a = call.caller();
  const Lang lang = call.lang;
  View v = CUNHUO_TRY(ctx.db.read([&](db::Session& s) -> Result<View> {
    View out;
    ViewList queues;
    queues.push_back(CUNHUO_TRY(certifications_queue(s, a, lang, failed)));
    for (auto& q : CUNHUO_TRY(proposal_queues(s, a, lang, failed))) queues.push_back(q);
    for (auto& q : CUNHUO_TRY(alert_queues(s, a, lang, failed))) queues.push_back(q);
    if (county_office(a)) queues.push_back(CUNHUO_TRY(fund_flags_queue(s, ctx, a, lang)));
    queues.push_back(CUNHUO_TRY(duplicates_queue(s, a, lang, failed)));
    out.set("queues", queues);
    out.set("notices", CUNHUO_TRY(notices_queue(s, a, lang, failed)));
    out.set("area",
            a.role == Role::admin ? std::string() : CUNHUO_TRY(place_text(s, a.region_code, lang)));
    return out;
  }));
  if (call.request.query_param("done")) v.set("done", true);
  if (failed) v.set("page_error", failed->message);
  return Page::show("office_home", "title_office", std::move(v));
}

// ---- decisions ---------------------------------------------------------------------

// The reason every decision needs, checked before anything is looked up.
Result<OfficeDecision> decision_from(const PageCall& call) {
  OfficeDecision d{.approve = call.field("approve") == "yes",
                   .reason = trimmed(call.field("reason")),
                   .level = call.field("level")};
  if (d.reason.empty())
    return make_error(ErrorKind::invalid, "reason_required", "say why", "reason");
  if (d.reason.size() > al::kMaxReasonBytes)
    return make_error(ErrorKind::invalid, "invalid_length", "a reason is up to 500 bytes",
                      "reason");
  return d;
}

// A decision on case `id` as the page's caller, through the move the API takes.
using Move =
    std::function<Status(db::Session&, const PageCall&, std::int64_t, const OfficeDecision&)>;

Result<Page> decide(const OfficePageContext& ctx, const PageCall& call, const Move& move) {
  const auto d = CUNHUO_TRY(decision_from(call));
  const std::int64_t id = CUNHUO_TRY(call.path_id("case"));
  CUNHUO_CHECK(ctx.db.write([&](db::Session& tx) { return move(tx, call, id, d); }));
  return Page::see_other(std::string(kOfficePath) + "?done=1");
}

// A refused decision: an object outside the area is the page not found; anything else is
// /office again, the form keeping its reason and saying why.
Result<Page> reshow_decision(const OfficePageContext& ctx, const PageCall& call, const Error& why) {
  if (why.kind == ErrorKind::not_found) return not_found_page(call, why);
  const Failed failed{.action = call.request.path,
                      .reason = call.field("reason"),
                      .outcome = call.field("outcome"),
                      .message = web::refusal_message(why, call.lang)};
  return office_home(ctx, call, &failed);
}

void add_decision(web::PageTable& pages, const OfficePageContext& ctx, std::string pattern,
                  std::string summary, Move move) {
  pages.add({.method = "POST",
             .pattern = std::move(pattern),
             .access = only({Role::poverty_office, Role::admin}),
             .summary = std::move(summary),
             .handler = [ctx, move](const PageCall& call) { return decide(ctx, call, move); },
             .reshow = [ctx](const PageCall& call,
                             const Error& why) { return reshow_decision(ctx, call, why); }});
}

// Merges the issue's card into the household that held the phone first, through the API's move; the
// accounts it moved read their household afresh.
Result<Page> merge_duplicate(const OfficePageContext& ctx, const PageCall& call) {
  const auto d = CUNHUO_TRY(decision_from(call));
  const mk::IssueId id{CUNHUO_TRY(call.path_id("issue"))};
  CUNHUO_CHECK(ctx.db.write([&](db::Session& tx) -> Status {
    auto issue = CUNHUO_TRY(mk::find_issue(tx, id));
    if (!issue || !issue->other) return no_such("issue");
    const mk::Resolution how{.action = mk::ResolutionAction::merge,
                             .reason = d.reason,
                             .into = issue->other,
                             .household = std::nullopt,
                             .field = "",
                             .value = "",
                             .member_index = 0};
    const auto moved =
        CUNHUO_TRY(resolve_issue_as(tx, call.caller(), id, how, ctx.clock)).moved_accounts;
    for (auto account : moved) CUNHUO_CHECK(Auth::account_changed(tx, account, ctx.clock));
    return {};
  }));
  return Page::see_other(std::string(kOfficePath) + "?done=1");
}

// Each decision's move, as the API takes it.
template <class Fn>
Move move_of(Fn fn) {
  return [fn](db::Session& tx, const PageCall& call, std::int64_t id,
              const OfficeDecision& d) -> Status {
    CUNHUO_TRY(fn(tx, call, id, d));
    return {};
  };
}

void add_decisions(web::PageTable& pages, const OfficePageContext& ctx) {
  const Clock* clock = &ctx.clock;
  const std::int64_t notice_ms = ctx.exit_notice_ms;
  using D = const OfficeDecision&;
  add_decision(pages, ctx, "/office/certifications/:id/review",
               "The township office's review of a certification, with its reason",
               move_of([clock](db::Session& tx, const PageCall& call, std::int64_t id, D d) {
                 return review_certification_as(tx, call.caller(), id, d, *clock);
               }));
  add_decision(pages, ctx, "/office/proposals/:id/review",
               "Village, then township review of an exit proposal, with its reason",
               move_of([clock](db::Session& tx, const PageCall& call, std::int64_t id, D d) {
                 return review_exit_as(tx, call.caller(), id, d, *clock);
               }));
  add_decision(
      pages, ctx, "/office/proposals/:id/decision",
      "The county's decision on an exit proposal (approval starts its notice)",
      move_of([clock, notice_ms](db::Session& tx, const PageCall& call, std::int64_t id, D d) {
        return decide_exit_as(tx, call.caller(), id, d, notice_ms, *clock);
      }));
  add_decision(pages, ctx, "/office/proposals/:id/exit",
               "Mark the household exited once its notice closed clean, with the reason",
               move_of([clock](db::Session& tx, const PageCall& call, std::int64_t id, D d) {
                 return complete_exit_as(tx, call.caller(), id, d, *clock);
               }));
  add_decision(pages, ctx, "/office/objections/:id/resolution",
               "Uphold (the exit is rejected) or dismiss an objection, with the reason",
               move_of([clock](db::Session& tx, const PageCall& call, std::int64_t id, D d) {
                 return resolve_objection_as(tx, call.caller(), id, d, *clock);
               }));
  add_decision(pages, ctx, "/office/alerts/:id/close", "Close an alert with its outcome and a note",
               move_of([clock](db::Session& tx, const PageCall& call, std::int64_t id, D d) {
                 return close_alert_as(tx, call.caller(), id, call.field("outcome"), d.reason,
                                       *clock);
               }));
  add_decision(pages, ctx, "/office/alerts/:id/status-decision",
               "Approve or refuse a helper's proposed return to poverty, with the reason",
               move_of([clock](db::Session& tx, const PageCall& call, std::int64_t id, D d) {
                 return decide_status_change_as(tx, call.caller(), id, d, *clock);
               }));
}

}  // namespace

void add_office_pages(web::PageTable& pages, const OfficePageContext& ctx) {
  const Access office = only({Role::poverty_office, Role::admin});
  pages.add({.pattern = std::string(kOfficePath),
             .access = office,
             .summary = "The office's queues of its area, counted, oldest first, to decide",
             .handler = [ctx](const PageCall& call) { return office_home(ctx, call, nullptr); }});
  add_decisions(pages, ctx);
  pages.add({.method = "POST",
             .pattern = "/office/duplicates/:id/merge",
             .access = only({Role::poverty_office}),
             .summary = "Merge a duplicate card into the first household, with the reason",
             .handler = [ctx](const PageCall& call) { return merge_duplicate(ctx, call); },
             .reshow = [ctx](const PageCall& call,
                             const Error& why) { return reshow_decision(ctx, call, why); }});
  add_office_record_pages(pages, ctx);
}

}  // namespace cunhuo::storefront
