#include "storefront/alleviation_routes.hpp"

#include "alleviation/scores.hpp"
#include "core/json.hpp"
#include "core/region.hpp"
#include "marketplace/archive.hpp"
#include "payments/settlement.hpp"
#include "storefront/route_support.hpp"

namespace cunhuo::storefront {
namespace {

namespace al = cunhuo::alleviation;

std::string yuan(Money m) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%lld.%02lld", static_cast<long long>(m.fen() / 100), static_cast<long long>(m.fen() % 100));
  return buf;
}

// Why, as well as what: every indicator with its inputs, and the inputs themselves.
void write_evaluation(JsonWriter& w, const al::StoredEvaluation& e) {
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
  w.field("platform_net_income_fen", f.platform_net.fen()).field("platform_income_note", "net settled sales over the twelve months before, " + yuan(f.platform_net) + " yuan");
  w.field("housing_safe", f.housing_safe).field("water_safe", f.water_safe).field("school_age_out_of_school", f.school_age_out_of_school);
  w.field("members_uninsured", f.members_uninsured).field("stable_income_source", f.stable_income_source).end_object();
  w.end_object();
}

Result<Response> household_evaluations(AlleviationContext& ctx, const Request& req) {
  auto account = CUNHUO_TRY(ctx.auth.authenticate(req));
  const std::int64_t id = CUNHUO_TRY(path_id(req));
  return ctx.db.read([&](db::Session& s) -> Result<Response> {
    if (!CUNHUO_TRY(household_for(s, account, id))) return no_such("household");
    JsonWriter w;
    w.begin_object().key("evaluations").begin_array();
    for (const auto& e : CUNHUO_TRY(al::evaluations_of(s, id, 20))) write_evaluation(w, e);
    w.end_array().end_object();
    return Response::json(200, w.take());
  });
}

Result<Response> rescore(AlleviationContext& ctx, const Request& req) {
  auto account = CUNHUO_TRY(require_role(ctx.auth, req, {Role::poverty_office, Role::admin}));
  const Json doc = CUNHUO_TRY(json_body(req));
  auto body = CUNHUO_TRY(FieldReader::root(doc));
  CUNHUO_CHECK(body.only({"region_code"}));
  std::string region = CUNHUO_TRY(body.optional_string("region_code", 12)).value_or(account.role == Role::admin ? "" : account.region_code);
  if (!region.empty()) CUNHUO_TRY(region_level(region, "region_code"));
  if (account.role != Role::admin && !region_within(region, account.region_code))
    return make_error(ErrorKind::forbidden, "forbidden", "you score households of your own area", "region_code");
  const auto n = CUNHUO_TRY(al::rescore_all(ctx.db, region, ctx.clock));
  JsonWriter w;
  w.begin_object().field("region_code", region).field("rescored", n).end_object();
  return Response::json(200, w.take());
}

Result<Response> current_model(AlleviationContext& ctx, const Request& req) {
  CUNHUO_TRY(ctx.auth.authenticate(req));
  auto m = CUNHUO_TRY(ctx.db.read([](db::Session& s) { return al::current_model(s); }));
  return Response::json(200, al::model_json(m));
}

Result<Response> add_model(AlleviationContext& ctx, const Request& req) {
  auto account = CUNHUO_TRY(require_role(ctx.auth, req, {Role::poverty_office, Role::admin}));
  if (account.role == Role::poverty_office && account.region_code.size() != 6)
    return make_error(ErrorKind::forbidden, "forbidden", "the county office defines the model");
  auto model = CUNHUO_TRY(al::model_from_json(req.body));
  auto stored = CUNHUO_TRY(ctx.db.write([&](db::Session& tx) { return al::add_model(tx, model, ctx.clock); }));
  return Response::json(201, al::model_json(stored));
}

Result<std::int64_t> int_of(const outbox::Event& e, const char* key) {
  auto doc = CUNHUO_TRY(Json::parse(e.payload));
  const Json* v = doc.find(key);
  if (!v || v->type() != Json::Type::integer) return make_error(ErrorKind::internal, "bad_event", e.topic + " without " + key);
  return v->as_integer();
}

}  // namespace

void add_alleviation_routes(Router& router, AlleviationContext ctx) {
  auto route = [&](const char* method, const char* pattern, auto fn, bool json, const char* summary) {
    router.add(Route{method, pattern, [ctx, fn](const Request& r) mutable { return respond(fn(ctx, r)); }, -1, json, summary});
  };
  route("GET", "/api/v1/households/:id/evaluations", household_evaluations, false,
        "A household's exit scores, newest first, each with its indicators, inputs and model version");
  route("POST", "/api/v1/evaluations/rescore", rescore, true, "Score every household of an area again (poverty office)");
  route("GET", "/api/v1/evaluation-models/current", current_model, false, "The evaluation model in force");
  route("POST", "/api/v1/evaluation-models", add_model, true, "A new version of the evaluation model (county poverty office)");
}

void subscribe_alleviation_flow(outbox::Dispatcher& dispatcher, const Clock& clock) {
  dispatcher.subscribe("alleviation.rescore_on_card", marketplace::kCardChanged, [&clock](db::Session& tx, const outbox::Event& e) -> Status {
    CUNHUO_TRY(al::rescore_household(tx, CUNHUO_TRY(int_of(e, "household_id")), clock));
    return {};
  });
  dispatcher.subscribe("alleviation.rescore_on_income", payments::kIncomeSettled, [&clock](db::Session& tx, const outbox::Event& e) -> Status {
    auto doc = CUNHUO_TRY(Json::parse(e.payload));
    const Json* ids = doc.find("household_ids");
    if (!ids || ids->type() != Json::Type::array) return make_error(ErrorKind::internal, "bad_event", "payment.settled without household_ids");
    for (const auto& id : ids->as_array()) CUNHUO_TRY(al::rescore_household(tx, id.as_integer(), clock));
    return {};
  });
}

}  // namespace cunhuo::storefront
