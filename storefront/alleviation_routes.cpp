#include "storefront/alleviation_routes.hpp"

#include <memory>

#include "alleviation/exits.hpp"
#include "alleviation/monitoring.hpp"
#include "alleviation/scores.hpp"
#include "core/json.hpp"
#include "core/region.hpp"
#include "marketplace/archive.hpp"
#include "payments/settlement.hpp"
#include "storefront/rate_limit.hpp"
#include "storefront/route_support.hpp"

namespace cunhuo::storefront {
namespace {

namespace al = cunhuo::alleviation;

constexpr RateLimit kObjectionsPerAddress{.max_events = 5, .window_ms = 3600LL * 1000};

// Why, as well as what: every indicator with its inputs, and the inputs themselves.
// Leaves the object open when `close` is false, for the caller to add to it.
void write_evaluation(JsonWriter& w, const al::StoredEvaluation& e, bool close = true) {
  const auto& r = e.result;
  w.begin_object().field("id", e.id).field("household_id", e.household_id).field("model_version", r.model_version);
  w.field("score", r.score).field("band", al::to_string(r.band)).field("exit_eligible", r.exit_eligible);
  w.key("failed_veto");
  if (r.failed_veto) w.value(al::to_string(*r.failed_veto)); else w.null();
  w.field("per_capita_income_fen", r.per_capita_income.fen()).field("evaluated_at", format_shanghai(e.created_at_ms));
  w.key("indicators").begin_array();
  for (const auto& i : r.indicators)
    w.begin_object().field("indicator", al::to_string(i.indicator)).field("weight", i.weight).field("veto", i.veto)
        .field("met", i.met).field("points", i.points).field("inputs", i.inputs).end_object();
  w.end_array();
  const auto& f = e.inputs;
  w.key("inputs").begin_object().field("members", f.members).field("card_income_fen", f.registry_income.fen());
  w.field("platform_net_income_fen", f.platform_net.fen()).field("platform_income_note", "net settled sales over the twelve months before, " + f.platform_net.to_yuan() + " yuan");
  w.field("housing_safe", f.housing_safe).field("water_safe", f.water_safe).field("school_age_out_of_school", f.school_age_out_of_school);
  w.field("members_uninsured", f.members_uninsured).field("stable_income_source", f.stable_income_source).end_object();
  if (close) w.end_object();
}

constexpr std::size_t kMaxEvidenceOrders = 100;

// The settled orders behind an evaluation's platform income: the ledger's settlement lines
// of the year before it, summed per order, so the income can be traced to each sale.
Status write_income_evidence(JsonWriter& w, db::Session& s, const al::StoredEvaluation& e) {
  const auto lines = CUNHUO_TRY(payments::settlement_lines(s, e.household_id, e.created_at_ms - al::kIncomeWindowMs, e.created_at_ms));
  std::vector<payments::SettlementLine> orders;  // one per order, in settlement order; line_no counts its lines
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
  w.key("income_evidence").begin_object().field("orders_count", static_cast<std::int64_t>(orders.size()));
  w.field("window", format_shanghai(e.created_at_ms - al::kIncomeWindowMs) + " – " + format_shanghai(e.created_at_ms));
  w.key("orders").begin_array();
  for (std::size_t i = 0; i < orders.size() && i < kMaxEvidenceOrders; ++i) {
    const auto& o = orders[i];
    w.begin_object().field("order_id", o.order_id).field("title", o.title).field("lines", static_cast<std::int64_t>(o.line_no));
    w.field("gross_fen", o.gross.fen()).field("net_fen", o.net.fen());
    w.field("settled_at", format_shanghai(o.settled_at_ms)).end_object();
  }
  w.end_array().field("statement", "/api/v1/households/" + std::to_string(e.household_id) + "/statements/" +
                                       format_date(shanghai_date(e.created_at_ms)).substr(0, 4)).end_object();
  return {};
}

Result<Response> household_evaluations(AlleviationContext& ctx, const Call& call) {
  const Request& req = call.request;
  const Account& account = call.caller();
  const std::int64_t id = CUNHUO_TRY(path_id(req));
  return ctx.db.read([&](db::Session& s) -> Result<Response> {
    if (!CUNHUO_TRY(household_for(s, account, id))) return no_such("household");
    JsonWriter w;
    w.begin_object().key("evaluations").begin_array();
    bool newest = true;
    for (const auto& e : CUNHUO_TRY(al::evaluations_of(s, id, 20))) {
      write_evaluation(w, e, false);
      if (newest) CUNHUO_CHECK(write_income_evidence(w, s, e));  // the newest carries its orders; older ones their sums
      newest = false;
      w.end_object();
    }
    w.end_array().end_object();
    return Response::json(200, w.take());
  });
}

// The area a bulk run covers: {"region_code"} within the office's own area, the office's
// area when absent ("" for an admin: the whole store).
Result<std::string> office_area(const Account& account, const Request& req) {
  const Json doc = CUNHUO_TRY(json_body(req));
  auto body = CUNHUO_TRY(FieldReader::root(doc));
  CUNHUO_CHECK(body.only({"region_code"}));
  std::string region = CUNHUO_TRY(body.optional_string("region_code", 12)).value_or(account.role == Role::admin ? "" : account.region_code);
  if (!region.empty()) CUNHUO_TRY(region_level(region, "region_code"));
  if (account.role != Role::admin && !region_within(region, account.region_code))
    return make_error(ErrorKind::forbidden, "forbidden", "households of your own area only", "region_code");
  return region;
}

Result<Response> rescore(AlleviationContext& ctx, const Call& call) {
  const Request& req = call.request;
  const Account& account = call.caller();
  const std::string region = CUNHUO_TRY(office_area(account, req));
  const auto n = CUNHUO_TRY(al::rescore_all(ctx.db, region_prefix(region), ctx.clock));
  JsonWriter w;
  w.begin_object().field("region_code", region).field("rescored", n).end_object();
  return Response::json(200, w.take());
}

// The county a request reads: `?county=` or the caller's own.
Result<std::string> county_to_read(const Account& account, const Request& req) {
  const std::string county = req.query_param("county").value_or(county_of(account.region_code));
  if (county.size() != 6) return make_error(ErrorKind::invalid, "invalid_region_code", "name a 6-digit county code", "county");
  CUNHUO_TRY(region_level(county, "county"));
  return county;
}

// Models and monitoring rules are a county's: only its own county office sets them (a
// township office reviews under them, it does not set them), or an admin naming the county.
Result<std::string> county_to_govern(const Account& account, const Request& req) {
  if (account.role == Role::poverty_office && account.region_code.size() != 6)
    return make_error(ErrorKind::forbidden, "county_office_only", "the county office sets its county's rules");
  if (account.role != Role::admin && account.role != Role::poverty_office)
    return make_error(ErrorKind::forbidden, "forbidden", "the county office sets its county's rules");
  auto given = req.query_param("county");
  if (account.role == Role::admin && !given)
    return make_error(ErrorKind::invalid, "missing_county", "name the county as ?county=", "county");
  const std::string county = given.value_or(account.region_code);
  if (county.size() != 6) return make_error(ErrorKind::invalid, "invalid_region_code", "name a 6-digit county code", "county");
  CUNHUO_TRY(region_level(county, "county"));
  if (account.role != Role::admin && county != account.region_code)
    return make_error(ErrorKind::forbidden, "outside_your_area", "another county's rules are its own office's", "county");
  return county;
}

Result<Response> current_model(AlleviationContext& ctx, const Call& call) {
  const Request& req = call.request;
  const Account& account = call.caller();
  const std::string county = CUNHUO_TRY(county_to_read(account, req));
  auto m = CUNHUO_TRY(ctx.db.read([&](db::Session& s) { return al::current_model(s, county); }));
  return Response::json(200, al::model_json(m));
}

Result<Response> add_model(AlleviationContext& ctx, const Call& call) {
  const Request& req = call.request;
  const Account& account = call.caller();
  const std::string county = CUNHUO_TRY(county_to_govern(account, req));
  auto model = CUNHUO_TRY(al::model_from_json(req.body));
  auto stored = CUNHUO_TRY(ctx.db.write([&](db::Session& tx) {
    return al::add_model(tx, model, county, actor_of(account), ctx.clock);
  }));
  return Response::json(201, al::model_json(stored));
}

// Who changed a county's model and when: its office and admins read the audit.
Result<Response> model_history(AlleviationContext& ctx, const Call& call) {
  const Request& req = call.request;
  const Account& account = call.caller();
  const std::string county = CUNHUO_TRY(county_to_read(account, req));
  if (account.role != Role::admin && !region_within(county, account.region_code) &&
      !region_within(account.region_code, county))
    return make_error(ErrorKind::forbidden, "outside_your_area", "another county's audit is its own", "county");
  auto changes = CUNHUO_TRY(ctx.db.read([&](db::Session& s) { return al::model_history(s, county); }));
  JsonWriter w;
  w.begin_object().field("county_code", county).key("changes").begin_array();
  for (const auto& c : changes)
    w.begin_object().field("version", c.version).field("actor", c.actor).field("at", format_utc(c.at_ms)).end_object();
  w.end_array().end_object();
  return Response::json(200, w.take());
}

// ---- exit proposals, notices, objections -------------------------------------------

void write_proposal(JsonWriter& w, const al::ExitProposal& p) {
  w.begin_object().field("id", p.id).field("household_id", p.household_id).field("evaluation_id", p.evaluation_id).field("status", p.status);
  w.key("notice_ends_at");
  if (p.notice_ends_ms) w.value(format_shanghai(*p.notice_ends_ms)); else w.null();
  w.key("steps").begin_array();
  for (const auto& st : p.steps)
    w.begin_object().field("step", st.step).field("actor", st.actor).field("decision", st.decision).field("reason", st.reason)
        .field("at", format_shanghai(st.at_ms)).end_object();
  w.end_array().key("objections").begin_array();
  for (const auto& o : p.objections)
    w.begin_object().field("id", o.id).field("text", o.text).field("status", o.status).field("resolution", o.resolution)
        .field("lodged_at", format_shanghai(o.lodged_at_ms)).end_object();
  w.end_array().end_object();
}

Response proposal_response(const al::ExitProposal& p, int status = 200) {
  JsonWriter w;
  write_proposal(w, p);
  return Response::json(status, w.take());
}

Result<Response> household_proposals(AlleviationContext& ctx, const Call& call) {
  const Request& req = call.request;
  const Account& account = call.caller();
  const std::int64_t id = CUNHUO_TRY(path_id(req));
  return ctx.db.read([&](db::Session& s) -> Result<Response> {
    if (!CUNHUO_TRY(household_for(s, account, id))) return no_such("household");
    JsonWriter w;
    w.begin_object().key("proposals").begin_array();
    for (const auto& p : CUNHUO_TRY(al::proposals_of(s, id))) write_proposal(w, p);
    w.end_array().end_object();
    return Response::json(200, w.take());
  });
}

// Offices act on households of their own area: the township office reviews (for its
// villages too), the county office approves, resolves objections and marks the exit.
Result<al::ExitProposal> proposal_for_office(db::Session& tx, const Account& a, std::int64_t id, bool county) {
  auto p = CUNHUO_TRY(al::find_proposal(tx, id));
  if (!p) return no_such("exit proposal");
  auto h = CUNHUO_TRY(marketplace::find_household(tx, marketplace::HouseholdId{p->household_id}));
  if (a.role == Role::admin) return std::move(*p);
  if (a.role != Role::poverty_office || !h || !region_within(h->village_code, a.region_code)) return no_such("exit proposal");
  if (county != (a.region_code.size() == 6))
    return make_error(ErrorKind::forbidden, "forbidden", county ? "the county office decides this" : "the township office reviews this");
  return std::move(*p);
}

struct Decision {
  bool approve = false;
  std::string reason, level;
};

Result<Decision> decision_of(const Request& req, const char* yes_field, bool with_level) {
  const Json doc = CUNHUO_TRY(json_body(req));
  auto body = CUNHUO_TRY(FieldReader::root(doc));
  if (with_level) CUNHUO_CHECK(body.only({yes_field, "reason", "level"}));
  else CUNHUO_CHECK(body.only({yes_field, "reason"}));
  Decision d{CUNHUO_TRY(body.boolean(yes_field)), CUNHUO_TRY(body.string("reason", 500)), ""};
  if (with_level) d.level = CUNHUO_TRY(body.string("level", 20));
  return d;
}

Result<Response> review(AlleviationContext& ctx, const Call& call) {
  const Request& req = call.request;
  const Account& account = call.caller();
  const std::int64_t id = CUNHUO_TRY(path_id(req));
  const Decision d = CUNHUO_TRY(decision_of(req, "approve", true));
  return ctx.db.write([&](db::Session& tx) -> Result<Response> {
    CUNHUO_TRY(proposal_for_office(tx, account, id, false));
    return proposal_response(CUNHUO_TRY(al::review_proposal(tx, id, d.level, d.approve, actor_of(account), d.reason, ctx.clock)));
  });
}

Result<Response> county_decision(AlleviationContext& ctx, const Call& call) {
  const Request& req = call.request;
  const Account& account = call.caller();
  const std::int64_t id = CUNHUO_TRY(path_id(req));
  const Decision d = CUNHUO_TRY(decision_of(req, "approve", false));
  return ctx.db.write([&](db::Session& tx) -> Result<Response> {
    CUNHUO_TRY(proposal_for_office(tx, account, id, true));
    return proposal_response(CUNHUO_TRY(al::decide_proposal(tx, id, d.approve, ctx.exit_notice_ms, actor_of(account), d.reason, ctx.clock)));
  });
}

// Anyone may object while the notice runs: no account needed.
Result<Response> object(AlleviationContext& ctx, const Call& call) {
  const Request& req = call.request;
  const std::int64_t id = CUNHUO_TRY(path_id(req));
  const Json doc = CUNHUO_TRY(json_body(req));
  auto body = CUNHUO_TRY(FieldReader::root(doc));
  CUNHUO_CHECK(body.only({"text"}));
  const std::string text = CUNHUO_TRY(body.string("text", 2000));
  auto o = CUNHUO_TRY(ctx.db.write([&](db::Session& tx) { return al::lodge_objection(tx, id, text, ctx.clock); }));
  JsonWriter w;
  w.begin_object().field("id", o.id).field("proposal_id", o.proposal_id).field("status", o.status).end_object();
  return Response::json(201, w.take());
}

Result<Response> resolve(AlleviationContext& ctx, const Call& call) {
  const Request& req = call.request;
  const Account& account = call.caller();
  const std::int64_t id = CUNHUO_TRY(path_id(req));
  const Decision d = CUNHUO_TRY(decision_of(req, "upheld", false));
  return ctx.db.write([&](db::Session& tx) -> Result<Response> {
    auto o = CUNHUO_TRY(tx.query_one("SELECT proposal_id FROM exit_objections WHERE id = ?", {id}));
    if (!o) return no_such("objection");
    CUNHUO_TRY(proposal_for_office(tx, account, o->i64(0), true));
    return proposal_response(CUNHUO_TRY(al::resolve_objection(tx, id, d.approve, actor_of(account), d.reason, ctx.clock)));
  });
}

Result<Response> mark_exited(AlleviationContext& ctx, const Call& call) {
  const Request& req = call.request;
  const Account& account = call.caller();
  const std::int64_t id = CUNHUO_TRY(path_id(req));
  const Json doc = CUNHUO_TRY(json_body(req));
  auto body = CUNHUO_TRY(FieldReader::root(doc));
  CUNHUO_CHECK(body.only({"reason"}));
  const std::string reason = CUNHUO_TRY(body.string("reason", 500));
  return ctx.db.write([&](db::Session& tx) -> Result<Response> {
    CUNHUO_TRY(proposal_for_office(tx, account, id, true));
    return proposal_response(CUNHUO_TRY(al::complete_exit(tx, id, actor_of(account), reason, ctx.clock)));
  });
}

// Public: masked names, village codes and deadlines; nothing else about the household.
Result<Response> public_notices(AlleviationContext& ctx, const Call& call) {
  const Request& req = call.request;
  const std::string region = req.query_param("region").value_or("");
  if (region.empty()) return make_error(ErrorKind::invalid, "missing_field", "give ?region=CODE", "region");
  CUNHUO_TRY(region_level(region, "region"));
  auto notices = CUNHUO_TRY(ctx.db.read([&](db::Session& s) { return al::notices_in(s, region, ctx.clock); }));
  JsonWriter w;
  w.begin_object().key("notices").begin_array();
  for (const auto& n : notices)
    w.begin_object().field("proposal_id", n.proposal_id).field("household", n.masked_name).field("village_code", n.village_code)
        .field("members", static_cast<std::int64_t>(n.members)).field("proposed_status", "exited")
        .field("objections_until", format_shanghai(n.ends_ms)).end_object();
  w.end_array().end_object();
  return Response::json(200, w.take());
}

// ---- monitoring --------------------------------------------------------------------

void write_alert(JsonWriter& w, const al::Alert& a) {
  w.begin_object().field("id", a.id).field("household_id", a.household_id).field("village_code", a.village_code).field("rule", a.rule);
  w.field("figures", a.figures).field("status", a.status).field("outcome", a.outcome).field("raised_at", format_shanghai(a.raised_at_ms));
  w.key("helper_account");
  if (a.helper_account) w.value(*a.helper_account); else w.null();
  w.key("history").begin_array();
  for (const auto& h : a.history) w.value(h);
  w.end_array().end_object();
}

// The township and county offices see their area's alerts; a helper the ones assigned to them.
bool may_see_alert(const Account& a, const al::Alert& alert) {
  if (a.role == Role::admin) return true;
  if (a.role == Role::poverty_office && region_within(alert.village_code, a.region_code)) return true;
  return a.role == Role::helper && alert.helper_account == a.id;
}

Result<Response> set_monitoring_rules(AlleviationContext& ctx, const Call& call) {
  const Request& req = call.request;
  const Account& account = call.caller();
  const std::string county = CUNHUO_TRY(county_to_govern(account, req));
  const Json doc = CUNHUO_TRY(json_body(req));
  auto body = CUNHUO_TRY(FieldReader::root(doc));
  CUNHUO_CHECK(body.only({"income_projection_bps", "income_drop_bps", "large_expense_fen", "no_sales_days"}));
  al::MonitoringRules r;
  r.income_projection_bps = static_cast<int>(CUNHUO_TRY(body.integer("income_projection_bps", INT32_MIN, INT32_MAX)));
  r.income_drop_bps = static_cast<int>(CUNHUO_TRY(body.integer("income_drop_bps", INT32_MIN, INT32_MAX)));
  r.large_expense = Money::fen(CUNHUO_TRY(body.integer("large_expense_fen", INT64_MIN, INT64_MAX)));
  r.no_sales_days = static_cast<int>(CUNHUO_TRY(body.integer("no_sales_days", INT32_MIN, INT32_MAX)));
  CUNHUO_CHECK(ctx.db.write([&](db::Session& tx) { return al::set_rules(tx, r, county, actor_of(account), ctx.clock); }));
  return Response::json(200, doc.type() == Json::Type::object ? req.body : "{}");
}

Result<Response> record_expense(AlleviationContext& ctx, const Call& call) {
  const Request& req = call.request;
  const Account& account = call.caller();
  const std::int64_t id = CUNHUO_TRY(path_id(req));
  const Json doc = CUNHUO_TRY(json_body(req));
  auto body = CUNHUO_TRY(FieldReader::root(doc));
  CUNHUO_CHECK(body.only({"kind", "amount_fen", "note"}));
  const std::string kind = CUNHUO_TRY(body.string("kind", 12));
  const Money amount = Money::fen(CUNHUO_TRY(body.integer("amount_fen", INT64_MIN, INT64_MAX)));
  const std::string note = CUNHUO_TRY(body.optional_string("note", 500)).value_or("");
  return ctx.db.write([&](db::Session& tx) -> Result<Response> {
    if (!CUNHUO_TRY(household_for(tx, account, id))) return no_such("household");
    CUNHUO_CHECK(al::record_expense(tx, id, kind, amount, note, actor_of(account), ctx.clock));
    JsonWriter w;
    w.begin_object().field("household_id", id).key("alerts").begin_array();
    for (auto alert : CUNHUO_TRY(al::monitor_household(tx, id, ctx.clock))) w.value(alert);
    w.end_array().end_object();
    return Response::json(201, w.take());
  });
}

// The monitoring pass the service runs daily, on demand for an area.
Result<Response> run_monitoring(AlleviationContext& ctx, const Call& call) {
  const Request& req = call.request;
  const Account& account = call.caller();
  const std::string region = CUNHUO_TRY(office_area(account, req));
  const auto opened = CUNHUO_TRY(al::monitor_all(ctx.db, region_prefix(region), ctx.clock));
  JsonWriter w;
  w.begin_object().field("region_code", region).field("alerts_opened", opened).end_object();
  return Response::json(200, w.take());
}

// Offices list their area's alerts, helpers the ones assigned to them; nobody else has any.
Result<Response> list_alerts(AlleviationContext& ctx, const Call& call) {
  const Request& req = call.request;
  const Account& account = call.caller();
  const std::string status = req.query_param("status").value_or("open");
  if (status != "open" && status != "closed" && status != "proposed")
    return make_error(ErrorKind::invalid, "invalid_status", "open, proposed or closed", "status");
  const bool office = account.role == Role::poverty_office || account.role == Role::admin;
  auto alerts = CUNHUO_TRY(ctx.db.read([&](db::Session& s) {
    return al::alerts_for(s, account.role == Role::admin ? std::string() : account.region_code,
                          office ? std::nullopt : std::optional<std::int64_t>(account.id), status);
  }));
  JsonWriter w;
  w.begin_object().key("alerts").begin_array();
  for (const auto& a : alerts) write_alert(w, a);
  w.end_array().end_object();
  return Response::json(200, w.take());
}

Result<Response> close_alert(AlleviationContext& ctx, const Call& call) {
  const Request& req = call.request;
  const Account& account = call.caller();
  const std::int64_t id = CUNHUO_TRY(path_id(req));
  const Json doc = CUNHUO_TRY(json_body(req));
  auto body = CUNHUO_TRY(FieldReader::root(doc));
  CUNHUO_CHECK(body.only({"outcome", "note"}));
  const std::string outcome = CUNHUO_TRY(body.string("outcome", 20)), note = CUNHUO_TRY(body.string("note", 500));
  return ctx.db.write([&](db::Session& tx) -> Result<Response> {
    auto a = CUNHUO_TRY(al::find_alert(tx, id));
    if (!a || !may_see_alert(account, *a)) return no_such("alert");
    JsonWriter w;
    const auto closer = account.role == Role::helper ? al::AlertCloser::helper : al::AlertCloser::office;
    write_alert(w, CUNHUO_TRY(al::close_alert(tx, id, outcome, note, actor_of(account), closer, ctx.clock)));
    return Response::json(200, w.take());
  });
}

// The office of the household's area decides on a helper's proposed status change.
Result<Response> decide_status_change(AlleviationContext& ctx, const Call& call) {
  const Request& req = call.request;
  const Account& account = call.caller();
  const std::int64_t id = CUNHUO_TRY(path_id(req));
  const Json doc = CUNHUO_TRY(json_body(req));
  auto body = CUNHUO_TRY(FieldReader::root(doc));
  CUNHUO_CHECK(body.only({"approve", "reason"}));
  const bool approve = CUNHUO_TRY(body.boolean("approve"));
  const std::string reason = CUNHUO_TRY(body.string("reason", 500));
  return ctx.db.write([&](db::Session& tx) -> Result<Response> {
    auto a = CUNHUO_TRY(al::find_alert(tx, id));
    if (!a || !may_see_alert(account, *a)) return no_such("alert");
    JsonWriter w;
    write_alert(w, CUNHUO_TRY(al::decide_status_change(tx, id, approve, reason, actor_of(account), ctx.clock)));
    return Response::json(200, w.take());
  });
}


}  // namespace

void add_alleviation_routes(RouteTable& table, AlleviationContext ctx) {
  auto bind = [ctx](auto fn) { return [ctx, fn](const Call& call) mutable { return fn(ctx, call); }; };
  // Objections are anonymous: each client address lodges a few an hour at most.
  auto objections = std::make_shared<RateLimiter>(kObjectionsPerAddress, ctx.clock);
  table.add({.method = "GET",
             .pattern = "/api/v1/households/:id/evaluations",
             .access = signed_in(),
             .summary = "A household's exit scores, newest first, each with its indicators, inputs and model version",
             .handler = bind(household_evaluations)});
  table.add({.method = "POST",
             .pattern = "/api/v1/evaluations/rescore",
             .access = only({Role::poverty_office, Role::admin}),
             .body = Body::json,
             .summary = "Score every household of an area again (poverty office)",
             .handler = bind(rescore)});
  table.add({.method = "GET",
             .pattern = "/api/v1/households/:id/exit-proposals",
             .access = signed_in(),
             .summary = "A household's exit proposals with every step",
             .handler = bind(household_proposals)});
  table.add({.method = "POST",
             .pattern = "/api/v1/exit-proposals/:id/review",
             .access = only({Role::poverty_office, Role::admin}),
             .body = Body::json,
             .summary = "Village, then township review of an exit proposal (township office)",
             .handler = bind(review)});
  table.add({.method = "POST",
             .pattern = "/api/v1/exit-proposals/:id/decision",
             .access = only({Role::poverty_office, Role::admin}),
             .body = Body::json,
             .summary = "County approval starts the public notice (county office)",
             .handler = bind(county_decision)});
  table.add({.method = "POST",
             .pattern = "/api/v1/exit-proposals/:id/objections",
             .access = anyone(),
             .body = Body::json,
             .errors = {"notice_closed", "too_many_objections", "too_many_requests", "invalid_length"},
             .summary = "Object to an exit while its notice runs (anyone; a few an hour from one address)",
             .handler = [ctx, objections](const Call& call) mutable -> Result<Response> {
               if (auto wait = objections->take(call.request.client_address))
                 return too_many_requests(*wait, "too many objections from this address; try again later");
               return object(ctx, call);
             }});
  table.add({.method = "POST",
             .pattern = "/api/v1/objections/:id/resolution",
             .access = only({Role::poverty_office, Role::admin}),
             .body = Body::json,
             .summary = "Uphold (the exit is rejected) or dismiss an objection (county office)",
             .handler = bind(resolve)});
  table.add({.method = "POST",
             .pattern = "/api/v1/exit-proposals/:id/exit",
             .access = only({Role::poverty_office, Role::admin}),
             .body = Body::json,
             .summary = "Mark the household exited once the notice closed clean (county office)",
             .handler = bind(mark_exited)});
  table.add({.method = "GET",
             .pattern = "/api/v1/public/notices",
             .access = anyone(),
             .summary = "Exit notices under way in a region, names masked (public)",
             .handler = bind(public_notices)});
  table.add({.method = "PUT",
             .pattern = "/api/v1/monitoring-rules",
             .access = only({Role::poverty_office, Role::admin}),
             .body = Body::json,
             .summary = "Set the county's return-to-poverty alert rules (its county office; admin names ?county=)",
             .handler = bind(set_monitoring_rules)});
  table.add({.method = "POST",
             .pattern = "/api/v1/households/:id/expenses",
             .access = only({Role::poverty_office, Role::admin}),
             .body = Body::json,
             .summary = "Record a large medical or disaster expense; monitoring looks at once",
             .handler = bind(record_expense)});
  table.add({.method = "POST",
             .pattern = "/api/v1/monitoring/runs",
             .access = only({Role::poverty_office, Role::admin}),
             .body = Body::json,
             .summary = "Check every exited and at-risk household of an area against the rules now (poverty office)",
             .handler = bind(run_monitoring)});
  table.add({.method = "GET",
             .pattern = "/api/v1/alerts",
             .access = only({Role::poverty_office, Role::admin, Role::helper}),
             .summary = "Monitoring alerts: the office's area, or those assigned to you as helper",
             .handler = bind(list_alerts)});
  table.add({.method = "POST",
             .pattern = "/api/v1/alerts/:id/close",
             .access = signed_in(),
             .body = Body::json,
             .summary = "Close an alert: help_given, status_changed (returned to poverty; a helper's only proposes it) or false_alarm",
             .handler = bind(close_alert)});
  table.add({.method = "POST",
             .pattern = "/api/v1/alerts/:id/status-decision",
             .access = only({Role::poverty_office, Role::admin}),
             .body = Body::json,
             .summary = "Approve or refuse a helper's proposed return to poverty (poverty office)",
             .handler = bind(decide_status_change)});
  table.add({.method = "GET",
             .pattern = "/api/v1/evaluation-models/current",
             .access = signed_in(),
             .summary = "The evaluation model in force in a county (?county=, default your own)",
             .handler = bind(current_model)});
  table.add({.method = "POST",
             .pattern = "/api/v1/evaluation-models",
             .access = only({Role::poverty_office, Role::admin}),
             .body = Body::json,
             .summary = "A new version of the county's evaluation model (its county office; admin names ?county=)",
             .handler = bind(add_model)});
  table.add({.method = "GET",
             .pattern = "/api/v1/evaluation-models/history",
             .access = only({Role::poverty_office, Role::admin}),
             .summary = "Who set each of a county's evaluation models, and when (poverty office)",
             .handler = bind(model_history)});
}


}  // namespace cunhuo::storefront
