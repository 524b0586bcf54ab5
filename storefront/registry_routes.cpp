#include "storefront/registry_routes.hpp"

#include <charconv>

#include "core/json.hpp"
#include "core/privacy.hpp"
#include "core/region.hpp"
#include "marketplace/archive.hpp"
#include "storefront/route_support.hpp"

namespace cunhuo::storefront {
namespace {

namespace mk = cunhuo::marketplace;

struct Context {
  db::Database& db;
  const Clock& clock;
  Auth& auth;
};

enum class View { full, masked };

Result<mk::HouseholdId> household_id(const Request& req) {
  const std::string& text = req.params.at("id");
  std::int64_t id = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), id);
  if (ec != std::errc{} || end != text.data() + text.size() || id <= 0)
    return make_error(ErrorKind::not_found, "not_found", "no such household");
  return mk::HouseholdId{id};
}

bool is_office(const Account& a) { return a.role == Role::poverty_office; }

// The office sees its own area whole; the household's own farmers see their card whole;
// the county centre sees its area masked, and so does the household's assigned helper;
// everyone else sees nothing.
std::optional<View> view_for(const Account& a, const mk::HouseholdRecord& r) {
  const auto& h = r.household;
  if (is_office(a) && region_within(h.village_code, a.region_code)) return View::full;
  if (a.role == Role::farmer && a.household_id && *a.household_id == h.id.value) return View::full;
  if (a.role == Role::county_centre && region_within(h.village_code, a.region_code)) return View::masked;
  if (a.role == Role::helper && r.card.helper_account == a.id) return View::masked;
  return std::nullopt;
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
    w.begin_object().field("name", full ? m.name : mask_name(m.name)).field("relationship", m.relationship);
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
    w.field("land_mu_hundredths", c.land_mu_hundredths).field("housing", c.housing).field("drinking_water", c.drinking_water);
    w.key("income").begin_object().field("year", c.income.year).field("wages_fen", c.income.wages.fen());
    w.field("own_business_fen", c.income.own_business.fen()).field("property_fen", c.income.property.fen());
    w.field("transfers_fen", c.income.transfers.fen()).end_object();
  }
  w.key("helper").begin_object().field("name", c.helper_name).field("phone", full ? c.helper_phone : mask_phone(c.helper_phone));
  if (c.helper_account) w.field("account_id", *c.helper_account);
  w.end_object().end_object();
}

// The helper a card names is linked to the helper account with that phone; an account
// named outright must be a helper's.
Status resolve_helper(db::Session& tx, mk::ArchiveCard& card) {
  if (card.helper_account) {
    auto a = CUNHUO_TRY(Auth::find_account(tx, *card.helper_account));
    if (!a || a->role != Role::helper) return make_error(ErrorKind::invalid, "not_a_helper", "no helper account with this id", "card.helper.account_id");
    return {};
  }
  if (card.helper_phone.empty()) return {};
  auto a = CUNHUO_TRY(Auth::find_account_by_phone(tx, card.helper_phone));
  if (a && a->role == Role::helper) card.helper_account = a->id;
  return {};
}

Result<Response> create(Context& ctx, const Call& call) {
  const Request& req = call.request;
  const Account& account = call.caller();
  auto doc = CUNHUO_TRY(Json::parse(req.body));
  auto body = CUNHUO_TRY(FieldReader::root(doc));
  CUNHUO_CHECK(body.only({"village_code", "phone", "status", "card"}));
  mk::NewHousehold h;
  h.village_code = CUNHUO_TRY(body.string("village_code", 12));
  h.phone = CUNHUO_TRY(body.string("phone", 20));
  h.status = CUNHUO_TRY(mk::parse_poverty_status(CUNHUO_TRY(body.string("status", 30))));
  auto card = CUNHUO_TRY(mk::archive_card_from_json(CUNHUO_TRY(body.object("card"))));
  if (!region_within(h.village_code, account.region_code))
    return make_error(ErrorKind::forbidden, "outside_your_area", "this village is outside your area", "village_code");
  return ctx.db.write([&](db::Session& tx) -> Result<Response> {
    CUNHUO_CHECK(resolve_helper(tx, card));
    auto id = CUNHUO_TRY(mk::register_household(tx, h, card, "account:" + std::to_string(account.id), ctx.clock));
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
  auto record = CUNHUO_TRY(ctx.db.read([&](db::Session& s) { return mk::find_household_record(s, id); }));
  auto view = record ? view_for(account, *record) : std::nullopt;
  if (!view) return make_error(ErrorKind::not_found, "not_found", "no such household");
  JsonWriter w;
  write_record(w, *record, *view);
  return Response::json(200, w.take());
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
  if (auto s = CUNHUO_TRY(body.optional_string("status", 30))) status = CUNHUO_TRY(mk::parse_poverty_status(*s));
  const std::string reason = CUNHUO_TRY(body.string("reason", 500));
  return ctx.db.write([&](db::Session& tx) -> Result<Response> {
    auto current = CUNHUO_TRY(mk::find_household(tx, id));
    if (!current || !region_within(current->village_code, account.region_code))
      return make_error(ErrorKind::not_found, "not_found", "no such household");
    CUNHUO_CHECK(resolve_helper(tx, card));
    auto record = CUNHUO_TRY(mk::update_household_record(tx, id, card, status, "account:" + std::to_string(account.id),
                                                         reason, ctx.clock));
    JsonWriter w;
    write_record(w, record, View::full);
    return Response::json(200, w.take());
  });
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
      w.begin_object().field("at", format_utc(e.at_ms)).field("actor", e.actor).field("field", e.field);
      w.field("old", e.old_value).field("new", e.new_value).end_object();
    }
    w.end_array().end_object();
    return Response::json(200, w.take());
  });
}

}  // namespace

void add_registry_routes(RouteTable& table, db::Database& db, const Clock& clock, Auth& auth) {
  Context ctx{db, clock, auth};
  auto bind = [ctx](auto fn) { return [ctx, fn](const Call& call) mutable { return fn(ctx, call); }; };
  table.add({.method = "POST",
             .pattern = "/api/v1/households",
             .access = only({Role::poverty_office}),
             .body = Body::json,
             .summary = "Register a household with its archive card (office)",
             .handler = bind(create)});
  table.add({.method = "GET",
             .pattern = "/api/v1/households/:id",
             .access = signed_in(),
             .summary = "A household's card: whole for the office and the household, masked for the county centre",
             .handler = bind(get)});
  table.add({.method = "PATCH",
             .pattern = "/api/v1/households/:id",
             .access = only({Role::poverty_office}),
             .body = Body::json,
             .summary = "Change a card (office); every changed field is audited",
             .handler = bind(update)});
  table.add({.method = "GET",
             .pattern = "/api/v1/households/:id/audit",
             .access = only({Role::poverty_office}),
             .summary = "The card's audit trail (office)",
             .handler = bind(audit_trail)});
}

}  // namespace cunhuo::storefront
