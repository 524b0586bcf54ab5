#include "storefront/registry_routes.hpp"

#include <charconv>

#include "core/json.hpp"
#include "core/privacy.hpp"
#include "core/region.hpp"
#include "marketplace/archive.hpp"
#include "storefront/policy.hpp"
#include "storefront/route_support.hpp"

namespace cunhuo::storefront {
namespace {

namespace mk = cunhuo::marketplace;

// Limits of the fields these routes read themselves (the card's are the archive's): the
// handler reads with each and the operation's schema publishes it.
constexpr std::size_t kMaxPhoneBytes = 20;
constexpr std::size_t kMaxStatusBytes = 30;  // a registration status, read before it is parsed
constexpr std::size_t kMaxReasonBytes = 500;

struct Context {
  db::Database& db;
  const Clock& clock;
  Auth& auth;
};

Result<mk::HouseholdId> household_id(const Request& req) {
  const std::string& text = req.params.at("id");
  std::int64_t id = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), id);
  if (ec != std::errc{} || end != text.data() + text.size() || id <= 0)
    return make_error(ErrorKind::not_found, "not_found", "no such household");
  return mk::HouseholdId{id};
}

// Where the caller stands to the household; the policy table (policy.hpp) says what that shows.
Relation relation_to(const Account& a, const mk::HouseholdRecord& r) {
  if (a.household_id && *a.household_id == r.household.id.value) return Relation::own;
  if (r.card.helper_account && *r.card.helper_account == a.id) return Relation::assigned;
  if (!a.region_code.empty() && region_within(r.household.village_code, a.region_code))
    return Relation::in_area;
  return Relation::unrelated;
}

View view_for(const Account& a, const mk::HouseholdRecord& r) {
  return view_of(ObjectKind::household_card, a.role, relation_to(a, r));
}

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
                                    required("new", text())}));
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
      w.field("old", e.old_value).field("new", e.new_value).end_object();
    }
    w.end_array().end_object();
    return Response::json(200, w.take());
  });
}

}  // namespace

void add_registry_routes(RouteTable& table, db::Database& db, const Clock& clock, Auth& auth) {
  Context ctx{db, clock, auth};
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
}

}  // namespace cunhuo::storefront
