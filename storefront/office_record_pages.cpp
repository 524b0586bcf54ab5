// The office's record pages: a household's page, the fund traces and the open statistics.
#include <cmath>
#include <map>
#include <string>
#include <vector>

#include "alleviation/funds.hpp"
#include "alleviation/scores.hpp"
#include "alleviation/statistics.hpp"
#include "core/privacy.hpp"
#include "core/region.hpp"
#include "marketplace/archive.hpp"
#include "storefront/office_moves.hpp"
#include "storefront/office_views.hpp"
#include "storefront/page_forms.hpp"
#include "storefront/page_words.hpp"
#include "storefront/policy.hpp"
#include "storefront/route_support.hpp"
#include "storefront/web/charts.hpp"

namespace cunhuo::storefront {

namespace al = cunhuo::alleviation;
namespace mk = cunhuo::marketplace;
using web::Page, web::PageCall, web::ViewList, web::Lang;

std::string text_of(const char* key, Lang lang) { return std::string(web::text(key, lang)); }

std::string trimmed(std::string_view s) {
  const auto first = s.find_first_not_of(" \t\r\n");
  if (first == std::string_view::npos) return "";
  const auto last = s.find_last_not_of(" \t\r\n");
  return std::string(s.substr(first, last - first + 1));
}

ViewList alert_outcomes(Lang lang, const std::string& chosen) {
  ViewList out;
  for (const char* o : {"help_given", "false_alarm", "status_changed"}) {
    web::View v;
    v.set("value", std::string(o));
    v.set("label", text_of(("outcome_" + std::string(o)).c_str(), lang));
    v.set("selected", chosen == o);
    out.push_back(v);
  }
  return out;
}

web::View alert_view(const al::Alert& a, Lang lang, const std::string& action_base,
                     const std::string& failed_action, const std::string& kept_note,
                     const std::string& why, const std::string& kept_outcome) {
  web::View v;
  v.set("id", std::to_string(a.id));
  v.set("household", std::to_string(a.household_id));
  v.set("rule", word("rule_" + a.rule, a.rule, lang));
  v.set("figures", a.figures);
  v.set("status", word("alert_" + a.status, a.status, lang));
  v.set("outcome",
        a.outcome.empty() ? std::string() : word("outcome_" + a.outcome, a.outcome, lang));
  v.set("raised", page_time(a.raised_at_ms));
  ViewList history;
  for (const auto& h : a.history) {
    web::View line;
    line.set("line", h);
    history.push_back(line);
  }
  v.set("has_history", !history.empty());
  v.set("history", history);
  if (action_base.starts_with("/office"))
    v.set("link", "/office/households/" + std::to_string(a.household_id));
  if (a.status == "open" && !action_base.empty()) {
    const std::string action = action_base + std::to_string(a.id) + "/close";
    web::View form;
    form.set("action", action);
    const bool failed = failed_action == action;
    form.set("outcomes", alert_outcomes(lang, failed ? kept_outcome : ""));
    form.set("has_outcomes", true);
    if (failed) {
      form.set("kept_reason", kept_note);
      form.set("form_error", why);
    }
    v.set("form", form);
  }
  return v;
}

web::Page not_found_page(const PageCall& call, const Error& why) {
  web::View v;
  v.set("message", web::refusal_message(why, call.lang));
  Page page = Page::show("not_found", "title_not_found", std::move(v));
  page.status = 404;
  return page;
}

namespace {

std::string yuan_text(double v) {
  char out[32];
  std::snprintf(out, sizeof out, "%.2f 元", v);
  return out;
}

// A count of households; an axis tick between whole numbers keeps its half.
std::string count_text(double v) {
  if (v == std::floor(v)) return std::to_string(std::llround(v));
  char out[32];
  std::snprintf(out, sizeof out, "%.1f", v);
  return out;
}

double yuan_value(const std::optional<Money>& m) {
  return m ? static_cast<double>(m->fen()) / 100.0 : std::nan("");
}

// ---- /office/households/:id ----------------------------------------------------------

ViewList member_views(const mk::ArchiveCard& card, storefront::View seen, Lang lang) {
  const bool full = seen == storefront::View::full;
  ViewList out;
  for (const auto& m : card.members) {
    web::View v;
    v.set("name", full ? m.name : mask_name(m.name));
    v.set("relationship", word("rel_" + m.relationship, m.relationship, lang));
    v.set("birth_year", full ? std::to_string(m.birth_year) : std::string());
    v.set("health", full ? word("health_" + m.health, m.health, lang) : std::string());
    v.set("education", word("edu_" + m.education, m.education, lang));
    v.set("id_number", full ? m.id_number : mask_id_number(m.id_number));
    v.set("insured", m.medical_insurance);
    out.push_back(v);
  }
  return out;
}

web::View card_view(const mk::HouseholdRecord& r, storefront::View seen, Lang lang) {
  const bool full = seen == storefront::View::full;
  const auto& h = r.household;
  const auto& c = r.card;
  web::View v;
  v.set("id", std::to_string(h.id.value));
  v.set("head", full ? h.head_name : mask_name(h.head_name));
  v.set("phone", full ? h.phone : mask_phone(h.phone));
  v.set("status",
        word("poverty_" + std::string(mk::to_string(h.status)), mk::to_string(h.status), lang));
  v.set("members", member_views(c, seen, lang));
  std::string causes;
  for (const auto& cause : c.causes)
    causes += (causes.empty() ? "" : "、") + word("cause_" + cause, cause, lang);
  v.set("causes", causes);
  v.set("land", std::to_string(c.land_mu_hundredths / 100) + "." +
                    std::to_string(c.land_mu_hundredths % 100 / 10) +
                    std::to_string(c.land_mu_hundredths % 10));
  v.set("housing", word("housing_" + c.housing, c.housing, lang));
  v.set("water", word("water_" + c.drinking_water, c.drinking_water, lang));
  v.set("income_year", std::to_string(c.income.year));
  v.set("wages", yuan(c.income.wages));
  v.set("business", yuan(c.income.own_business));
  v.set("property", yuan(c.income.property));
  v.set("transfers", yuan(c.income.transfers));
  v.set("helper", c.helper_name.empty() ? text_of("office_no_helper", lang)
                                        : c.helper_name + (full ? " " + c.helper_phone : ""));
  return v;
}

ViewList audit_views(const std::vector<mk::AuditEntry>& audit, storefront::View seen) {
  const bool full = seen == storefront::View::full;
  ViewList out;
  for (auto it = audit.rbegin(); it != audit.rend(); ++it) {
    web::View v;
    v.set("at", page_time(it->at_ms));
    v.set("actor", it->actor);
    v.set("field", it->field);
    // A masked view shows that a field changed, not its personal values.
    v.set("old", full ? it->old_value : std::string("…"));
    v.set("new", full ? it->new_value : std::string("…"));
    v.set("reason", it->reason);
    out.push_back(v);
  }
  return out;
}

// The newest score: each indicator with its points and inputs, and the platform income
// traced to the orders it came from.
Result<web::View> score_view(db::Session& s, std::int64_t household, Lang lang) {
  web::View v;
  const auto evaluations = CUNHUO_TRY(al::evaluations_of(s, household, 1));
  if (evaluations.empty()) return v;
  const auto& e = evaluations.front();
  const auto& r = e.result;
  v.set("scored", true);
  v.set("score", std::to_string(r.score));
  v.set("band", word("band_" + std::string(al::to_string(r.band)), al::to_string(r.band), lang));
  v.set("eligible", r.exit_eligible);
  v.set("model", std::to_string(r.model_version));
  v.set("per_capita", yuan(r.per_capita_income));
  v.set("evaluated", page_time(e.created_at_ms));
  ViewList indicators;
  for (const auto& i : r.indicators) {
    web::View iv;
    const std::string name(al::to_string(i.indicator));
    iv.set("name", word("indicator_" + name, name, lang));
    iv.set("weight", std::to_string(i.weight));
    iv.set("points", std::to_string(i.points));
    iv.set("met", i.met);
    iv.set("veto", i.veto);
    iv.set("inputs", i.inputs);
    indicators.push_back(iv);
  }
  v.set("indicators", indicators);
  v.set("platform_net", yuan(e.inputs.platform_net));
  ViewList orders;
  for (const auto& o : CUNHUO_TRY(income_orders(s, e))) {
    web::View ov;
    ov.set("order", std::to_string(o.order_id));
    ov.set("title", o.title);
    ov.set("lines", std::to_string(o.line_no));
    ov.set("gross", yuan(o.gross));
    ov.set("net", yuan(o.net));
    ov.set("settled", page_time(o.settled_at_ms));
    orders.push_back(ov);
  }
  v.set("orders", orders);
  v.set("no_orders", orders.empty());
  return v;
}

// The household's platform income month by month over the last year, against the poverty
// line for its members (the county model's yearly line per person, by month).
Result<std::string> income_chart(db::Session& s, const mk::Household& h, const Clock& clock,
                                 Lang lang) {
  const std::int64_t now = clock.now_ms();
  const auto lines =
      CUNHUO_TRY(payments::settlement_lines(s, h.id.value, now - al::kIncomeWindowMs, now));
  const auto model = CUNHUO_TRY(al::current_model(s, county_of(h.village_code)));
  web::Chart chart{.title = text_of("office_chart_income", lang),
                   .labels = {},
                   .series = {{text_of("office_net", lang), {}}},
                   .value_text = yuan_text,
                   .limit = static_cast<double>(model.poverty_line_per_person_year.fen()) *
                            std::max(1, h.member_count) / 12.0 / 100.0,
                   .limit_label = text_of("office_chart_line", lang)};
  constexpr std::int64_t kMonthMs = 30LL * 86'400'000;
  std::map<std::string, double> by_month;
  for (std::int64_t at = now - 11 * kMonthMs; at <= now; at += kMonthMs) by_month[month_label(at)];
  for (const auto& l : lines)
    if (auto m = by_month.find(month_label(l.settled_at_ms)); m != by_month.end())
      m->second += static_cast<double>(l.net.fen()) / 100.0;
  for (const auto& [month, net] : by_month) {
    chart.labels.push_back(month);
    chart.series[0].values.push_back(net);
  }
  return web::line_chart(chart);
}

// The household's alerts, open first: the office's area holds them by village.
Result<ViewList> household_alerts(db::Session& s, const mk::Household& h, Lang lang,
                                  const std::string& action_base) {
  ViewList out;
  for (const char* status : {"open", "proposed", "closed"})
    for (const auto& a : CUNHUO_TRY(al::alerts_for(s, h.village_code, std::nullopt, status)))
      if (a.household_id == h.id.value) out.push_back(alert_view(a, lang, action_base));
  return out;
}

Result<Page> household_page(const OfficePageContext& ctx, const PageCall& call) {
  const std::int64_t id = CUNHUO_TRY(call.path_id("household"));
  const Account& a = call.caller();
  const Lang lang = call.lang;
  auto v = CUNHUO_TRY(ctx.db.read([&](db::Session& s) -> Result<std::optional<web::View>> {
    if (!CUNHUO_TRY(household_for(s, a, id))) return std::optional<web::View>();
    auto record = CUNHUO_TRY(mk::find_household_record(s, mk::HouseholdId{id}));
    if (!record) return std::optional<web::View>();
    const auto seen = view_of(ObjectKind::household_card, a.role, Relation::in_area);
    web::View out = card_view(*record, seen, lang);
    out.set("village", CUNHUO_TRY(place_text(s, record->household.village_code, lang)));
    out.set("audit", audit_views(CUNHUO_TRY(mk::household_audit(s, record->household.id)), seen));
    out.set("score", CUNHUO_TRY(score_view(s, id, lang)));
    out.set("income_chart", CUNHUO_TRY(income_chart(s, record->household, ctx.clock, lang)));
    out.set("alerts", CUNHUO_TRY(household_alerts(s, record->household, lang, "/office/alerts/")));
    return std::optional<web::View>(std::move(out));
  }));
  if (!v) return page_not_found("household");
  return Page::show("office_household", "title_office_household", std::move(*v));
}

// ---- /office/funds -------------------------------------------------------------------

// Each project of the county, its allocations, and each allocation's disbursements to the
// villages and households of the office's area.
Result<Page> funds_page(const OfficePageContext& ctx, const PageCall& call) {
  const Account& a = call.caller();
  const std::string area = a.role == Role::admin ? "" : a.region_code;
  const std::string county = county_of(a.region_code);
  auto v = CUNHUO_TRY(ctx.db.read([&](db::Session& s) -> Result<web::View> {
    ViewList projects;
    auto all = CUNHUO_TRY(al::projects_in(s, county));
    if (all.size() > static_cast<std::size_t>(kOfficeFundProjects))
      all.resize(static_cast<std::size_t>(kOfficeFundProjects));
    for (const auto& p : all) {
      web::View pv;
      pv.set("name", p.name);
      pv.set("kind", p.kind);
      pv.set("budget", yuan(p.budget));
      pv.set("allocated", yuan(p.allocated));
      pv.set("disbursed", yuan(p.disbursed));
      ViewList allocations;
      for (const auto& alloc : CUNHUO_TRY(al::allocations_of(s, p.id))) {
        web::View av;
        av.set("document", alloc.document_number);
        av.set("amount", yuan(alloc.amount));
        av.set("remaining", yuan(alloc.remaining()));
        av.set("at", page_time(alloc.at_ms));
        ViewList paid;
        for (const auto& d : CUNHUO_TRY(al::disbursements_of(s, alloc.id))) {
          if (!region_within(d.village_code, area)) continue;
          if (static_cast<int>(paid.size()) == kOfficeTracedDisbursements) break;
          web::View dv;
          dv.set("document", d.document_number);
          dv.set("amount", yuan(d.amount));
          dv.set("village", d.village_code);
          if (d.household_id) dv.set("household", std::to_string(*d.household_id));
          dv.set("recipient", mask_id_number(d.id_number));
          dv.set("at", page_time(d.at_ms));
          paid.push_back(dv);
        }
        av.set("disbursements", paid);
        allocations.push_back(av);
      }
      pv.set("allocations", allocations);
      projects.push_back(pv);
    }
    web::View out;
    out.set("projects", projects);
    out.set("empty", projects.empty());
    return out;
  }));
  return Page::show("office_funds", "title_office_funds", std::move(v));
}

// ---- /office/statistics --------------------------------------------------------------

// The statistics as charts: sales and income to registered households per month (oldest
// first; a withheld month is a gap), and each part of the area's households by status.
std::string statistics_charts(db::Session& s, const al::AreaStatistics& stats, Lang lang) {
  web::Chart money{.title = text_of("office_chart_sales", lang),
                   .labels = {},
                   .series = {{text_of("statistics_sales_yuan", lang), {}},
                              {text_of("statistics_income_yuan", lang), {}}},
                   .value_text = yuan_text};
  for (auto it = stats.months.rbegin(); it != stats.months.rend(); ++it) {
    money.labels.push_back(it->month);
    money.series[0].values.push_back(yuan_value(it->sales));
    money.series[1].values.push_back(yuan_value(it->income_to_registered));
  }
  std::string out = web::line_chart(money);
  if (stats.parts.empty()) return out;
  web::Chart parts{.title = text_of("office_chart_households", lang),
                   .labels = {},
                   .series = {{text_of("statistics_poor", lang), {}},
                              {text_of("statistics_at_risk", lang), {}},
                              {text_of("statistics_exited", lang), {}},
                              {text_of("statistics_returned", lang), {}}},
                   .value_text = count_text};
  std::vector<std::string> codes;
  for (const auto& p : stats.parts) codes.push_back(p.code);
  const auto names = mk::place_names(s, codes);
  for (const auto& p : stats.parts) {
    parts.labels.push_back(names.ok() && names->contains(p.code) ? names->at(p.code) : p.code);
    parts.series[0].values.push_back(static_cast<double>(p.poor));
    parts.series[1].values.push_back(static_cast<double>(p.at_risk));
    parts.series[2].values.push_back(static_cast<double>(p.exited));
    parts.series[3].values.push_back(static_cast<double>(p.returned));
  }
  return out + web::bar_chart(parts);
}

Result<Page> statistics_page(const OfficePageContext& ctx, const PageCall& call) {
  const Account& a = call.caller();
  const std::string area = a.role == Role::admin ? county_of(a.region_code) : a.region_code;
  const Lang lang = call.lang;
  auto v = CUNHUO_TRY(ctx.db.read([&](db::Session& s) -> Result<web::View> {
    const auto stats = CUNHUO_TRY(al::area_statistics(s, area, 12, ctx.clock));
    web::View out;
    out.set("place", CUNHUO_TRY(place_text(s, area, lang)));
    out.set("as_of", page_time(stats.generated_at_ms));
    out.set("charts", statistics_charts(s, stats, lang));
    ViewList months;
    for (const auto& m : stats.months) {
      web::View mv;
      mv.set("month", m.month);
      mv.set("households", std::to_string(m.selling_households));
      mv.set("sales", al::shown_yuan(m.sales, false));
      mv.set("income", al::shown_yuan(m.income_to_registered, false));
      months.push_back(mv);
    }
    out.set("months", months);
    return out;
  }));
  return Page::show("office_statistics", "title_office_statistics", std::move(v));
}

// ---- /office/alerts ------------------------------------------------------------------

// Every alert of the area in one status, newest first, a page at a time by the cursor the
// API's list seals (the last alert's id).
Result<Page> alerts_page(const OfficePageContext& ctx, const PageCall& call) {
  const Account& a = call.caller();
  const std::string status = call.request.query_param("status").value_or("open");
  if (status != "open" && status != "proposed" && status != "closed")
    return make_error(ErrorKind::invalid, "invalid_status", "open, proposed or closed", "status");
  const std::string list = "office-alerts:" + std::to_string(a.id) + ":" + status;
  const auto page =
      CUNHUO_TRY(read_page(std::nullopt, call.request.query_param("cursor"), ctx.cursors, list, 1));
  auto alerts = CUNHUO_TRY(ctx.db.read([&](db::Session& s) {
    return al::alerts_for(s, a.role == Role::admin ? std::string() : a.region_code, std::nullopt,
                          status, page.after ? std::optional(page.after->front()) : std::nullopt,
                          page.limit + 1);
  }));
  web::View v;
  if (static_cast<std::int64_t>(alerts.size()) > page.limit) {
    alerts.resize(static_cast<std::size_t>(page.limit));
    v.set("next", "/office/alerts?status=" + status +
                      "&cursor=" + web::percent_encode(ctx.cursors.seal(list, {alerts.back().id})));
  }
  ViewList items;
  for (const auto& alert : alerts) items.push_back(alert_view(alert, call.lang, "/office/alerts/"));
  v.set("alerts", items);
  v.set("status", word("alert_" + status, status, call.lang));
  return Page::show("office_alerts", "title_office_alerts", std::move(v));
}

}  // namespace

void add_office_record_pages(web::PageTable& pages, const OfficePageContext& ctx) {
  const Access office = only({Role::poverty_office, Role::admin});
  pages.add({.pattern = "/office/households/:id",
             .access = office,
             .summary = "A household of the area: card, audit trail, score with the income "
                        "traced to orders, and alerts",
             .handler = [ctx](const PageCall& call) { return household_page(ctx, call); }});
  pages.add({.pattern = "/office/alerts",
             .access = office,
             .summary = "The area's alerts in one status, newest first, by pages",
             .handler = [ctx](const PageCall& call) { return alerts_page(ctx, call); }});
  pages.add({.pattern = "/office/funds",
             .access = office,
             .summary = "Fund traces from allocation to recipient",
             .handler = [ctx](const PageCall& call) { return funds_page(ctx, call); }});
  pages.add({.pattern = "/office/statistics",
             .access = office,
             .summary = "The area's open statistics as charts",
             .handler = [ctx](const PageCall& call) { return statistics_page(ctx, call); }});
}

}  // namespace cunhuo::storefront
