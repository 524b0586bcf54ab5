// Fund tracking over HTTP. The county office creates projects, allocates to them and
// disburses from allocations (each money-moving POST under an Idempotency-Key); any
// poverty office of the county reads the projects and the trace down from an allocation,
// and the flags of its own area (a township office its township's), a page at a time; a
// household's own funds are traced up to the allocation for whoever
// may see the household.
#include "alleviation/funds.hpp"
#include "core/json.hpp"
#include "core/privacy.hpp"
#include "core/region.hpp"
#include "storefront/alleviation_routes.hpp"
#include "storefront/route_support.hpp"

namespace cunhuo::storefront {
namespace {

constexpr std::size_t kFlagPositionKeys = 2;  // a flag's kind and the id of the row flagged

using schema::enum_names;
using schema::one_of;
using schema::shanghai_time;

namespace al = cunhuo::alleviation;

// Every poverty office of the county reads its funds; only the county office moves them.
bool reads_funds_of(const Account& a, std::string_view county) {
  return a.role == Role::admin ||
         (a.role == Role::poverty_office && county_of(a.region_code) == county);
}

Status moves_funds_of(const Account& a, std::string_view county) {
  if (a.role == Role::admin || (a.role == Role::poverty_office && a.region_code == county))
    return {};
  return make_error(ErrorKind::forbidden, "forbidden",
                    "the county poverty office manages its county's funds");
}

void write_project(JsonWriter& w, const al::Project& p) {
  w.begin_object()
      .field("id", p.id)
      .field("county_code", p.county_code)
      .field("name", p.name)
      .field("kind", p.kind)
      .field("benefit", p.benefit);
  w.field("budget_fen", p.budget.fen())
      .field("allocated_fen", p.allocated.fen())
      .field("disbursed_fen", p.disbursed.fen());
  w.field("created_at", format_shanghai(p.created_at_ms)).end_object();
}

// A project as write_project writes it.
schema::Schema project_schema() {
  using namespace schema;
  return object({
      required("id", id()),
      required("county_code", text()),
      required("name", text()),
      required("kind", choice(al::project_kinds())),
      required("benefit", text().described("what one person receives once")),
      required("budget_fen", fen()),
      required("allocated_fen", fen()),
      required("disbursed_fen", fen()),
      required("created_at", shanghai_time()),
  });
}

void write_allocation(JsonWriter& w, const al::Allocation& a) {
  w.begin_object()
      .field("id", a.id)
      .field("project_id", a.project_id)
      .field("document_number", a.document_number);
  w.field("amount_fen", a.amount.fen())
      .field("disbursed_fen", a.disbursed.fen())
      .field("remaining_fen", a.remaining().fen());
  w.field("actor", a.actor)
      .field("at", format_shanghai(a.at_ms))
      .field("ledger_account", "fund:allocation:" + std::to_string(a.id))
      .end_object();
}

// An allocation as write_allocation writes it.
schema::Schema allocation_schema() {
  using namespace schema;
  return object({
      required("id", id()),
      required("project_id", id()),
      required("document_number", text()),
      required("amount_fen", fen()),
      required("disbursed_fen", fen()),
      required("remaining_fen", fen()),
      required("actor", text()),
      required("at", shanghai_time()),
      required("ledger_account", text()),
  });
}

void write_disbursement(JsonWriter& w, const al::Disbursement& d) {
  w.begin_object()
      .field("id", d.id)
      .field("document_number", d.document_number)
      .field("amount_fen", d.amount.fen());
  w.field("allocation_id", d.allocation_id).field("allocation_document", d.allocation_document);
  w.field("project_id", d.project_id)
      .field("project", d.project_name)
      .field("benefit", d.benefit)
      .field("village_code", d.village_code);
  w.key("household_id");
  if (d.household_id)
    w.value(*d.household_id);
  else
    w.null();
  w.field("id_number", d.id_number.empty() ? std::string() : mask_id_number(d.id_number));
  w.field("household_status_then", d.household_status)
      .field("actor", d.actor)
      .field("at", format_shanghai(d.at_ms))
      .end_object();
}

// A disbursement as write_disbursement writes it; a village's names no household.
schema::Schema disbursement_schema() {
  using namespace schema;
  std::vector<std::string> statuses{"village"};
  for (auto& name : enum_names<marketplace::PovertyStatus>()) statuses.push_back(std::move(name));
  return object({
      required("id", id()),
      required("document_number", text()),
      required("amount_fen", fen()),
      required("allocation_id", id()),
      required("allocation_document", text()),
      required("project_id", id()),
      required("project", text()),
      required("benefit", text()),
      required("village_code", text()),
      required("household_id", nullable(id())),
      required("id_number", text().described("masked; empty for a village")),
      required("household_status_then", choice(statuses)),
      required("actor", text()),
      required("at", shanghai_time()),
  });
}

Result<Response> create_project(AlleviationContext& ctx, const Call& call) {
  const Request& req = call.request;
  const Account& account = call.caller();
  const Json doc = CUNHUO_TRY(json_body(req));
  auto body = CUNHUO_TRY(FieldReader::root(doc));
  CUNHUO_CHECK(body.only({"county_code", "name", "kind", "benefit", "budget_fen"}));
  al::NewProject p;
  p.county_code = CUNHUO_TRY(body.optional_string("county_code", kCountyCodeDigits))
                      .value_or(county_of(account.region_code));
  p.name = CUNHUO_TRY(body.string("name", al::kMaxProjectNameBytes));
  p.kind = CUNHUO_TRY(body.string("kind", al::kMaxProjectKindBytes));
  p.benefit = CUNHUO_TRY(body.optional_string("benefit", al::kMaxBenefitBytes)).value_or("");
  p.budget = Money::fen(CUNHUO_TRY(body.integer("budget_fen", INT64_MIN, INT64_MAX)));
  CUNHUO_CHECK(moves_funds_of(account, p.county_code));
  return ctx.idempotency.run(req, account.id, [&](db::Session& tx) -> Result<Response> {
    JsonWriter w;
    write_project(w, CUNHUO_TRY(al::create_project(tx, p, actor_of(account), ctx.clock)));
    return Response::json(201, w.take());
  });
}

// The body create_project reads.
schema::Schema new_project_schema() {
  using namespace schema;
  return object({
      optional("county_code", text(kCountyCodeDigits).described("yours when absent")),
      required("name", text(al::kMaxProjectNameBytes)),
      required("kind", text(al::kMaxProjectKindBytes).described(one_of(al::project_kinds()))),
      optional("benefit",
               text(al::kMaxBenefitBytes).described("a-z, 0-9 and _; the kind when absent")),
      required("budget_fen", fen(al::kMaxFundAmountFen)),
  });
}

Result<Response> list_projects(AlleviationContext& ctx, const Call& call) {
  const Request& req = call.request;
  const Account& account = call.caller();
  const std::string county = req.query_param("county").value_or(county_of(account.region_code));
  if (!reads_funds_of(account, county))
    return make_error(ErrorKind::forbidden, "forbidden", "the funds of your own county", "county");
  auto projects =
      CUNHUO_TRY(ctx.db.read([&](db::Session& s) { return al::projects_in(s, county); }));
  JsonWriter w;
  w.begin_object().key("projects").begin_array();
  for (const auto& p : projects) write_project(w, p);
  w.end_array().end_object();
  return Response::json(200, w.take());
}

Result<Response> get_project(AlleviationContext& ctx, const Call& call) {
  const Request& req = call.request;
  const Account& account = call.caller();
  const std::int64_t id = CUNHUO_TRY(path_id(req));
  return ctx.db.read([&](db::Session& s) -> Result<Response> {
    auto p = CUNHUO_TRY(al::find_project(s, id));
    if (!p || !reads_funds_of(account, p->county_code)) return no_such("project");
    JsonWriter w;
    w.begin_object().key("project");
    write_project(w, *p);
    w.key("allocations").begin_array();
    for (const auto& a : CUNHUO_TRY(al::allocations_of(s, id))) write_allocation(w, a);
    w.end_array().end_object();
    return Response::json(200, w.take());
  });
}

schema::Schema project_detail_schema() {
  using namespace schema;
  return object(
      {required("project", project_schema()), required("allocations", array(allocation_schema()))});
}

Result<Response> allocate(AlleviationContext& ctx, const Call& call) {
  const Request& req = call.request;
  const Account& account = call.caller();
  const std::int64_t id = CUNHUO_TRY(path_id(req));
  const Json doc = CUNHUO_TRY(json_body(req));
  auto body = CUNHUO_TRY(FieldReader::root(doc));
  CUNHUO_CHECK(body.only({"document_number", "amount_fen"}));
  const std::string number = CUNHUO_TRY(body.string("document_number", al::kMaxDocumentNumber));
  const Money amount = Money::fen(CUNHUO_TRY(body.integer("amount_fen", INT64_MIN, INT64_MAX)));
  return ctx.idempotency.run(req, account.id, [&](db::Session& tx) -> Result<Response> {
    auto p = CUNHUO_TRY(al::find_project(tx, id));
    if (!p || !reads_funds_of(account, p->county_code)) return no_such("project");
    CUNHUO_CHECK(moves_funds_of(account, p->county_code));
    JsonWriter w;
    write_allocation(
        w, CUNHUO_TRY(al::allocate(tx, id, number, amount, actor_of(account), ctx.clock)));
    return Response::json(201, w.take());
  });
}

// The body allocate reads.
schema::Schema new_allocation_schema() {
  using namespace schema;
  return object({required("document_number", text(al::kMaxDocumentNumber)),
                 required("amount_fen", fen(al::kMaxFundAmountFen))});
}

// The trace down: the allocation, its project and every disbursement made from it.
Result<Response> get_allocation(AlleviationContext& ctx, const Call& call) {
  const Request& req = call.request;
  const Account& account = call.caller();
  const std::int64_t id = CUNHUO_TRY(path_id(req));
  return ctx.db.read([&](db::Session& s) -> Result<Response> {
    auto a = CUNHUO_TRY(al::find_allocation(s, id));
    auto p = a ? CUNHUO_TRY(al::find_project(s, a->project_id)) : std::nullopt;
    if (!p || !reads_funds_of(account, p->county_code)) return no_such("allocation");
    JsonWriter w;
    w.begin_object().key("allocation");
    write_allocation(w, *a);
    w.key("project");
    write_project(w, *p);
    w.key("disbursements").begin_array();
    for (const auto& d : CUNHUO_TRY(al::disbursements_of(s, id))) write_disbursement(w, d);
    w.end_array().end_object();
    return Response::json(200, w.take());
  });
}

schema::Schema allocation_detail_schema() {
  using namespace schema;
  return object({required("allocation", allocation_schema()), required("project", project_schema()),
                 required("disbursements", array(disbursement_schema()))});
}

Result<al::NewDisbursement> disbursement_of(const Request& req) {
  const Json doc = CUNHUO_TRY(json_body(req));
  auto body = CUNHUO_TRY(FieldReader::root(doc));
  CUNHUO_CHECK(
      body.only({"document_number", "amount_fen", "household_id", "village_code", "id_number"}));
  al::NewDisbursement d;
  d.document_number = CUNHUO_TRY(body.string("document_number", al::kMaxDocumentNumber));
  d.amount = Money::fen(CUNHUO_TRY(body.integer("amount_fen", INT64_MIN, INT64_MAX)));
  d.household_id = CUNHUO_TRY(body.optional_integer("household_id", 1, INT64_MAX));
  d.village_code =
      CUNHUO_TRY(body.optional_string("village_code", kVillageCodeDigits)).value_or("");
  d.id_number = CUNHUO_TRY(body.optional_string("id_number", al::kMaxIdNumberBytes)).value_or("");
  if (d.household_id.has_value() == !d.village_code.empty())
    return make_error(ErrorKind::invalid, "missing_field",
                      "name either a household_id or a village_code", "household_id");
  return d;
}

// The body disbursement_of reads: a household (and which member) or else a village.
schema::Schema new_disbursement_schema() {
  using namespace schema;
  return object({
      required("document_number", text(al::kMaxDocumentNumber)),
      required("amount_fen", fen(al::kMaxFundAmountFen)),
      optional("household_id", id()),
      optional("village_code", text(kVillageCodeDigits).described("without a household")),
      optional(
          "id_number",
          text(al::kMaxIdNumberBytes).described("the member who receives; the head when absent")),
  });
}

Result<Response> disburse(AlleviationContext& ctx, const Call& call) {
  const Request& req = call.request;
  const Account& account = call.caller();
  const std::int64_t id = CUNHUO_TRY(path_id(req));
  const al::NewDisbursement d = CUNHUO_TRY(disbursement_of(req));
  return ctx.idempotency.run(req, account.id, [&](db::Session& tx) -> Result<Response> {
    auto a = CUNHUO_TRY(al::find_allocation(tx, id));
    auto p = a ? CUNHUO_TRY(al::find_project(tx, a->project_id)) : std::nullopt;
    if (!p || !reads_funds_of(account, p->county_code)) return no_such("allocation");
    CUNHUO_CHECK(moves_funds_of(account, p->county_code));
    JsonWriter w;
    write_disbursement(w, CUNHUO_TRY(al::disburse(tx, id, d, actor_of(account), ctx.clock)));
    return Response::json(201, w.take());
  });
}

// The trace up: what the household received, from which allocation and project.
Result<Response> household_funds(AlleviationContext& ctx, const Call& call) {
  const Request& req = call.request;
  const Account& account = call.caller();
  const std::int64_t id = CUNHUO_TRY(path_id(req));
  return ctx.db.read([&](db::Session& s) -> Result<Response> {
    if (!CUNHUO_TRY(household_for(s, account, id))) return no_such("household");
    JsonWriter w;
    w.begin_object().field("household_id", id).key("disbursements").begin_array();
    for (const auto& d : CUNHUO_TRY(al::household_funds(s, id))) write_disbursement(w, d);
    w.end_array().end_object();
    return Response::json(200, w.take());
  });
}

schema::Schema household_funds_schema() {
  using namespace schema;
  return object(
      {required("household_id", id()), required("disbursements", array(disbursement_schema()))});
}

// The area whose flags the caller reads: a county office and an admin the county, a
// township office its township.
std::string flag_area(const Account& a, const std::string& county) {
  const bool township_office =
      a.role == Role::poverty_office && a.region_code.size() > kCountyCodeDigits;
  return township_office ? a.region_code : county;
}

void write_flag(JsonWriter& w, const al::FundFlag& f) {
  w.begin_object().field("kind", f.kind).field("project_id", f.project_id);
  for (auto [key, value] : {std::pair{"allocation_id", f.allocation_id},
                            {"disbursement_id", f.disbursement_id},
                            {"household_id", f.household_id}}) {
    w.key(key);
    if (value)
      w.value(*value);
    else
      w.null();
  }
  w.field("detail", f.detail).end_object();
}

Result<Response> fund_flags(AlleviationContext& ctx, const Call& call) {
  const Request& req = call.request;
  const Account& account = call.caller();
  const std::string county = req.query_param("county").value_or(county_of(account.region_code));
  if (!reads_funds_of(account, county))
    return make_error(ErrorKind::forbidden, "forbidden", "the funds of your own county", "county");
  const std::string area = flag_area(account, county);
  const std::string list = "fund-flags:" + std::to_string(account.id) + ":" + area;
  const auto page = CUNHUO_TRY(read_page(req.query_param("limit"), req.query_param("cursor"),
                                         ctx.cursors, list, kFlagPositionKeys));
  al::FundFlagQuery q{.area = area,
                      .idle_ms = ctx.fund_idle_ms,
                      .after = std::nullopt,
                      .limit = static_cast<int>(page.limit)};
  if (page.after) {
    const auto& at = *page.after;
    if (at[0] < 0 || at[0] >= al::kFlagParts)  // sealed by us, so never; but never trusted
      return make_error(ErrorKind::invalid, std::string(kInvalidCursor),
                        "not a cursor of this list", "cursor");
    q.after = al::FlagPosition{.part = at[0], .id = at[1]};
  }
  auto found =
      CUNHUO_TRY(ctx.db.read([&](db::Session& s) { return al::fund_flags_page(s, q, ctx.clock); }));
  JsonWriter w;
  w.begin_object().field("county_code", county).field("area", area).key("flags").begin_array();
  for (const auto& f : found.flags) write_flag(w, f);
  w.end_array().key("next_cursor");
  if (found.next)
    w.value(ctx.cursors.seal(list, {found.next->part, found.next->id}));
  else
    w.null();
  w.end_object();
  return Response::json(200, w.take());
}

// The flags as fund_flags writes them.
schema::Schema fund_flags_schema() {
  using namespace schema;
  const Schema flag = object({
      required("kind", choice({"unregistered_recipient", "exited_recipient", "duplicate_benefit",
                               "over_budget", "idle_allocation"})),
      required("project_id", id()),
      required("allocation_id", nullable(id())),
      required("disbursement_id", nullable(id())),
      required("household_id", nullable(id())),
      required("detail", text()),
  });
  return object({required("county_code", text()),
                 required("area", text().described("the county, or a township office's township")),
                 required("flags", array(flag)), required("next_cursor", nullable(text()))});
}

}  // namespace

void add_fund_routes(RouteTable& table, AlleviationContext ctx) {
  auto bind = [ctx](auto fn) {
    return [ctx, fn](const Call& call) mutable { return fn(ctx, call); };
  };
  table.add({.method = "POST",
             .pattern = "/api/v1/fund-projects",
             .access = only({Role::poverty_office, Role::admin}),
             .body = Body::json,
             .request_schema = new_project_schema(),
             .response_schema = project_schema(),
             .success_status = 201,
             .summary = "A poverty-alleviation project with its kind, benefit and budget "
                        "(Idempotency-Key; county office)",
             .handler = bind(create_project),
             .idempotent_post = true});
  table.add({.method = "GET",
             .pattern = "/api/v1/fund-projects",
             .access = only({Role::poverty_office, Role::admin}),
             .response_schema = schema::list_of("projects", project_schema()),
             .query = {county_query()},
             .summary = "The county's projects with what was allocated and disbursed",
             .handler = bind(list_projects)});
  table.add({.method = "GET",
             .pattern = "/api/v1/fund-projects/:id",
             .access = only({Role::poverty_office, Role::admin}),
             .response_schema = project_detail_schema(),
             .summary = "A project and its allocations",
             .handler = bind(get_project)});
  table.add({.method = "POST",
             .pattern = "/api/v1/fund-projects/:id/allocations",
             .access = only({Role::poverty_office, Role::admin}),
             .body = Body::json,
             .request_schema = new_allocation_schema(),
             .response_schema = allocation_schema(),
             .success_status = 201,
             .summary = "Allocate county funds to a project under a document number "
                        "(Idempotency-Key; county office)",
             .handler = bind(allocate),
             .idempotent_post = true});
  table.add({.method = "GET",
             .pattern = "/api/v1/fund-allocations/:id",
             .access = only({Role::poverty_office, Role::admin}),
             .response_schema = allocation_detail_schema(),
             .summary = "An allocation traced down to every recipient",
             .handler = bind(get_allocation)});
  table.add({.method = "POST",
             .pattern = "/api/v1/fund-allocations/:id/disbursements",
             .access = only({Role::poverty_office, Role::admin}),
             .body = Body::json,
             .request_schema = new_disbursement_schema(),
             .response_schema = disbursement_schema(),
             .success_status = 201,
             .summary = "Disburse from an allocation to a village or a household member "
                        "(Idempotency-Key; county office)",
             .handler = bind(disburse),
             .idempotent_post = true});
  table.add({.method = "GET",
             .pattern = "/api/v1/households/:id/funds",
             .access = signed_in(),
             .response_schema = household_funds_schema(),
             .summary = "What a household received, traced back to allocation and project",
             .handler = bind(household_funds)});
  table.add({.method = "GET",
             .pattern = "/api/v1/fund-flags",
             .access = only({Role::poverty_office, Role::admin}),
             .response_schema = fund_flags_schema(),
             .query = {county_query(),
                       {.name = "limit", .type = "integer", .description = "1 to 100 (20)"},
                       {.name = "cursor", .description = "next_cursor of the page before"}},
             .errors = {std::string(kInvalidCursor)},
             .summary = "Flags of your area, a page at a time: recipients not registered or "
                        "exited, one benefit twice to one person; for a county also over budget "
                        "and idle allocations",
             .handler = bind(fund_flags)});
}

}  // namespace cunhuo::storefront
