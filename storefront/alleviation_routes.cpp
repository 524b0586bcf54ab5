#include "storefront/alleviation_routes.hpp"

#include <memory>

#include "alleviation/exits.hpp"
#include "alleviation/monitoring.hpp"
#include "alleviation/scores.hpp"
#include "core/json.hpp"
#include "core/region.hpp"
#include "marketplace/archive.hpp"
#include "payments/settlement.hpp"
#include "storefront/office_moves.hpp"
#include "storefront/rate_limit.hpp"
#include "storefront/route_support.hpp"

namespace cunhuo::storefront {
namespace {

using schema::enum_names;
using schema::one_of;
using schema::shanghai_time;

namespace al = cunhuo::alleviation;

constexpr RateLimit kObjectionsPerAddress{.max_events = 5, .window_ms = 3600LL * 1000};
// What the handlers read of a field whose value the module checks against its own list.
constexpr std::size_t kMaxLevelBytes = 20;        // a review's level: village or township
constexpr std::size_t kMaxExpenseKindBytes = 12;  // medical or disaster
constexpr std::size_t kMaxOutcomeBytes = 20;      // how an alert was closed

schema::Schema indicator_name() { return schema::choice(enum_names<al::Indicator>()); }

// Why, as well as what: every indicator with its inputs, and the inputs themselves.
// Leaves the object open when `close` is false, for the caller to add to it.
void write_evaluation(JsonWriter& w, const al::StoredEvaluation& e, bool close = true) {
  const auto& r = e.result;
  w.begin_object()
      .field("id", e.id)
      .field("household_id", e.household_id)
      .field("model_version", r.model_version);
  w.field("score", r.score)
      .field("band", al::to_string(r.band))
      .field("exit_eligible", r.exit_eligible);
  w.key("failed_veto");
  if (r.failed_veto)
    w.value(al::to_string(*r.failed_veto));
  else
    w.null();
  w.field("per_capita_income_fen", r.per_capita_income.fen())
      .field("evaluated_at", format_shanghai(e.created_at_ms));
  w.key("indicators").begin_array();
  for (const auto& i : r.indicators)
    w.begin_object()
        .field("indicator", al::to_string(i.indicator))
        .field("weight", i.weight)
        .field("veto", i.veto)
        .field("met", i.met)
        .field("points", i.points)
        .field("inputs", i.inputs)
        .end_object();
  w.end_array();
  const auto& f = e.inputs;
  w.key("inputs")
      .begin_object()
      .field("members", f.members)
      .field("card_income_fen", f.registry_income.fen());
  w.field("platform_net_income_fen", f.platform_net.fen())
      .field("platform_income_note", "net settled sales over the twelve months before, " +
                                         f.platform_net.to_yuan() + " yuan");
  w.field("housing_safe", f.housing_safe)
      .field("water_safe", f.water_safe)
      .field("school_age_out_of_school", f.school_age_out_of_school);
  w.field("members_uninsured", f.members_uninsured)
      .field("stable_income_source", f.stable_income_source)
      .end_object();
  if (close) w.end_object();
}

constexpr std::size_t kMaxEvidenceOrders = 100;

// The settled orders behind an evaluation's platform income (income_orders).
Status write_income_evidence(JsonWriter& w, db::Session& s, const al::StoredEvaluation& e) {
  const auto orders = CUNHUO_TRY(income_orders(s, e));
  w.key("income_evidence")
      .begin_object()
      .field("orders_count", static_cast<std::int64_t>(orders.size()));
  w.field("window", format_shanghai(e.created_at_ms - al::kIncomeWindowMs) + " – " +
                        format_shanghai(e.created_at_ms));
  w.key("orders").begin_array();
  for (std::size_t i = 0; i < orders.size() && i < kMaxEvidenceOrders; ++i) {
    const auto& o = orders[i];
    w.begin_object()
        .field("order_id", o.order_id)
        .field("title", o.title)
        .field("lines", static_cast<std::int64_t>(o.line_no));
    w.field("gross_fen", o.gross.fen()).field("net_fen", o.net.fen());
    w.field("settled_at", format_shanghai(o.settled_at_ms)).end_object();
  }
  w.end_array()
      .field("statement", "/api/v1/households/" + std::to_string(e.household_id) + "/statements/" +
                              format_date(shanghai_date(e.created_at_ms)).substr(0, 4))
      .end_object();
  return {};
}

// The income evidence as write_income_evidence writes it.
schema::Schema income_evidence_schema() {
  using namespace schema;
  const Schema order = object({
      required("order_id", id()),
      required("title", text()),
      required("lines", integer(1)),
      required("gross_fen", fen()),
      required("net_fen", fen()),
      required("settled_at", shanghai_time()),
  });
  return object({
      required("orders_count", integer(0)),
      required("window", text().described("from – to, Asia/Shanghai times")),
      required("orders", array(order, kMaxEvidenceOrders)),
      required("statement", text().described("the household's statement of that year")),
  });
}

// An evaluation as write_evaluation writes it; the newest also carries its income evidence.
schema::Schema evaluation_schema() {
  using namespace schema;
  const Schema indicator = object({
      required("indicator", indicator_name()),
      required("weight", integer(0, al::kMaxPoints)),
      required("veto", boolean()),
      required("met", boolean()),
      required("points", integer(0, al::kMaxPoints)),
      required("inputs", text()),
  });
  const Schema inputs = object({
      required("members", integer(0)),
      required("card_income_fen", fen()),
      required("platform_net_income_fen", fen()),
      required("platform_income_note", text()),
      required("housing_safe", boolean()),
      required("water_safe", boolean()),
      required("school_age_out_of_school", integer(0)),
      required("members_uninsured", integer(0)),
      required("stable_income_source", boolean()),
  });
  return object({
      required("id", id()),
      required("household_id", id()),
      required("model_version", integer(1)),
      required("score", integer(0, al::kMaxPoints)),
      required("band", choice(enum_names<al::Band>())),
      required("exit_eligible", boolean()),
      required("failed_veto", nullable(indicator_name())),
      required("per_capita_income_fen", fen()),
      required("evaluated_at", shanghai_time()),
      required("indicators", array(indicator)),
      required("inputs", inputs),
      optional("income_evidence", income_evidence_schema()),
  });
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
      if (newest)
        CUNHUO_CHECK(write_income_evidence(
            w, s, e));  // the newest carries its orders; older ones their sums
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
  const std::string own = account.role == Role::admin ? "" : account.region_code;
  std::string region =
      CUNHUO_TRY(body.optional_string("region_code", kVillageCodeDigits)).value_or(own);
  if (!region.empty()) CUNHUO_TRY(region_level(region, "region_code"));
  if (account.role != Role::admin && !region_within(region, account.region_code))
    return make_error(ErrorKind::forbidden, "forbidden", "households of your own area only",
                      "region_code");
  return region;
}

// The body office_area reads.
schema::Schema office_area_schema() {
  using namespace schema;
  return object({optional(
      "region_code", text(kVillageCodeDigits).described("within your area; yours when absent"))});
}

// What a bulk run answers: the area and how many it did.
schema::Schema bulk_run_schema(const char* count) {
  using namespace schema;
  return object({required("region_code", text().described("\"\": the whole store")),
                 required(count, integer(0))});
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
  if (county.size() != 6)
    return make_error(ErrorKind::invalid, "invalid_region_code", "name a 6-digit county code",
                      "county");
  CUNHUO_TRY(region_level(county, "county"));
  return county;
}

// Models and monitoring rules are a county's: only its own county office sets them (a
// township office reviews under them, it does not set them), or an admin naming the county.
Result<std::string> county_to_govern(const Account& account, const Request& req) {
  if (account.role == Role::poverty_office && account.region_code.size() != 6)
    return make_error(ErrorKind::forbidden, "county_office_only",
                      "the county office sets its county's rules");
  if (account.role != Role::admin && account.role != Role::poverty_office)
    return make_error(ErrorKind::forbidden, "forbidden",
                      "the county office sets its county's rules");
  auto given = req.query_param("county");
  if (account.role == Role::admin && !given)
    return make_error(ErrorKind::invalid, "missing_county",
                      "name the county as ?county=", "county");
  const std::string county = given.value_or(account.region_code);
  if (county.size() != 6)
    return make_error(ErrorKind::invalid, "invalid_region_code", "name a 6-digit county code",
                      "county");
  CUNHUO_TRY(region_level(county, "county"));
  if (account.role != Role::admin && county != account.region_code)
    return make_error(ErrorKind::forbidden, "outside_your_area",
                      "another county's rules are its own office's", "county");
  return county;
}

// A model as al::model_json writes it.
schema::Schema model_schema() {
  using namespace schema;
  const Schema rule =
      object({required("indicator", indicator_name()),
              required("weight", integer(0, al::kMaxPoints)), required("veto", boolean())});
  return object({
      required("version", integer(1)),
      required("name", text()),
      required("exit_threshold", integer(0, al::kMaxPoints)),
      required("lower_band", integer(0, al::kMaxPoints)),
      required("poverty_line_fen", fen()),
      required("sample_values", boolean()),
      required("indicators", array(rule)),
  });
}

// A new model as al::model_from_json reads it; its weights add up to 100.
schema::Schema new_model_schema() {
  using namespace schema;
  const Schema rule = object({
      required("indicator",
               text(al::kMaxIndicatorNameBytes).described(one_of(enum_names<al::Indicator>()))),
      required("weight", integer(0, al::kMaxPoints)),
      optional("veto", boolean()),
  });
  return object({
      optional(
          "version",
          integer(1, al::kMaxModelVersion).described("ignored: the store numbers the versions")),
      required("name", text(al::kMaxModelNameBytes)),
      optional("exit_threshold", integer(0, al::kMaxPoints)),
      optional("lower_band", integer(0, al::kMaxPoints)),
      required("poverty_line_fen", fen(al::kMaxPovertyLineFen)),
      optional("sample_values", boolean()),
      required("indicators", array(rule, al::kMaxModelIndicators)),
  });
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
    return make_error(ErrorKind::forbidden, "outside_your_area",
                      "another county's audit is its own", "county");
  auto changes =
      CUNHUO_TRY(ctx.db.read([&](db::Session& s) { return al::model_history(s, county); }));
  JsonWriter w;
  w.begin_object().field("county_code", county).key("changes").begin_array();
  for (const auto& c : changes)
    w.begin_object()
        .field("version", c.version)
        .field("actor", c.actor)
        .field("at", format_utc(c.at_ms))
        .end_object();
  w.end_array().end_object();
  return Response::json(200, w.take());
}

// The audit as model_history writes it.
schema::Schema model_history_schema() {
  using namespace schema;
  const Schema change = object(
      {required("version", integer(1)), required("actor", text()), required("at", utc_time())});
  return object({required("county_code", text()), required("changes", array(change))});
}

// ---- exit proposals, notices, objections -------------------------------------------

schema::Schema objection_status() { return schema::choice({"open", "upheld", "dismissed"}); }

// A proposal as write_proposal writes it.
schema::Schema proposal_schema() {
  using namespace schema;
  const Schema step = object({
      required("step", choice({"propose", "village_review", "township_review", "county_approval",
                               "objection_resolution", "exit"})),
      required("actor", text()),
      required("decision", choice({"approve", "reject"})),
      required("reason", text()),
      required("at", shanghai_time()),
  });
  const Schema objection = object({
      required("id", id()),
      required("text", text()),
      required("status", objection_status()),
      required("resolution", text()),
      required("lodged_at", shanghai_time()),
  });
  return object({
      required("id", id()),
      required("household_id", id()),
      required("evaluation_id", id()),
      required("status", choice({"proposed", "village_reviewed", "township_reviewed", "in_notice",
                                 "exited", "rejected"})),
      required("notice_ends_at", nullable(shanghai_time())),
      required("steps", array(step)),
      required("objections", array(objection)),
  });
}

void write_proposal(JsonWriter& w, const al::ExitProposal& p) {
  w.begin_object()
      .field("id", p.id)
      .field("household_id", p.household_id)
      .field("evaluation_id", p.evaluation_id)
      .field("status", p.status);
  w.key("notice_ends_at");
  if (p.notice_ends_ms)
    w.value(format_shanghai(*p.notice_ends_ms));
  else
    w.null();
  w.key("steps").begin_array();
  for (const auto& st : p.steps)
    w.begin_object()
        .field("step", st.step)
        .field("actor", st.actor)
        .field("decision", st.decision)
        .field("reason", st.reason)
        .field("at", format_shanghai(st.at_ms))
        .end_object();
  w.end_array().key("objections").begin_array();
  for (const auto& o : p.objections)
    w.begin_object()
        .field("id", o.id)
        .field("text", o.text)
        .field("status", o.status)
        .field("resolution", o.resolution)
        .field("lodged_at", format_shanghai(o.lodged_at_ms))
        .end_object();
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

Result<OfficeDecision> decision_of(const Request& req, const char* yes_field, bool with_level) {
  const Json doc = CUNHUO_TRY(json_body(req));
  auto body = CUNHUO_TRY(FieldReader::root(doc));
  if (with_level)
    CUNHUO_CHECK(body.only({yes_field, "reason", "level"}));
  else
    CUNHUO_CHECK(body.only({yes_field, "reason"}));
  OfficeDecision d{.approve = CUNHUO_TRY(body.boolean(yes_field)),
                   .reason = CUNHUO_TRY(body.string("reason", al::kMaxReasonBytes)),
                   .level = ""};
  if (with_level) d.level = CUNHUO_TRY(body.string("level", kMaxLevelBytes));
  return d;
}

// The body decision_of reads.
schema::Schema decision_schema(const char* yes_field, bool with_level) {
  using namespace schema;
  std::vector<Property> fields{required(yes_field, boolean()),
                               required("reason", text(al::kMaxReasonBytes))};
  if (with_level)
    fields.push_back(required("level", text(kMaxLevelBytes).described("village, then township")));
  return object(fields);
}

Result<Response> review(AlleviationContext& ctx, const Call& call) {
  const Request& req = call.request;
  const Account& account = call.caller();
  const std::int64_t id = CUNHUO_TRY(path_id(req));
  const OfficeDecision d = CUNHUO_TRY(decision_of(req, "approve", true));
  return ctx.db.write([&](db::Session& tx) -> Result<Response> {
    return proposal_response(CUNHUO_TRY(review_exit_as(tx, account, id, d, ctx.clock)));
  });
}

Result<Response> county_decision(AlleviationContext& ctx, const Call& call) {
  const Request& req = call.request;
  const Account& account = call.caller();
  const std::int64_t id = CUNHUO_TRY(path_id(req));
  const OfficeDecision d = CUNHUO_TRY(decision_of(req, "approve", false));
  return ctx.db.write([&](db::Session& tx) -> Result<Response> {
    return proposal_response(
        CUNHUO_TRY(decide_exit_as(tx, account, id, d, ctx.exit_notice_ms, ctx.clock)));
  });
}

// Anyone may object while the notice runs: no account needed.
Result<Response> object_to_exit(AlleviationContext& ctx, const Call& call) {
  const Request& req = call.request;
  const std::int64_t id = CUNHUO_TRY(path_id(req));
  const Json doc = CUNHUO_TRY(json_body(req));
  auto body = CUNHUO_TRY(FieldReader::root(doc));
  CUNHUO_CHECK(body.only({"text"}));
  const std::string text = CUNHUO_TRY(body.string("text", al::kMaxObjectionBytes));
  auto o = CUNHUO_TRY(
      ctx.db.write([&](db::Session& tx) { return al::lodge_objection(tx, id, text, ctx.clock); }));
  JsonWriter w;
  w.begin_object()
      .field("id", o.id)
      .field("proposal_id", o.proposal_id)
      .field("status", o.status)
      .end_object();
  return Response::json(201, w.take());
}

schema::Schema objection_schema() {
  using namespace schema;
  return object({required("text", text(al::kMaxObjectionBytes))});
}

// A lodged objection as object_to_exit answers it.
schema::Schema lodged_schema() {
  using namespace schema;
  return object({required("id", id()), required("proposal_id", id()),
                 required("status", objection_status())});
}

Result<Response> resolve(AlleviationContext& ctx, const Call& call) {
  const Request& req = call.request;
  const Account& account = call.caller();
  const std::int64_t id = CUNHUO_TRY(path_id(req));
  const OfficeDecision d = CUNHUO_TRY(decision_of(req, "upheld", false));
  return ctx.db.write([&](db::Session& tx) -> Result<Response> {
    return proposal_response(CUNHUO_TRY(resolve_objection_as(tx, account, id, d, ctx.clock)));
  });
}

Result<Response> mark_exited(AlleviationContext& ctx, const Call& call) {
  const Request& req = call.request;
  const Account& account = call.caller();
  const std::int64_t id = CUNHUO_TRY(path_id(req));
  const Json doc = CUNHUO_TRY(json_body(req));
  auto body = CUNHUO_TRY(FieldReader::root(doc));
  CUNHUO_CHECK(body.only({"reason"}));
  const std::string reason = CUNHUO_TRY(body.string("reason", al::kMaxReasonBytes));
  return ctx.db.write([&](db::Session& tx) -> Result<Response> {
    const OfficeDecision d{.approve = true, .reason = reason, .level = ""};
    return proposal_response(CUNHUO_TRY(complete_exit_as(tx, account, id, d, ctx.clock)));
  });
}

schema::Schema exit_schema() {
  using namespace schema;
  return object({required("reason", text(al::kMaxReasonBytes))});
}

// Public: masked names, village codes and deadlines; nothing else about the household.
Result<Response> public_notices(AlleviationContext& ctx, const Call& call) {
  const Request& req = call.request;
  const std::string region = req.query_param("region").value_or("");
  if (region.empty())
    return make_error(ErrorKind::invalid, "missing_field", "give ?region=CODE", "region");
  CUNHUO_TRY(region_level(region, "region"));
  auto notices =
      CUNHUO_TRY(ctx.db.read([&](db::Session& s) { return al::notices_in(s, region, ctx.clock); }));
  JsonWriter w;
  w.begin_object().key("notices").begin_array();
  for (const auto& n : notices) write_notice(w, n);
  w.end_array().end_object();
  return Response::json(200, w.take());
}

schema::Schema notices_schema() {
  using namespace schema;
  const Schema notice = object({
      required("proposal_id", id()),
      required("household", text().described("the name, masked")),
      required("village_code", text()),
      required("members", integer(0)),
      required("proposed_status", choice({"exited"})),
      required("objections_until", shanghai_time()),
  });
  return list_of("notices", notice);
}

// ---- monitoring --------------------------------------------------------------------

void write_alert(JsonWriter& w, const al::Alert& a) {
  w.begin_object()
      .field("id", a.id)
      .field("household_id", a.household_id)
      .field("village_code", a.village_code)
      .field("rule", a.rule);
  w.field("figures", a.figures)
      .field("status", a.status)
      .field("outcome", a.outcome)
      .field("raised_at", format_shanghai(a.raised_at_ms));
  w.key("helper_account");
  if (a.helper_account)
    w.value(*a.helper_account);
  else
    w.null();
  w.key("history").begin_array();
  for (const auto& h : a.history) w.value(h);
  w.end_array().end_object();
}

// An alert as write_alert writes it.
schema::Schema alert_schema() {
  using namespace schema;
  return object({
      required("id", id()),
      required("household_id", id()),
      required("village_code", text()),
      required("rule", choice({"income_projection", "income_drop", "large_expense", "no_sales"})),
      required("figures", text()),
      required("status", choice({"open", "proposed", "closed"})),
      required("outcome", choice({"", "help_given", "status_changed", "false_alarm"})),
      required("raised_at", shanghai_time()),
      required("helper_account", nullable(id())),
      required("history", array(text())),
  });
}

Result<Response> set_monitoring_rules(AlleviationContext& ctx, const Call& call) {
  const Request& req = call.request;
  const Account& account = call.caller();
  const std::string county = CUNHUO_TRY(county_to_govern(account, req));
  const Json doc = CUNHUO_TRY(json_body(req));
  auto body = CUNHUO_TRY(FieldReader::root(doc));
  CUNHUO_CHECK(body.only(
      {"income_projection_bps", "income_drop_bps", "large_expense_fen", "no_sales_days"}));
  al::MonitoringRules r;
  r.income_projection_bps =
      static_cast<int>(CUNHUO_TRY(body.integer("income_projection_bps", INT32_MIN, INT32_MAX)));
  r.income_drop_bps =
      static_cast<int>(CUNHUO_TRY(body.integer("income_drop_bps", INT32_MIN, INT32_MAX)));
  r.large_expense = Money::fen(CUNHUO_TRY(body.integer("large_expense_fen", INT64_MIN, INT64_MAX)));
  r.no_sales_days =
      static_cast<int>(CUNHUO_TRY(body.integer("no_sales_days", INT32_MIN, INT32_MAX)));
  CUNHUO_CHECK(ctx.db.write(
      [&](db::Session& tx) { return al::set_rules(tx, r, county, actor_of(account), ctx.clock); }));
  return Response::json(200, doc.type() == Json::Type::object ? req.body : "{}");
}

// The rules set_monitoring_rules reads, and answers as it took them.
schema::Schema rules_schema() {
  using namespace schema;
  return object({
      required("income_projection_bps",
               integer(al::kMinIncomeProjectionBps, al::kMaxIncomeProjectionBps)
                   .described("alert below this multiple of the line, in basis points")),
      required("income_drop_bps", integer(al::kMinIncomeDropBps, al::kMaxIncomeDropBps)
                                      .described("alert when platform income falls by more")),
      required("large_expense_fen", fen()),
      required("no_sales_days", integer(al::kMinNoSalesDays, al::kMaxNoSalesDays)),
  });
}

Result<Response> record_expense(AlleviationContext& ctx, const Call& call) {
  const Request& req = call.request;
  const Account& account = call.caller();
  const std::int64_t id = CUNHUO_TRY(path_id(req));
  const Json doc = CUNHUO_TRY(json_body(req));
  auto body = CUNHUO_TRY(FieldReader::root(doc));
  CUNHUO_CHECK(body.only({"kind", "amount_fen", "note"}));
  const std::string kind = CUNHUO_TRY(body.string("kind", kMaxExpenseKindBytes));
  const Money amount = Money::fen(CUNHUO_TRY(body.integer("amount_fen", INT64_MIN, INT64_MAX)));
  const std::string note = CUNHUO_TRY(body.optional_string("note", al::kMaxNoteBytes)).value_or("");
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

schema::Schema expense_schema() {
  using namespace schema;
  return object({
      required("kind", text(kMaxExpenseKindBytes).described("medical or disaster")),
      required("amount_fen", fen(al::kMaxExpenseFen)),
      optional("note", text(al::kMaxNoteBytes)),
  });
}

// What record_expense answers: the alerts monitoring opened at once.
schema::Schema expense_recorded_schema() {
  using namespace schema;
  return object({required("household_id", id()), required("alerts", array(id()))});
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
  // Paged newest first, as every list: the cursor is the last alert's id.
  const std::string list = "alerts:" + std::to_string(account.id) + ":" + status;
  const auto page = CUNHUO_TRY(
      read_page(req.query_param("limit"), req.query_param("cursor"), ctx.cursors, list, 1));
  auto alerts = CUNHUO_TRY(ctx.db.read([&](db::Session& s) {
    return al::alerts_for(s, account.role == Role::admin ? std::string() : account.region_code,
                          office ? std::nullopt : std::optional<std::int64_t>(account.id), status,
                          page.after ? std::optional(page.after->front()) : std::nullopt,
                          page.limit + 1);
  }));
  std::optional<std::string> next;
  if (static_cast<std::int64_t>(alerts.size()) > page.limit) {
    alerts.resize(static_cast<std::size_t>(page.limit));
    next = ctx.cursors.seal(list, {alerts.back().id});
  }
  JsonWriter w;
  w.begin_object().key("alerts").begin_array();
  for (const auto& a : alerts) write_alert(w, a);
  w.end_array().key("next_cursor");
  if (next)
    w.value(*next);
  else
    w.null();
  w.end_object();
  return Response::json(200, w.take());
}

Result<Response> close_alert(AlleviationContext& ctx, const Call& call) {
  const Request& req = call.request;
  const Account& account = call.caller();
  const std::int64_t id = CUNHUO_TRY(path_id(req));
  const Json doc = CUNHUO_TRY(json_body(req));
  auto body = CUNHUO_TRY(FieldReader::root(doc));
  CUNHUO_CHECK(body.only({"outcome", "note"}));
  const std::string outcome = CUNHUO_TRY(body.string("outcome", kMaxOutcomeBytes));
  const std::string note = CUNHUO_TRY(body.string("note", al::kMaxNoteBytes));
  return ctx.db.write([&](db::Session& tx) -> Result<Response> {
    JsonWriter w;
    write_alert(w, CUNHUO_TRY(close_alert_as(tx, account, id, outcome, note, ctx.clock)));
    return Response::json(200, w.take());
  });
}

schema::Schema close_alert_schema() {
  using namespace schema;
  return object({
      required("outcome",
               text(kMaxOutcomeBytes).described("help_given, status_changed or false_alarm")),
      required("note", text(al::kMaxNoteBytes)),
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
  const std::string reason = CUNHUO_TRY(body.string("reason", al::kMaxNoteBytes));
  return ctx.db.write([&](db::Session& tx) -> Result<Response> {
    JsonWriter w;
    const OfficeDecision d{.approve = approve, .reason = reason, .level = ""};
    write_alert(w, CUNHUO_TRY(decide_status_change_as(tx, account, id, d, ctx.clock)));
    return Response::json(200, w.take());
  });
}

schema::Schema status_decision_schema() {
  using namespace schema;
  return object({required("approve", boolean()), required("reason", text(al::kMaxNoteBytes))});
}

}  // namespace

void write_notice(JsonWriter& w, const alleviation::Notice& n) {
  w.begin_object()
      .field("proposal_id", n.proposal_id)
      .field("household", n.masked_name)
      .field("village_code", n.village_code)
      .field("members", static_cast<std::int64_t>(n.members))
      .field("proposed_status", "exited")
      .field("objections_until", format_shanghai(n.ends_ms))
      .end_object();
}

void add_alleviation_routes(RouteTable& table, AlleviationContext ctx) {
  auto bind = [ctx](auto fn) {
    return [ctx, fn](const Call& call) mutable { return fn(ctx, call); };
  };
  // Objections are anonymous: each client address lodges a few an hour at most.
  auto objections = std::make_shared<RateLimiter>(kObjectionsPerAddress, ctx.clock);
  table.add({.method = "GET",
             .pattern = "/api/v1/households/:id/evaluations",
             .access = signed_in(),
             .response_schema = schema::list_of("evaluations", evaluation_schema()),
             .summary = "A household's exit scores, newest first, each with its indicators, inputs "
                        "and model version",
             .handler = bind(household_evaluations)});
  table.add({.method = "POST",
             .pattern = "/api/v1/evaluations/rescore",
             .access = only({Role::poverty_office, Role::admin}),
             .body = Body::json,
             .request_schema = office_area_schema(),
             .response_schema = bulk_run_schema("rescored"),
             .summary = "Score every household of an area again (poverty office)",
             .handler = bind(rescore)});
  table.add({.method = "GET",
             .pattern = "/api/v1/households/:id/exit-proposals",
             .access = signed_in(),
             .response_schema = schema::list_of("proposals", proposal_schema()),
             .summary = "A household's exit proposals with every step",
             .handler = bind(household_proposals)});
  table.add({.method = "POST",
             .pattern = "/api/v1/exit-proposals/:id/review",
             .access = only({Role::poverty_office, Role::admin}),
             .body = Body::json,
             .request_schema = decision_schema("approve", true),
             .response_schema = proposal_schema(),
             .summary = "Village, then township review of an exit proposal (township office)",
             .handler = bind(review)});
  table.add({.method = "POST",
             .pattern = "/api/v1/exit-proposals/:id/decision",
             .access = only({Role::poverty_office, Role::admin}),
             .body = Body::json,
             .request_schema = decision_schema("approve", false),
             .response_schema = proposal_schema(),
             .summary = "County approval starts the public notice (county office)",
             .handler = bind(county_decision)});
  table.add(
      {.method = "POST",
       .pattern = "/api/v1/exit-proposals/:id/objections",
       .access = anyone(),
       .body = Body::json,
       .request_schema = objection_schema(),
       .response_schema = lodged_schema(),
       .success_status = 201,
       .errors = {"notice_closed", "too_many_objections", "too_many_requests", "invalid_length"},
       .summary =
           "Object to an exit while its notice runs (anyone; a few an hour from one address)",
       .handler = [ctx, objections](const Call& call) mutable -> Result<Response> {
         if (auto wait = objections->take(call.request.client_address))
           return too_many_requests(*wait,
                                    "too many objections from this address; try again later");
         return object_to_exit(ctx, call);
       }});
  table.add({.method = "POST",
             .pattern = "/api/v1/objections/:id/resolution",
             .access = only({Role::poverty_office, Role::admin}),
             .body = Body::json,
             .request_schema = decision_schema("upheld", false),
             .response_schema = proposal_schema(),
             .summary = "Uphold (the exit is rejected) or dismiss an objection (county office)",
             .handler = bind(resolve)});
  table.add({.method = "POST",
             .pattern = "/api/v1/exit-proposals/:id/exit",
             .access = only({Role::poverty_office, Role::admin}),
             .body = Body::json,
             .request_schema = exit_schema(),
             .response_schema = proposal_schema(),
             .summary = "Mark the household exited once the notice closed clean (county office)",
             .handler = bind(mark_exited)});
  table.add({.method = "GET",
             .pattern = "/api/v1/public/notices",
             .access = anyone(),
             .response_schema = notices_schema(),
             .query = {{.name = "region", .description = "a county, township or village code"}},
             .summary = "Exit notices under way in a region, names masked (public)",
             .handler = bind(public_notices)});
  table.add({.method = "PUT",
             .pattern = "/api/v1/monitoring-rules",
             .access = only({Role::poverty_office, Role::admin}),
             .body = Body::json,
             .request_schema = rules_schema(),
             .response_schema = rules_schema(),
             .query = {county_query()},
             .summary = "Set the county's return-to-poverty alert rules (its county office; admin "
                        "names ?county=)",
             .handler = bind(set_monitoring_rules)});
  table.add({.method = "POST",
             .pattern = "/api/v1/households/:id/expenses",
             .access = only({Role::poverty_office, Role::admin}),
             .body = Body::json,
             .request_schema = expense_schema(),
             .response_schema = expense_recorded_schema(),
             .success_status = 201,
             .summary = "Record a large medical or disaster expense; monitoring looks at once",
             .handler = bind(record_expense)});
  table.add({.method = "POST",
             .pattern = "/api/v1/monitoring/runs",
             .access = only({Role::poverty_office, Role::admin}),
             .body = Body::json,
             .request_schema = office_area_schema(),
             .response_schema = bulk_run_schema("alerts_opened"),
             .summary = "Check every exited and at-risk household of an area against the rules now "
                        "(poverty office)",
             .handler = bind(run_monitoring)});
  table.add(
      {.method = "GET",
       .pattern = "/api/v1/alerts",
       .access = only({Role::poverty_office, Role::admin, Role::helper}),
       .response_schema =
           schema::object({schema::required("alerts", schema::array(alert_schema())),
                           schema::required("next_cursor", schema::nullable(schema::text()))}),
       .query = {{.name = "status", .description = "open (default), proposed or closed"},
                 {.name = "limit", .type = "integer", .description = "1 to 100; 20 by default"},
                 {.name = "cursor", .description = "next_cursor of the page before"}},
       .errors = {"invalid_status", "invalid_limit", "invalid_cursor"},
       .summary = "Monitoring alerts: the office's area, or those assigned to you as helper",
       .handler = bind(list_alerts)});
  table.add({.method = "POST",
             .pattern = "/api/v1/alerts/:id/close",
             .access = signed_in(),
             .body = Body::json,
             .request_schema = close_alert_schema(),
             .response_schema = alert_schema(),
             .summary = "Close an alert: help_given, status_changed (returned to poverty; a "
                        "helper's only proposes it) or false_alarm",
             .handler = bind(close_alert)});
  table.add({.method = "POST",
             .pattern = "/api/v1/alerts/:id/status-decision",
             .access = only({Role::poverty_office, Role::admin}),
             .body = Body::json,
             .request_schema = status_decision_schema(),
             .response_schema = alert_schema(),
             .summary = "Approve or refuse a helper's proposed return to poverty (poverty office)",
             .handler = bind(decide_status_change)});
  table.add({.method = "GET",
             .pattern = "/api/v1/evaluation-models/current",
             .access = signed_in(),
             .response_schema = model_schema(),
             .query = {county_query()},
             .summary = "The evaluation model in force in a county (?county=, default your own)",
             .handler = bind(current_model)});
  table.add({.method = "POST",
             .pattern = "/api/v1/evaluation-models",
             .access = only({Role::poverty_office, Role::admin}),
             .body = Body::json,
             .request_schema = new_model_schema(),
             .response_schema = model_schema(),
             .success_status = 201,
             .query = {county_query()},
             .summary = "A new version of the county's evaluation model (its county office; admin "
                        "names ?county=)",
             .handler = bind(add_model)});
  table.add({.method = "GET",
             .pattern = "/api/v1/evaluation-models/history",
             .access = only({Role::poverty_office, Role::admin}),
             .response_schema = model_history_schema(),
             .query = {county_query()},
             .summary = "Who set each of a county's evaluation models, and when (poverty office)",
             .handler = bind(model_history)});
}

}  // namespace cunhuo::storefront
