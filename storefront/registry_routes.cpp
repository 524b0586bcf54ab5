#include "storefront/registry_routes.hpp"

#include <charconv>
#include <map>

#include "core/assert.hpp"
#include "core/json.hpp"
#include "core/privacy.hpp"
#include "core/region.hpp"
#include "marketplace/archive.hpp"
#include "marketplace/integrity.hpp"
#include "storefront/centre_moves.hpp"
#include "storefront/cursor.hpp"
#include "storefront/policy.hpp"
#include "storefront/office_moves.hpp"
#include "storefront/route_support.hpp"

namespace cunhuo::storefront {
namespace {

namespace mk = cunhuo::marketplace;

// Limits of the fields these routes read themselves (the card's are the archive's): the
// handler reads with each and the operation's schema publishes it.
constexpr std::size_t kMaxPhoneBytes = 20;
constexpr std::size_t kMaxStatusBytes = 30;  // a registration status, read before it is parsed
constexpr std::size_t kMaxReasonBytes = 500;

constexpr std::size_t kMaxIssueKindBytes = 20;
constexpr std::size_t kMaxActionBytes = 10;
constexpr std::size_t kMaxCorrectedFieldBytes = 20;
constexpr std::size_t kMaxCorrectedValueBytes = 20;  // a phone or an ID number

struct Context {
  db::Database& db;
  const Clock& clock;
  Auth& auth;
  const CursorSeal& cursors;
};

Result<mk::HouseholdId> household_id(const Request& req) {
  const std::string& text = req.params.at("id");
  std::int64_t id = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), id);
  if (ec != std::errc{} || end != text.data() + text.size() || id <= 0)
    return make_error(ErrorKind::not_found, "not_found", "no such household");
  return mk::HouseholdId{id};
}

View view_for(const Account& a, const mk::HouseholdRecord& r) { return household_view(a, r); }

// The names mk::to_string gives a registration status.
schema::Schema poverty_status_schema() {
  using S = mk::PovertyStatus;
  auto name = [](S s) { return mk::to_string(s); };
  return schema::choice({name(S::registered_poor), name(S::at_risk), name(S::exited),
                         name(S::returned_to_poverty), name(S::not_registered)});
}

// A household's card as write_record writes it: health, age, causes, land, housing, water
// and income only in the full view; names, phones and ID numbers masked in the others.
schema::Schema record_schema() {
  using namespace schema;
  const Schema member = object({required("name", text()), required("relationship", text()),
                                required("education", text()), optional("birth_year", integer()),
                                optional("health", text()), required("id_number", text()),
                                optional("medical_insurance", boolean())});
  const Schema income = object({required("year", integer()), required("wages_fen", fen()),
                                required("own_business_fen", fen()),
                                required("property_fen", fen()), required("transfers_fen", fen())});
  const Schema helper =
      object({required("name", text()), required("phone", text()), optional("account_id", id())});
  return object(
      {required("id", id()), required("village_code", text()), required("head_name", text()),
       required("phone", text()), required("member_count", integer(0)),
       required("status", poverty_status_schema()), required("members", array(member)),
       optional("causes", array(choice(mk::poverty_causes()))),
       optional("land_mu_hundredths", integer(0)), optional("housing", text()),
       optional("drinking_water", text()), optional("income", income), required("helper", helper)});
}

void write_record(JsonWriter& w, const mk::HouseholdRecord& r, View view) {
  const bool full = view == View::full;
  const auto& h = r.household;
  const auto& c = r.card;
  w.begin_object().field("id", h.id.value).field("village_code", h.village_code);
  w.field("head_name", full ? h.head_name : mask_name(h.head_name));
  w.field("phone", full ? h.phone : mask_phone(h.phone));
  w.field("member_count", h.member_count).field("status", mk::to_string(h.status));
  w.key("members").begin_array();
  for (const auto& m : c.members) {
    w.begin_object()
        .field("name", full ? m.name : mask_name(m.name))
        .field("relationship", m.relationship);
    w.field("education", m.education);
    // Health and age are sensitive personal information: only for those who need them. A
    // birth year beside a masked name and village would single a person out.
    if (full) {
      w.field("birth_year", m.birth_year).field("health", m.health).field("id_number", m.id_number);
      w.field("medical_insurance", m.medical_insurance);
    } else {
      w.field("id_number", mask_id_number(m.id_number));
    }
    w.end_object();
  }
  w.end_array();
  if (full) {
    w.key("causes").begin_array();
    for (const auto& cause : c.causes) w.value(cause);
    w.end_array();
    w.field("land_mu_hundredths", c.land_mu_hundredths)
        .field("housing", c.housing)
        .field("drinking_water", c.drinking_water);
    w.key("income")
        .begin_object()
        .field("year", c.income.year)
        .field("wages_fen", c.income.wages.fen());
    w.field("own_business_fen", c.income.own_business.fen())
        .field("property_fen", c.income.property.fen());
    w.field("transfers_fen", c.income.transfers.fen()).end_object();
  }
  w.key("helper")
      .begin_object()
      .field("name", c.helper_name)
      .field("phone", full ? c.helper_phone : mask_phone(c.helper_phone));
  if (c.helper_account) w.field("account_id", *c.helper_account);
  w.end_object().end_object();
}

// The helper a card names is linked to the helper account with that phone; an account
// named outright must be a helper's.
Status resolve_helper(db::Session& tx, mk::ArchiveCard& card) {
  if (card.helper_account) {
    auto a = CUNHUO_TRY(Auth::find_account(tx, *card.helper_account));
    if (!a || a->role != Role::helper)
      return make_error(ErrorKind::invalid, "not_a_helper", "no helper account with this id",
                        "card.helper.account_id");
    return {};
  }
  if (card.helper_phone.empty()) return {};
  auto a = CUNHUO_TRY(Auth::find_account_by_phone(tx, card.helper_phone));
  if (a && a->role == Role::helper) card.helper_account = a->id;
  return {};
}

// A card as mk::archive_card_from_json reads it: shapes and types only, since the archive
// checks the values (and keeps their lists and limits) with its own codes and fields.
schema::Schema card_schema() {
  using namespace schema;
  const Schema member = object({required("name", text()), required("relationship", text()),
                                required("birth_year", integer()), required("health", text()),
                                required("education", text()), required("id_number", text()),
                                required("medical_insurance", boolean())});
  const Schema income =
      object({required("year", integer()), required("wages_fen", integer()),
              required("own_business_fen", integer()), required("property_fen", integer()),
              required("transfers_fen", integer())});
  const Schema helper =
      object({optional("name", text()), optional("phone", text()), optional("account_id", id())});
  return object({required("members", array(member)), optional("causes", array(text())),
                 required("land_mu_hundredths", integer()), required("housing", text()),
                 required("drinking_water", text()), required("income", income),
                 optional("helper", helper)});
}

schema::Schema new_household_schema() {
  using namespace schema;
  return object({required("village_code", text(kVillageCodeDigits)),
                 required("phone", text(kMaxPhoneBytes)),
                 required("status", text(kMaxStatusBytes).described("a registration status")),
                 required("card", card_schema())});
}

Result<Response> create(Context& ctx, const Call& call) {
  const Request& req = call.request;
  const Account& account = call.caller();
  auto doc = CUNHUO_TRY(Json::parse(req.body));
  auto body = CUNHUO_TRY(FieldReader::root(doc));
  CUNHUO_CHECK(body.only({"village_code", "phone", "status", "card"}));
  mk::NewHousehold h;
  h.village_code = CUNHUO_TRY(body.string("village_code", kVillageCodeDigits));
  h.phone = CUNHUO_TRY(body.string("phone", kMaxPhoneBytes));
  const std::string status = CUNHUO_TRY(body.string("status", kMaxStatusBytes));
  h.status = CUNHUO_TRY(mk::parse_poverty_status(status));
  auto card = CUNHUO_TRY(mk::archive_card_from_json(CUNHUO_TRY(body.object("card"))));
  if (!region_within(h.village_code, account.region_code))
    return make_error(ErrorKind::forbidden, "outside_your_area",
                      "this village is outside your area", "village_code");
  return ctx.db.write([&](db::Session& tx) -> Result<Response> {
    CUNHUO_CHECK(resolve_helper(tx, card));
    auto id = CUNHUO_TRY(
        mk::register_household(tx, h, card, "account:" + std::to_string(account.id), ctx.clock));
    auto record = CUNHUO_TRY(mk::find_household_record(tx, id));
    JsonWriter w;
    write_record(w, *record, View::full);
    return Response::json(201, w.take());
  });
}

Result<Response> get(Context& ctx, const Call& call) {
  const Request& req = call.request;
  const Account& account = call.caller();
  auto id = CUNHUO_TRY(household_id(req));
  auto record =
      CUNHUO_TRY(ctx.db.read([&](db::Session& s) { return mk::find_household_record(s, id); }));
  const View view = record ? view_for(account, *record) : View::none;
  if (view == View::none) return make_error(ErrorKind::not_found, "not_found", "no such household");
  JsonWriter w;
  write_record(w, *record, view);
  return Response::json(200, w.take());
}

schema::Schema card_change_schema() {
  using namespace schema;
  return object({required("card", card_schema()),
                 optional("status", text(kMaxStatusBytes).described("a registration status")),
                 required("reason", text(kMaxReasonBytes))});
}

Result<Response> update(Context& ctx, const Call& call) {
  const Request& req = call.request;
  const Account& account = call.caller();
  auto id = CUNHUO_TRY(household_id(req));
  auto doc = CUNHUO_TRY(Json::parse(req.body));
  auto body = CUNHUO_TRY(FieldReader::root(doc));
  CUNHUO_CHECK(body.only({"card", "status", "reason"}));
  auto card = CUNHUO_TRY(mk::archive_card_from_json(CUNHUO_TRY(body.object("card"))));
  std::optional<mk::PovertyStatus> status;
  if (auto s = CUNHUO_TRY(body.optional_string("status", kMaxStatusBytes)))
    status = CUNHUO_TRY(mk::parse_poverty_status(*s));
  const std::string reason = CUNHUO_TRY(body.string("reason", kMaxReasonBytes));
  return ctx.db.write([&](db::Session& tx) -> Result<Response> {
    auto current = CUNHUO_TRY(mk::find_household(tx, id));
    if (!current || !region_within(current->village_code, account.region_code))
      return make_error(ErrorKind::not_found, "not_found", "no such household");
    CUNHUO_CHECK(resolve_helper(tx, card));
    auto record = CUNHUO_TRY(mk::update_household_record(
        tx, id, card, status, "account:" + std::to_string(account.id), reason, ctx.clock));
    JsonWriter w;
    write_record(w, record, View::full);
    return Response::json(200, w.take());
  });
}

// The audit trail as audit_trail writes it.
schema::Schema audit_schema() {
  using namespace schema;
  return list_of("entries", object({required("at", utc_time()), required("actor", text()),
                                    required("field", text()), required("old", text()),
                                    required("new", text()), required("reason", text())}));
}

Result<Response> audit_trail(Context& ctx, const Call& call) {
  const Request& req = call.request;
  const Account& account = call.caller();
  auto id = CUNHUO_TRY(household_id(req));
  return ctx.db.read([&](db::Session& s) -> Result<Response> {
    auto household = CUNHUO_TRY(mk::find_household(s, id));
    if (!household || !region_within(household->village_code, account.region_code))
      return make_error(ErrorKind::not_found, "not_found", "no such household");
    JsonWriter w;
    w.begin_object().key("entries").begin_array();
    for (const auto& e : CUNHUO_TRY(mk::household_audit(s, id))) {
      w.begin_object()
          .field("at", format_utc(e.at_ms))
          .field("actor", e.actor)
          .field("field", e.field);
      w.field("old", e.old_value).field("new", e.new_value).field("reason", e.reason).end_object();
    }
    w.end_array().end_object();
    return Response::json(200, w.take());
  });
}

schema::Schema issue_schema() {
  using namespace schema;
  return object({required("id", id()), required("kind", choice({"duplicate_phone", "suspect"})),
                 required("household_id", id()), optional("other_household_id", id()),
                 required("village_code", text()), required("detail", text()),
                 required("resolved", boolean()), optional("action", text()),
                 optional("reason", text()), required("created_at", utc_time())});
}

// `other_visible`: the other household lies in the reader's area. One outside it is not
// named, so that an office cannot learn where else a phone stands.
void write_issue(JsonWriter& w, const mk::RegistryIssue& i, bool other_visible) {
  w.begin_object().field("id", i.id.value).field("kind", mk::to_string(i.kind));
  w.field("household_id", i.household.value);
  if (i.other && other_visible) w.field("other_household_id", i.other->value);
  w.field("village_code", i.village_code).field("detail", i.detail);
  w.field("resolved", i.resolved);
  if (i.resolved) w.field("action", i.action).field("reason", i.reason);
  w.field("created_at", format_utc(i.created_at_ms)).end_object();
}

// Duplicates and suspect cards of the office's own area, in the order they were raised.
Result<Response> list_issues(Context& ctx, const Call& call) {
  const Request& req = call.request;
  const Account& account = call.caller();
  mk::IssueQuery q{.region_code = account.region_code};
  const auto kind = req.query_param("kind");
  if (kind) q.kind = CUNHUO_TRY(mk::parse_issue_kind(*kind));
  const std::string list_name = "registry_issues|" + account.region_code + "|" + kind.value_or("");
  auto page = CUNHUO_TRY(
      read_page(req.query_param("limit"), req.query_param("cursor"), ctx.cursors, list_name, 1));
  q.limit = page.limit + 1;  // one more says whether another page follows
  if (page.after) q.after_id = page.after->front();
  std::map<std::int64_t, mk::HouseholdPlace> others;
  auto issues =
      CUNHUO_TRY(ctx.db.read([&](db::Session& s) -> Result<std::vector<mk::RegistryIssue>> {
        auto found = CUNHUO_TRY(mk::list_issues(s, q));
        std::vector<std::int64_t> ids;
        for (const auto& i : found)
          if (i.other) ids.push_back(i.other->value);
        others = CUNHUO_TRY(mk::household_places(s, ids));
        return found;
      }));
  const bool more = static_cast<std::int64_t>(issues.size()) > page.limit;
  if (more) issues.pop_back();
  auto in_area = [&](const mk::RegistryIssue& i) {
    const auto place = i.other ? others.find(i.other->value) : others.end();
    return place != others.end() && region_within(place->second.village_code, account.region_code);
  };
  JsonWriter w;
  w.begin_object().key("items").begin_array();
  for (const auto& i : issues) write_issue(w, i, in_area(i));
  w.end_array().key("next_cursor");
  if (more)
    w.value(ctx.cursors.seal(list_name, {issues.back().id.value}));
  else
    w.null();
  w.end_object();
  return Response::json(200, w.take());
}

constexpr std::int64_t kMinuteMs = 60 * 1000;

// Looks through the office's area for what was stored before the checks (old data), a
// batch of households per transaction; one scan of an area at a time, and not too often.
Result<Response> scan(Context& ctx, const Call& call) {
  const Account& account = call.caller();
  auto done =
      CUNHUO_TRY(mk::scan_registry(ctx.db, account.region_code, mk::kRegistryScanBatch, ctx.clock));
  JsonWriter w;
  w.begin_object().field("raised", done.raised).field("households", done.households).end_object();
  return Response::json(200, w.take());
}

schema::Schema resolution_schema() {
  using namespace schema;
  return object({required("action", choice({"merge", "correct"})),
                 required("reason", text(mk::kMaxResolutionReasonBytes, 1)),
                 optional("into_household_id", id()), optional("household_id", id()),
                 optional("field", name_among(kMaxCorrectedFieldBytes, {"phone", "id_number"})),
                 optional("value", text(kMaxCorrectedValueBytes)),
                 optional("member_index", integer(0, 29))});
}

Result<mk::Resolution> resolution_from(const FieldReader& body) {
  mk::Resolution r;
  const std::string action = CUNHUO_TRY(body.string("action", kMaxActionBytes));
  if (action != "merge" && action != "correct")
    return make_error(ErrorKind::invalid, "invalid_choice", "merge or correct", "action");
  r.action = action == "merge" ? mk::ResolutionAction::merge : mk::ResolutionAction::correct;
  r.reason = CUNHUO_TRY(body.string("reason", mk::kMaxResolutionReasonBytes));
  if (auto v = CUNHUO_TRY(body.optional_integer("into_household_id", 1, INT64_MAX)))
    r.into = mk::HouseholdId{*v};
  if (auto v = CUNHUO_TRY(body.optional_integer("household_id", 1, INT64_MAX)))
    r.household = mk::HouseholdId{*v};
  r.field = CUNHUO_TRY(body.optional_string("field", kMaxCorrectedFieldBytes)).value_or("");
  r.value = CUNHUO_TRY(body.optional_string("value", kMaxCorrectedValueBytes)).value_or("");
  r.member_index =
      static_cast<int>(CUNHUO_TRY(body.optional_integer("member_index", 0, 29)).value_or(0));
  if (r.action == mk::ResolutionAction::correct && r.field.empty())
    return make_error(ErrorKind::invalid, "missing_field", "name the field to correct", "field");
  return r;
}

// Both households of an issue must lie in the office's area for it to merge or correct them.
Result<Response> resolve(Context& ctx, const Call& call) {
  const Account& account = call.caller();
  const mk::IssueId id{CUNHUO_TRY(path_id(call.request))};
  auto doc = CUNHUO_TRY(Json::parse(call.request.body));
  const auto how = CUNHUO_TRY(resolution_from(CUNHUO_TRY(FieldReader::root(doc))));
  std::vector<std::int64_t> moved;
  auto answer = ctx.db.write([&](db::Session& tx) -> Result<Response> {
    moved.clear();  // a retried transaction starts afresh
    auto resolved = CUNHUO_TRY(resolve_issue_as(tx, account, id, how, ctx.clock));
    moved = std::move(resolved.moved_accounts);
    // Their next request, through any process, reads the household they now belong to.
    for (auto account_id : moved) CUNHUO_CHECK(Auth::account_changed(tx, account_id, ctx.clock));
    JsonWriter w;
    write_issue(w, resolved.issue, true);  // both households lie in the area (checked)
    return Response::json(200, w.take());
  });
  return answer;
}

}  // namespace

void add_registry_routes(RouteTable& table, db::Database& db, const Clock& clock, Auth& auth,
                         const CursorSeal& cursors) {
  Context ctx{db, clock, auth, cursors};
  auto bind = [ctx](auto fn) {
    return [ctx, fn](const Call& call) mutable { return fn(ctx, call); };
  };
  table.add({.method = "POST",
             .pattern = "/api/v1/households",
             .access = only({Role::poverty_office}),
             .body = Body::json,
             .request_schema = new_household_schema(),
             .response_schema = record_schema(),
             .success_status = 201,
             .summary = "Register a household with its archive card (office)",
             .handler = bind(create)});
  table.add({.method = "GET",
             .pattern = "/api/v1/households/:id",
             .access = signed_in(),
             .response_schema = record_schema(),
             .summary = "A household's card: whole for the office and the household, masked for "
                        "the county centre",
             .handler = bind(get)});
  table.add({.method = "PATCH",
             .pattern = "/api/v1/households/:id",
             .access = only({Role::poverty_office}),
             .body = Body::json,
             .request_schema = card_change_schema(),
             .response_schema = record_schema(),
             .summary = "Change a card (office); every changed field is audited",
             .handler = bind(update)});
  table.add({.method = "GET",
             .pattern = "/api/v1/households/:id/audit",
             .access = only({Role::poverty_office}),
             .response_schema = audit_schema(),
             .summary = "The card's audit trail (office)",
             .handler = bind(audit_trail)});
  table.add({.method = "GET",
             .pattern = "/api/v1/registry/issues",
             .access = only({Role::poverty_office}),
             .response_schema = schema::object(
                 {schema::required("items", schema::array(issue_schema())),
                  schema::required("next_cursor", schema::nullable(schema::text()))}),
             .query = {{.name = "kind", .description = "duplicate_phone or suspect"},
                       {.name = "cursor", .description = "from the previous page"},
                       {.name = "limit", .type = "integer", .description = "1 to 100"}},
             .errors = {"invalid_kind", "invalid_cursor"},
             .summary = "Shared phones and suspect cards of your area (office)",
             .handler = bind(list_issues)});
  table.add({.method = "POST",
             .pattern = "/api/v1/registry/issues/scan",
             .access = only({Role::poverty_office}),
             .response_schema = schema::object(
                 {schema::required("raised", schema::integer(0).described("issues raised")),
                  schema::required("households", schema::integer(0).described("looked at"))}),
             .errors = {std::string(mk::kScanRunning), std::string(mk::kScanTooSoon)},
             .summary = "Look through your area's cards stored before the checks, in batches; "
                        "one scan of an area at a time, at most one start every " +
                        std::to_string(mk::kMinRegistryScanIntervalMs / kMinuteMs) +
                        " minutes (office)",
             .handler = bind(scan)});
  table.add({.method = "POST",
             .pattern = "/api/v1/registry/issues/:id/resolution",
             .access = only({Role::poverty_office}),
             .body = Body::json,
             .request_schema = resolution_schema(),
             .response_schema = issue_schema(),
             .errors = {"issue_resolved", "nothing_to_merge", "card_missing", "outside_your_area",
                        "invalid_id_number", "id_number_taken", "invalid_phone"},
             .summary = "Resolve an issue: merge two households or correct a field, with a reason",
             .handler = bind(resolve)});
}

}  // namespace cunhuo::storefront
